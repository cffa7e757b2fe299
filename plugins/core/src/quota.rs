//! What a rate-limit caller asks for ([`Quota`]) and what it gets back
//! ([`Decision`]), with the rules a quota must meet.
//!
//! They live here rather than in the rate-limit plugin so that every GCRA
//! in Warden (the plugin's backends and the SDK's native stand-in used by
//! function unit tests) accepts and refuses exactly the same quotas.

use std::time::Duration;

/// Longest period a quota may have.
const MAX_PERIOD: Duration = Duration::from_secs(366 * 24 * 60 * 60);
/// Largest bucket, in microseconds of "credit": keeps the Redis script's
/// arithmetic (Lua doubles) exact.
const MAX_TOLERANCE_MICROS: u128 = 1 << 50;

/// A rate: `count` units per `period`, with bursts up to `burst` units.
///
/// `burst` is the bucket size: how many units may be spent at once after a
/// quiet spell. It defaults to `count` ("100 per minute" allows 100 at
/// once, then refills at one every 600 ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Units granted per `period` (at least 1).
    pub count: u32,
    /// The period over which `count` units refill (1 ms ..= 366 days).
    pub period: Duration,
    /// Bucket size (at least 1).
    pub burst: u32,
}

impl Quota {
    /// `count` units per `period`, burst `count`.
    pub fn new(count: u32, period: Duration) -> Self {
        Self {
            count,
            period,
            burst: count,
        }
    }

    /// `rate` units per second, burst `rate`.
    pub fn per_second(rate: u32) -> Self {
        Self::new(rate, Duration::from_secs(1))
    }

    /// The same rate with another bucket size.
    pub fn with_burst(self, burst: u32) -> Self {
        Self { burst, ..self }
    }

    /// Time between two units: `period / count`, in nanoseconds (the
    /// `interval` of [`gcra::step`](crate::gcra::step)).
    pub fn interval_nanos(&self) -> u64 {
        let nanos = self.period.as_nanos() / u128::from(self.count.max(1));
        u64::try_from(nanos).unwrap_or(u64::MAX)
    }

    /// Checks the quota and that `cost` can ever be allowed.
    ///
    /// Run it before [`gcra::step`](crate::gcra::step): the step assumes
    /// an interval of at least a microsecond and a bucket whose credit fits
    /// the Redis script's exact arithmetic.
    pub fn validate(&self, cost: u32) -> Result<(), QuotaError> {
        if self.count == 0 {
            return Err(QuotaError::Invalid("count must be at least 1"));
        }
        if self.burst == 0 {
            return Err(QuotaError::Invalid("burst must be at least 1"));
        }
        if self.period < Duration::from_millis(1) || self.period > MAX_PERIOD {
            return Err(QuotaError::Invalid("period must be 1ms..=366 days"));
        }
        if self.interval_nanos() < 1_000 {
            return Err(QuotaError::Invalid(
                "rate must be at most 1,000,000 per second",
            ));
        }
        let tolerance = u128::from(self.interval_nanos() / 1_000) * u128::from(self.burst);
        if tolerance > MAX_TOLERANCE_MICROS {
            return Err(QuotaError::Invalid("burst too large for this rate"));
        }
        if cost > self.burst {
            return Err(QuotaError::CostExceedsBurst {
                cost,
                burst: self.burst,
            });
        }
        Ok(())
    }
}

/// Why a quota (or a cost under it) cannot be enforced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuotaError {
    /// The quota itself is out of range (zero count, period out of range,
    /// ...); the text says which rule it breaks.
    #[error("invalid quota: {0}")]
    Invalid(&'static str),
    /// More units were asked for than the bucket can ever hold, so the call
    /// could never be allowed; reported rather than denied forever.
    #[error("cost {cost} exceeds the burst {burst}")]
    CostExceedsBurst {
        /// The requested cost.
        cost: u32,
        /// The quota's burst.
        burst: u32,
    },
}

/// The answer to one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the units were consumed and the request may proceed.
    pub allowed: bool,
    /// Bucket size (the quota's burst), for `RateLimit-Policy`.
    pub limit: u32,
    /// Units that could be spent right now, after this call.
    pub remaining: u32,
    /// When denied: how long until the same call would be allowed
    /// (`Retry-After`). Zero when allowed.
    pub retry_after: Duration,
    /// How long until the bucket is full again (`RateLimit` `t=`).
    pub reset_after: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_refuses_what_cannot_be_enforced() {
        let ok = Quota::per_second(10);
        assert_eq!(ok.validate(10), Ok(()));
        assert_eq!(ok.interval_nanos(), 100_000_000);
        assert_eq!(
            ok.validate(11),
            Err(QuotaError::CostExceedsBurst {
                cost: 11,
                burst: 10
            })
        );
        assert!(matches!(
            Quota::per_second(0).validate(0),
            Err(QuotaError::Invalid(_))
        ));
        assert!(matches!(
            ok.with_burst(0).validate(0),
            Err(QuotaError::Invalid(_))
        ));
        assert!(matches!(
            Quota::new(1, Duration::from_micros(999)).validate(1),
            Err(QuotaError::Invalid(_))
        ));
        assert!(matches!(
            Quota::per_second(1_000_001).validate(1),
            Err(QuotaError::Invalid(_))
        ));
        assert!(matches!(
            Quota::new(1, MAX_PERIOD).with_burst(u32::MAX).validate(1),
            Err(QuotaError::Invalid(_))
        ));
    }
}

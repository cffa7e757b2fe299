//! What a caller asks for ([`Quota`]) and what it gets back ([`Decision`]).

use std::time::Duration;

use crate::RateLimitError;

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

    /// Time between two units: `period / count`, in nanoseconds.
    pub(crate) fn interval_nanos(&self) -> u64 {
        let nanos = self.period.as_nanos() / u128::from(self.count.max(1));
        u64::try_from(nanos).unwrap_or(u64::MAX)
    }

    /// Checks the quota and that `cost` can ever be allowed.
    pub(crate) fn validate(&self, cost: u32) -> Result<(), RateLimitError> {
        if self.count == 0 {
            return Err(RateLimitError::InvalidQuota("count must be at least 1"));
        }
        if self.burst == 0 {
            return Err(RateLimitError::InvalidQuota("burst must be at least 1"));
        }
        if self.period < Duration::from_millis(1) || self.period > MAX_PERIOD {
            return Err(RateLimitError::InvalidQuota(
                "period must be 1ms..=366 days",
            ));
        }
        if self.interval_nanos() < 1_000 {
            return Err(RateLimitError::InvalidQuota(
                "rate must be at most 1,000,000 per second",
            ));
        }
        let tolerance = u128::from(self.interval_nanos() / 1_000) * u128::from(self.burst);
        if tolerance > MAX_TOLERANCE_MICROS {
            return Err(RateLimitError::InvalidQuota(
                "burst too large for this rate",
            ));
        }
        if cost > self.burst {
            return Err(RateLimitError::CostExceedsBurst {
                cost,
                burst: self.burst,
            });
        }
        Ok(())
    }
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

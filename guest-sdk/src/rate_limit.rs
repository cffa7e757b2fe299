//! Rate limiting on the function's own keys (`warden:platform/rate-limit`).
//!
//! A [`Quota`] is a GCRA bucket: `count` units per `period`, with bursts up
//! to `burst` units. [`check`] spends `cost` units of the bucket named by
//! `key` (scoped by the host to the calling tenant) if they are available
//! and returns the [`Decision`]. Buckets are shared by every node when the
//! host runs with Redis.
//!
//! ```no_run
//! use warden_sdk::{HttpError, Request, Response, rate_limit};
//! use warden_sdk::rate_limit::Quota;
//!
//! const WRITES: Quota = Quota::per_second(20).with_burst(40);
//!
//! fn handle(req: Request) -> Result<Response, HttpError> {
//!     let client = req.header("x-client-id").unwrap_or("anonymous");
//!     rate_limit::check(&format!("writes:{client}"), &WRITES, 1)?.into_result()?;
//!     Ok(Response::text(200, "written\n"))
//! }
//! ```
//!
//! On native targets (unit tests) the same GCRA runs in memory, per
//! calling thread; see [`crate::testing`].

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::HttpError;
use crate::capability_error::{self, CapabilityError, Kind};

#[cfg(not(target_arch = "wasm32"))]
use crate::native::rate_limit as sys;
#[cfg(target_arch = "wasm32")]
use wasm as sys;

/// A rate: `count` units per `period`, with bursts up to `burst` units.
///
/// `burst` is the bucket size, how many units may be spent at once after a
/// quiet spell; it defaults to `count`. The host accepts a count and burst
/// of at least 1 and a period of 1 ms to 366 days (sub-millisecond parts of
/// the period are dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    count: u32,
    period: Duration,
    burst: u32,
}

impl Quota {
    /// `count` units per `period`, burst `count`.
    pub const fn new(count: u32, period: Duration) -> Self {
        Self {
            count,
            period,
            burst: count,
        }
    }

    /// `count` units per second, burst `count`.
    pub const fn per_second(count: u32) -> Self {
        Self::new(count, Duration::from_secs(1))
    }

    /// `count` units per minute, burst `count`.
    pub const fn per_minute(count: u32) -> Self {
        Self::new(count, Duration::from_secs(60))
    }

    /// `count` units per hour, burst `count`.
    pub const fn per_hour(count: u32) -> Self {
        Self::new(count, Duration::from_secs(3600))
    }

    /// The same rate with bucket size `burst`.
    pub const fn with_burst(self, burst: u32) -> Self {
        Self { burst, ..self }
    }

    /// Units per period.
    pub const fn count(&self) -> u32 {
        self.count
    }

    /// The period over which `count` units refill.
    pub const fn period(&self) -> Duration {
        self.period
    }

    /// The bucket size.
    pub const fn burst(&self) -> u32 {
        self.burst
    }

    /// The period in whole milliseconds, as the host takes it.
    pub(crate) fn period_ms(&self) -> u64 {
        u64::try_from(self.period.as_millis()).unwrap_or(u64::MAX)
    }
}

/// The answer to a [`check`].
///
/// Serializes with snake_case field names and durations in milliseconds:
/// `{"allowed", "limit", "remaining", "retry_after_ms", "reset_after_ms"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Whether the cost was admitted (and consumed).
    pub allowed: bool,
    /// The quota's burst size.
    pub limit: u32,
    /// Units left in the bucket right now.
    pub remaining: u32,
    /// When denied: how long until the cost would be admitted.
    #[serde(rename = "retry_after_ms", serialize_with = "as_millis")]
    pub retry_after: Duration,
    /// How long until the bucket is full again.
    #[serde(rename = "reset_after_ms", serialize_with = "as_millis")]
    pub reset_after: Duration,
}

impl Decision {
    /// `Ok(self)` if allowed, else the 429 of [`to_http_error`](Self::to_http_error).
    /// Meant for `?` in handlers.
    pub fn into_result(self) -> Result<Self, HttpError> {
        if self.allowed {
            Ok(self)
        } else {
            Err(self.to_http_error())
        }
    }

    /// A 429 `rate_limited` error with `retry-after` (whole seconds, rounded
    /// up, at least 1) and the `ratelimit-limit`, `ratelimit-remaining` and
    /// `ratelimit-reset` headers.
    pub fn to_http_error(&self) -> HttpError {
        let retry_after = self.retry_after_secs();
        let error = HttpError::new(
            429,
            "rate_limited",
            format!("too many requests; retry in {retry_after} s"),
        )
        .with_header("retry-after", retry_after.to_string());
        self.headers()
            .into_iter()
            .fold(error, |error, (name, value)| error.with_header(name, value))
    }

    /// The draft-IETF `RateLimit` headers describing this decision, for
    /// successful responses too: `ratelimit-limit`, `ratelimit-remaining`,
    /// `ratelimit-reset` (seconds until the bucket is full, rounded up).
    pub fn headers(&self) -> [(&'static str, String); 3] {
        [
            ("ratelimit-limit", self.limit.to_string()),
            ("ratelimit-remaining", self.remaining.to_string()),
            ("ratelimit-reset", ceil_secs(self.reset_after).to_string()),
        ]
    }

    /// `retry_after` in whole seconds, rounded up, at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        ceil_secs(self.retry_after).max(1)
    }
}

/// `d` in whole seconds, rounded up, saturating.
fn ceil_secs(d: Duration) -> u64 {
    u64::try_from(d.as_nanos().div_ceil(1_000_000_000)).unwrap_or(u64::MAX)
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Why a check failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The key is empty or too long.
    InvalidKey(String),
    /// The quota is malformed (zero count, period or burst, or too long).
    InvalidQuota(String),
    /// The backend is unreachable right now.
    Unavailable(String),
    /// Anything else that went wrong in the host.
    Internal(String),
}

impl Error {
    /// The WIT name of the error case, kebab-case (`"invalid-quota"`, ...).
    pub fn code(&self) -> &'static str {
        self.kind_code()
    }

    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind_is_retryable()
    }
}

impl CapabilityError for Error {
    const CAPABILITY: &'static str = "rate limit";

    fn parts(&self) -> (Kind, &dyn fmt::Display) {
        match self {
            Error::InvalidKey(why) => (Kind::InvalidKey, why),
            Error::InvalidQuota(why) => (Kind::InvalidQuota, why),
            Error::Unavailable(why) => (Kind::Unavailable, why),
            Error::Internal(why) => (Kind::Internal, why),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        capability_error::fmt(self, f)
    }
}

impl std::error::Error for Error {}

/// For `?` in handlers: a bad key is 400, an unreachable backend 503 (with
/// `retry-after: 1`), the rest (a quota the function got wrong) 500.
impl From<Error> for HttpError {
    fn from(err: Error) -> Self {
        capability_error::to_http_error(&err)
    }
}

/// Checks the bucket `key` against `quota` and consumes `cost` units if
/// they are available. A denied check consumes nothing. A `cost` of 0
/// only reads the bucket.
pub fn check(key: &str, quota: &Quota, cost: u32) -> Result<Decision, Error> {
    sys::check(key, quota, cost)
}

/// The host calls.
#[cfg(target_arch = "wasm32")]
mod wasm {
    use std::time::Duration;

    use super::{Decision, Error, Quota};
    use crate::bindings::warden::platform::rate_limit as wit;

    pub fn check(key: &str, quota: &Quota, cost: u32) -> Result<Decision, Error> {
        let quota = wit::Quota {
            count: quota.count(),
            period_ms: quota.period_ms(),
            burst: quota.burst(),
        };
        match wit::check(key, quota, cost) {
            Ok(d) => Ok(Decision {
                allowed: d.allowed,
                limit: d.limit,
                remaining: d.remaining,
                retry_after: Duration::from_millis(d.retry_after_ms),
                reset_after: Duration::from_millis(d.reset_after_ms),
            }),
            Err(wit::Error::InvalidKey(why)) => Err(Error::InvalidKey(why)),
            Err(wit::Error::InvalidQuota(why)) => Err(Error::InvalidQuota(why)),
            Err(wit::Error::Unavailable(why)) => Err(Error::Unavailable(why)),
            Err(wit::Error::Internal(why)) => Err(Error::Internal(why)),
        }
    }
}

// These run against the native stand-ins.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn quota_builders() {
        const Q: Quota = Quota::per_second(20).with_burst(40);
        assert_eq!(
            (Q.count(), Q.period(), Q.burst()),
            (20, Duration::from_secs(1), 40)
        );
        assert_eq!(Quota::per_minute(5).burst(), 5);
        assert_eq!(Quota::new(1, Duration::from_micros(1500)).period_ms(), 1);
    }

    #[test]
    fn burst_then_denied_with_retry_after() {
        let quota = Quota::per_minute(60).with_burst(3);
        for left in [2, 1, 0] {
            let d = check("k", &quota, 1).expect("check");
            assert!(d.allowed);
            assert_eq!((d.limit, d.remaining), (3, left));
        }
        let denied = check("k", &quota, 1).expect("check");
        assert!(!denied.allowed);
        assert!(
            denied.retry_after > Duration::from_millis(900),
            "{denied:?}"
        );
        let err = denied.into_result().expect_err("denied");
        assert_eq!((err.status(), err.code()), (429, "rate_limited"));
        assert_eq!(err.headers().get("retry-after"), Some("1"));
        assert_eq!(err.headers().get("ratelimit-limit"), Some("3"));
        // Another key has its own bucket.
        assert!(check("other", &quota, 1).expect("check").allowed);
    }

    #[test]
    fn invalid_input_is_refused() {
        let zero = Quota::per_second(0);
        assert!(matches!(check("k", &zero, 1), Err(Error::InvalidQuota(_))));
        let quota = Quota::per_second(1);
        assert!(matches!(check("", &quota, 1), Err(Error::InvalidKey(_))));
        // The host's own rules: a cost over the burst could never pass, and
        // more than a million units a second is more than it enforces.
        assert!(matches!(check("k", &quota, 2), Err(Error::InvalidQuota(_))));
        let too_fast = Quota::per_second(2_000_000);
        assert!(matches!(
            check("k", &too_fast, 1),
            Err(Error::InvalidQuota(_))
        ));
        assert_eq!(
            HttpError::from(Error::InvalidQuota(String::new())).status(),
            500
        );
    }

    #[test]
    fn decision_serializes_in_milliseconds() {
        let d = Decision {
            allowed: false,
            limit: 2,
            remaining: 0,
            retry_after: Duration::from_millis(1500),
            reset_after: Duration::from_secs(2),
        };
        let json = serde_json::to_value(d).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({"allowed": false, "limit": 2, "remaining": 0,
                               "retry_after_ms": 1500, "reset_after_ms": 2000})
        );
        assert_eq!(d.retry_after_secs(), 2);
    }
}

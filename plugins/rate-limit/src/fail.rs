//! What to do when the shared limiter cannot answer.

use std::time::Duration;

use serde::Deserialize;

use crate::{Decision, Quota, RateLimitError};

/// How long a fail-closed denial asks the client to wait.
const CLOSED_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The caller's policy for [`RateLimitError::Unavailable`].
///
/// Open favours availability (a Redis outage does not take the platform
/// down, limits are briefly not enforced); closed favours protection
/// (abuse limits, paid quotas). The plugin never picks silently: it reports
/// `Unavailable` quickly and the caller applies this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailMode {
    /// Allow the request.
    #[default]
    Open,
    /// Deny the request, asking the client to retry in a second.
    Closed,
}

impl FailMode {
    /// Turns an `Unavailable` result into a decision per this policy; every
    /// other result passes through.
    pub fn apply(
        self,
        quota: &Quota,
        result: Result<Decision, RateLimitError>,
    ) -> Result<Decision, RateLimitError> {
        match result {
            Err(RateLimitError::Unavailable(reason)) => {
                tracing::warn!(%reason, mode = ?self, "rate limiter unavailable");
                Ok(self.decision(quota))
            }
            other => other,
        }
    }

    fn decision(self, quota: &Quota) -> Decision {
        match self {
            Self::Open => Decision {
                allowed: true,
                limit: quota.burst,
                remaining: quota.burst,
                retry_after: Duration::ZERO,
                reset_after: Duration::ZERO,
            },
            Self::Closed => Decision {
                allowed: false,
                limit: quota.burst,
                remaining: 0,
                retry_after: CLOSED_RETRY_AFTER,
                reset_after: CLOSED_RETRY_AFTER,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unavailable_is_rewritten() {
        let quota = Quota::per_second(5);
        let down = || Err(RateLimitError::Unavailable("down".into()));
        assert!(FailMode::Open.apply(&quota, down()).unwrap().allowed);
        let closed = FailMode::Closed.apply(&quota, down()).unwrap();
        assert!(!closed.allowed);
        assert_eq!(closed.retry_after, CLOSED_RETRY_AFTER);
        let invalid = FailMode::Open.apply(&quota, Err(RateLimitError::InvalidQuota("x")));
        assert!(matches!(invalid, Err(RateLimitError::InvalidQuota(_))));
    }
}

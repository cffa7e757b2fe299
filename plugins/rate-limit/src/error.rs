//! The one error type of the rate-limit capability.

use warden_plugin_core::{BackendError, BoxError, KeyError, QuotaError};

/// Why a rate-limit check could not be decided.
#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    /// The key breaks the shared key rules.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The quota cannot be enforced (zero count, period out of range, ...).
    #[error("invalid quota: {0}")]
    InvalidQuota(&'static str),
    /// More units were asked for than the bucket can ever hold, so the call
    /// could never be allowed; reported rather than denied forever.
    #[error("cost {cost} exceeds the burst {burst}")]
    CostExceedsBurst {
        /// The requested cost.
        cost: u32,
        /// The quota's burst.
        burst: u32,
    },
    /// The backend could not answer within its budget. Apply the
    /// configured [`crate::FailMode`].
    #[error("rate-limit backend unavailable: {0}")]
    Unavailable(String),
    /// The backend failed.
    #[error("rate-limit backend failed: {0}")]
    Backend(#[source] BoxError),
}

impl From<BackendError> for RateLimitError {
    fn from(error: BackendError) -> Self {
        match error {
            BackendError::Unavailable(reason) => Self::Unavailable(reason),
            BackendError::Failed(source) => Self::Backend(source),
        }
    }
}

/// The shared quota rules report through this crate's own variants, so
/// callers keep matching `InvalidQuota` and `CostExceedsBurst`.
impl From<QuotaError> for RateLimitError {
    fn from(error: QuotaError) -> Self {
        match error {
            QuotaError::Invalid(why) => Self::InvalidQuota(why),
            QuotaError::CostExceedsBurst { cost, burst } => Self::CostExceedsBurst { cost, burst },
        }
    }
}

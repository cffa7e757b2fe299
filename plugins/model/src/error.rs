//! The errors a model call hands to the guest, and the one of building.

use std::time::Duration;

/// Which deadline of a call fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutStage {
    /// The TCP connection to the provider was not up in time.
    Connect,
    /// No response headers (or, streaming, no first token) in time.
    FirstToken,
    /// The whole call, retries included, ran past its deadline.
    Total,
}

impl std::fmt::Display for TimeoutStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Connect => "connect",
            Self::FirstToken => "first token",
            Self::Total => "total",
        })
    }
}

/// Why a model call failed, in terms the guest can act on: wait and retry
/// (`RateLimited`, `BudgetExhausted`), degrade (`Unavailable`, `Timeout`),
/// or fix the request (`InvalidRequest`, `ContentTooLarge`). Only
/// `Internal` is the platform's fault, and its text is for the operator.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// A deadline fired.
    #[error("model call timed out ({0})")]
    Timeout(TimeoutStage),
    /// The provider (or this node's bulkhead for it) is saturated.
    #[error("model provider rate limited the call; retry after {retry_after:?}")]
    RateLimited {
        /// How long to wait before trying again.
        retry_after: Duration,
    },
    /// The tenant's token or request budget is spent for now.
    #[error("model budget exhausted; retry after {retry_after:?}")]
    BudgetExhausted {
        /// When the budget will allow this call again.
        retry_after: Duration,
    },
    /// The provider is failing (circuit breaker open, 5xx, unreachable).
    #[error("model provider unavailable: {0}")]
    Unavailable(String),
    /// The request is malformed or names an unknown alias.
    #[error("invalid model request: {0}")]
    InvalidRequest(String),
    /// The prompt is larger than the tenant may send.
    #[error("content too large: {0}")]
    ContentTooLarge(String),
    /// Something inside the platform failed.
    #[error("model call failed: {0}")]
    Internal(String),
}

/// Why [`crate::build`] refused a configuration: every problem found, so an
/// operator fixes them in one go.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid model configuration: {}", .0.join("; "))]
pub struct ConfigError(pub Vec<String>);

//! The one error type of the cache capability.

use warden_plugin_core::{BackendError, BoxError, KeyError};

/// Why a cache call failed. Input errors (`Key`, `ValueTooLarge`,
/// `InvalidTtl`) are the caller's to fix; `Unavailable` means "treat as a
/// miss and go on" for most callers; `Backend` is worth an alert.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The key breaks the shared key rules.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The value is larger than the configured cap.
    #[error("value is {len} bytes, the limit is {max}")]
    ValueTooLarge {
        /// Size of the rejected value, in bytes.
        len: usize,
        /// The configured cap, in bytes.
        max: usize,
    },
    /// The TTL is zero or longer than [`crate::MAX_TTL`].
    #[error("ttl {0:?} is outside 1ms..=30 days")]
    InvalidTtl(std::time::Duration),
    /// The backend could not be reached in time.
    #[error("cache backend unavailable: {0}")]
    Unavailable(String),
    /// The backend failed.
    #[error("cache backend failed: {0}")]
    Backend(#[source] BoxError),
}

impl From<BackendError> for CacheError {
    fn from(error: BackendError) -> Self {
        match error {
            BackendError::Unavailable(reason) => Self::Unavailable(reason),
            BackendError::Failed(source) => Self::Backend(source),
        }
    }
}

//! The one error type of the kv capability.

use warden_plugin_core::{BackendError, BoxError, KeyError};

/// Why a kv call failed.
#[derive(Debug, thiserror::Error)]
pub enum KvError {
    /// The key (or list prefix) breaks the shared key rules.
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
    /// `increment` on a value that is not a decimal `i64`.
    #[error("value is not an integer")]
    NotAnInteger,
    /// `increment` would leave the `i64` range.
    #[error("increment would overflow")]
    Overflow,
    /// The cursor was not produced by `list` (or was altered).
    #[error("invalid list cursor")]
    InvalidCursor,
    /// The backend could not be reached in time.
    #[error("kv backend unavailable: {0}")]
    Unavailable(String),
    /// The backend failed.
    #[error("kv backend failed: {0}")]
    Backend(#[source] BoxError),
}

impl From<BackendError> for KvError {
    fn from(error: BackendError) -> Self {
        match error {
            BackendError::Unavailable(reason) => Self::Unavailable(reason),
            BackendError::Failed(source) => Self::Backend(source),
        }
    }
}

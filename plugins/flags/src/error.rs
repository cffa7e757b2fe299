//! The one error type of the flags capability.

use warden_plugin_core::{BackendError, BoxError, KeyError};

/// Why a flags call failed.
#[derive(Debug, thiserror::Error)]
pub enum FlagError {
    /// The flag name breaks the shared key rules.
    #[error(transparent)]
    Name(#[from] KeyError),
    /// A definition is inconsistent; lists every problem found.
    #[error("invalid flag definition: {0}")]
    InvalidDefinition(String),
    /// The backend could not be reached in time.
    #[error("flags backend unavailable: {0}")]
    Unavailable(String),
    /// The backend failed (or holds a definition that does not parse).
    #[error("flags backend failed: {0}")]
    Backend(#[source] BoxError),
}

impl From<BackendError> for FlagError {
    fn from(error: BackendError) -> Self {
        match error {
            BackendError::Unavailable(reason) => Self::Unavailable(reason),
            BackendError::Failed(source) => Self::Backend(source),
        }
    }
}

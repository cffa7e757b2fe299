//! Failures of a backend, as distinct from invalid input.

/// A boxed error that can cross threads.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The backend behind a plugin failed.
///
/// The split matters to callers: `Unavailable` (unreachable, timed out) is
/// where an operator picks fail-open or fail-closed, and it heals by itself
/// once the backend is back; `Failed` is anything else (a corrupt file, an
/// unexpected reply) and deserves an alert.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The backend could not be reached within its time budget.
    #[error("backend unavailable: {0}")]
    Unavailable(String),
    /// The backend answered with an error, or its data is not what we wrote.
    #[error("backend failed: {0}")]
    Failed(#[source] BoxError),
}

impl BackendError {
    /// Wraps any error as [`BackendError::Failed`].
    pub fn failed(error: impl Into<BoxError>) -> Self {
        Self::Failed(error.into())
    }
}

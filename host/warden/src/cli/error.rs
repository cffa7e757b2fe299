//! What the CLI can fail with: the admin API's errors, manifest problems,
//! and the rest (I/O, bad config), each printed as one `error: ...` line.

use warden_api::ClientError;

/// Everything the CLI can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The admin API refused or could not be reached.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A manifest problem.
    #[error(transparent)]
    Manifest(#[from] crate::manifest::ManifestError),
    /// Anything else (I/O, bad config...).
    #[error("{0}")]
    Other(String),
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> Self {
        Self::Other(format!("{e:#}"))
    }
}

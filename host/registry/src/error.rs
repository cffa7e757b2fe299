//! What can go wrong in the registry, typed so the admin API can map each
//! failure to its status.

/// A registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The named tenant, function or version does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The change collides with existing state (a host or route owned by
    /// someone else).
    #[error("{0}")]
    Conflict(String),
    /// The request itself is malformed (bad name, route, host, digest).
    #[error("{0}")]
    Invalid(String),
    /// The store failed; the operation was not applied.
    #[error("registry storage error: {0}")]
    Storage(String),
}

impl From<redb::Error> for RegistryError {
    fn from(e: redb::Error) -> Self {
        Self::Storage(e.to_string())
    }
}

macro_rules! storage_from {
    ($($t:ty),*) => {$(
        impl From<$t> for RegistryError {
            fn from(e: $t) -> Self {
                Self::Storage(redb::Error::from(e).to_string())
            }
        }
    )*};
}
storage_from!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

impl From<serde_json::Error> for RegistryError {
    fn from(e: serde_json::Error) -> Self {
        Self::Storage(format!("corrupt record: {e}"))
    }
}

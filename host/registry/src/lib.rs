//! The registry: tenants, functions, versions, and which version serves
//! which route.
//!
//! [`RegistryStore`] is the registry as a node sees it: async, with a
//! revision number and a feed of changes, so the admin API only writes and
//! every node's reloader learns what changed. [`RedbRegistry`] is the
//! embedded backend (a redb file in the data dir); a shared backend fills the
//! same trait.
//!
//! Component bytes live beside it in a content-addressed [`BlobStore`]. A
//! version is written in two steps, bytes first and record second, each
//! atomic on its own, so a `kill -9` between them leaves at most an orphan
//! blob that the next identical upload reuses, never a record without bytes.

#![forbid(unsafe_code)]

mod blobs;
mod error;
mod feed;
mod model;
mod redb;
mod store;

pub use blobs::{BlobStore, digest_of, write_atomically};
pub use error::RegistryError;
pub use feed::{Change, FEED_CAPACITY};
pub use model::{
    FunctionLimits, FunctionRecord, FunctionSpec, JWKS_PATH, OAUTH_METADATA_PATH, OAUTH_PREFIX,
    OIDC_DISCOVERY_PATH, RESERVED_PATHS, RoutePolicy, RouteRule, TenantAuthConfig,
    TenantModelConfig, TenantRecord, TenantSpec, VersionRecord, check_not_reserved,
    normalize_route, now_secs, path_within, validate_digest, validate_host, validate_name,
    validate_route,
};
pub use redb::{CHANGE_LOG_LEN, Registry, RouteCaps, Snapshot};
pub use store::{RedbRegistry, RegistryStore};

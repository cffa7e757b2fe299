//! The registry: tenants, functions, versions, and which version serves
//! which route, durable in a redb file in the data dir.
//!
//! Component bytes live beside it in a content-addressed [`BlobStore`]. A
//! version is written in two steps, bytes first and record second, each
//! atomic on its own, so a `kill -9` between them leaves at most an orphan
//! blob that the next identical upload reuses, never a record without bytes.

mod blobs;
mod error;
mod model;
mod store;

pub use blobs::{BlobStore, digest_of, write_atomically};
pub use error::RegistryError;
pub use model::{
    FunctionLimits, FunctionRecord, TenantRecord, VersionRecord, now_secs, validate_digest,
    validate_host, validate_name, validate_route,
};
pub use store::{Registry, Snapshot};

//! Warden's cache capability: tenant-scoped get / set with TTL / delete.
//!
//! A cache is best-effort, fast shared memory for functions: values may be
//! evicted at any time and are never the source of truth (that is `kv`).
//! Backends, chosen by [`Config`]'s `type` tag:
//!
//! - `memory`: in-process [`moka`] cache, bounded in bytes, per-entry TTL.
//!   One per node; nodes do not see each other's entries.
//! - `redis`: Redis as the shared L2, with an optional small in-process L1
//!   in front. The L1 keeps an entry at most `l1_ttl_ms` (and never past its
//!   own TTL), so a write or delete on another node is visible here within
//!   that window: the price of not paying a round trip on hot keys.
//!
//! Every entry point takes the [`Tenant`] explicitly; keys are opaque
//! strings checked by [`warden_plugin_core::check_key`], values are capped
//! by `max_value_bytes` ([`CacheError::ValueTooLarge`]).
//!
//! Single flight has one mechanism, the node's [`LeaseTable`] of fill
//! leases: guests hold leases through `cache.get-or-lease` (one
//! [`HeldLeases`] per request), and [`ReadThrough::get_or_load`] runs a
//! loader under one, so concurrent misses of one key on one node load once.

#![forbid(unsafe_code)]
// Tests may unwrap: a panic is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod config;
mod error;
mod lease;
mod limits;
mod memory;
mod redis;
mod single_flight;
mod tiered;

use std::time::Duration;

use async_trait::async_trait;
pub use bytes::Bytes;
pub use warden_plugin_core::Tenant;

pub use config::{Config, MemoryConfig, RedisConfig, build};
pub use error::CacheError;
pub use lease::{Acquired, HeldLeases, Lease, LeaseTable};
pub use limits::{DEFAULT_MAX_VALUE_BYTES, MAX_TTL};
pub use memory::MemoryCache;
pub use single_flight::{GetOrLoadError, ReadThrough};

/// A tenant-scoped cache. Object-safe, so hosts hold an `Arc<dyn Cache>`
/// built from config without knowing the backend.
#[async_trait]
pub trait Cache: Send + Sync + 'static {
    /// The value of `key` for `tenant`, if present and not expired.
    async fn get(&self, tenant: &Tenant, key: &str) -> Result<Option<Bytes>, CacheError>;

    /// Stores `value` under `key` for `ttl` (1 ms ..= [`MAX_TTL`]),
    /// replacing any previous value and TTL.
    async fn set(
        &self,
        tenant: &Tenant,
        key: &str,
        value: Bytes,
        ttl: Duration,
    ) -> Result<(), CacheError>;

    /// Removes `key`; removing a missing key is not an error.
    async fn delete(&self, tenant: &Tenant, key: &str) -> Result<(), CacheError>;
}

//! Warden's key-value capability: durable, tenant-scoped get / set / delete,
//! list by prefix (paginated, stable order), compare-and-swap and atomic
//! increment.
//!
//! Backends, chosen by [`Config`]'s `type` tag:
//!
//! - `redb`: an embedded database file in the data dir. A write returns only
//!   after its transaction committed with `Durability::Immediate` (fsync), so
//!   an acknowledged write survives a crash of the process or the machine.
//! - `redis`: Redis shared by all nodes. Durability is the server's: a write
//!   is acknowledged when Redis applied it, and survives a Redis crash only
//!   with `appendonly yes` + `appendfsync always` (with `everysec`, up to a
//!   second of acknowledged writes can be lost; with no AOF, everything since
//!   the last snapshot). Operators who need kv to be durable must configure
//!   the server that way; the plugin cannot enforce it on Redis 7.0 (which
//!   lacks `WAITAOF`).
//! - `memory`: a map in the process, for tests and ephemeral use.
//!
//! Semantics shared by all backends (one contract suite checks them):
//! keys are opaque strings (1..=1024 bytes, any content), listed in byte
//! order; a listing is a page of keys plus an opaque [`Cursor`] that resumes
//! strictly after the last key returned, so pages never repeat or skip keys
//! that exist throughout the listing. Counters are values holding a decimal
//! `i64` (what `increment` writes and `get` returns).

#![forbid(unsafe_code)]
// Tests may unwrap: a panic is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod config;
mod error;
mod memory;
mod ops;
mod redb;
mod redis;
mod types;

use async_trait::async_trait;
pub use warden_plugin_core::Tenant;

pub use config::{Config, MemoryConfig, RedbConfig, RedisConfig, build};
pub use error::KvError;
pub use memory::MemoryKv;
pub use types::{CasOutcome, Cursor, DEFAULT_MAX_VALUE_BYTES, MAX_PAGE, Page};

/// A durable, tenant-scoped key-value store.
#[async_trait]
pub trait KvStore: Send + Sync + 'static {
    /// The value of `key`, if any.
    async fn get(&self, tenant: &Tenant, key: &str) -> Result<Option<Vec<u8>>, KvError>;

    /// Stores `value` under `key`; returns once the write is durable (as far
    /// as the backend can promise, see the crate docs).
    async fn set(&self, tenant: &Tenant, key: &str, value: Vec<u8>) -> Result<(), KvError>;

    /// Removes `key`; `true` if it existed.
    async fn delete(&self, tenant: &Tenant, key: &str) -> Result<bool, KvError>;

    /// Up to `limit` keys starting with `prefix` (1..=[`MAX_PAGE`], clamped),
    /// in byte order, after `cursor` (from the previous page) if given.
    async fn list(
        &self,
        tenant: &Tenant,
        prefix: &str,
        cursor: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page, KvError>;

    /// Sets `key` to `new` only if its current value is `expected` (`None`:
    /// only if absent). Atomic with respect to every other write.
    async fn compare_and_swap(
        &self,
        tenant: &Tenant,
        key: &str,
        expected: Option<&[u8]>,
        new: Vec<u8>,
    ) -> Result<CasOutcome, KvError>;

    /// Adds `delta` to the decimal `i64` in `key` (absent counts as 0),
    /// atomically, and returns the new value.
    async fn increment(&self, tenant: &Tenant, key: &str, delta: i64) -> Result<i64, KvError>;
}

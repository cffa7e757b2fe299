//! Replay protection for single-use routes: a token's `jti` is remembered
//! until the token expires, with an atomic set-if-absent, in state shared
//! by every node that can see the token.
//!
//! The id is stored as the SHA-256 of the `jti` (hex), so key size is fixed
//! and no client bytes reach a storage key.

mod kv;
mod memory;
mod redis;

use async_trait::async_trait;
use sha2::{Digest as _, Sha256};
use warden_plugin_core::{BackendError, Tenant};

pub use kv::{KV_JTI_PREFIX, KvReplayStore};
pub use memory::MemoryReplayStore;
pub use redis::RedisReplayStore;

/// Remembers token ids until they expire.
#[async_trait]
pub trait ReplayStore: Send + Sync + 'static {
    /// Records `jti` for `tenant` until `expires_at` (seconds since the
    /// epoch). `true` the first time; `false` if it was already recorded
    /// and has not expired at `now`. Atomic across callers sharing the
    /// store.
    async fn first_use(
        &self,
        tenant: &Tenant,
        jti: &str,
        expires_at: u64,
        now: u64,
    ) -> Result<bool, BackendError>;
}

/// The stored form of a `jti`.
pub(crate) fn jti_hash(jti: &str) -> String {
    hex::encode(Sha256::digest(jti.as_bytes()))
}

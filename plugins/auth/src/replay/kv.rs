//! Token ids in any [`KvStore`] (redb embedded, Redis shared), through
//! `compare_and_swap(expected None)`, under `__warden/auth/jti/<sha256>`
//! in the tenant's namespace. kv has no TTL: an expired id is taken over
//! by the next use of the same id, but ids nobody presents again stay
//! (a few dozen bytes each) until an operator clears the prefix. Prefer
//! the Redis backend where tokens are many.

use std::sync::Arc;

use async_trait::async_trait;
use warden_plugin_core::{BackendError, Tenant};
use warden_plugin_kv::{CasOutcome, KvStore};

use super::{ReplayStore, jti_hash};
use crate::keys::store::kv_error;

/// The reserved kv prefix of token ids.
pub const KV_JTI_PREFIX: &str = "__warden/auth/jti/";

/// Replay store over a kv backend.
pub struct KvReplayStore {
    kv: Arc<dyn KvStore>,
}

impl KvReplayStore {
    /// Keeps token ids in `kv`.
    pub fn new(kv: Arc<dyn KvStore>) -> Self {
        Self { kv }
    }
}

#[async_trait]
impl ReplayStore for KvReplayStore {
    async fn first_use(
        &self,
        tenant: &Tenant,
        jti: &str,
        expires_at: u64,
        now: u64,
    ) -> Result<bool, BackendError> {
        let key = format!("{KV_JTI_PREFIX}{}", jti_hash(jti));
        let value = expires_at.to_string().into_bytes();
        let mut expected: Option<Vec<u8>> = None;
        // At most two rounds: absent -> claim; present but expired -> take over.
        for _ in 0..2 {
            match self
                .kv
                .compare_and_swap(tenant, &key, expected.as_deref(), value.clone())
                .await
                .map_err(kv_error)?
            {
                CasOutcome::Swapped => return Ok(true),
                CasOutcome::Conflict { current: None } => expected = None,
                CasOutcome::Conflict {
                    current: Some(current),
                } => {
                    let stored_exp = std::str::from_utf8(&current)
                        .ok()
                        .and_then(|s| s.parse::<u64>().ok())
                        .unwrap_or(u64::MAX);
                    if stored_exp > now {
                        return Ok(false);
                    }
                    expected = Some(current);
                }
            }
        }
        // Another caller won the race for the same id.
        Ok(false)
    }
}

//! Token ids in Redis: `SET warden:{<tenant>}:auth:jti:<sha256> 1 NX PXAT
//! <exp ms>`, one atomic command, expiring with the token (Redis >= 6.2).

use async_trait::async_trait;
use warden_plugin_core::redis::{RedisHandle, scoped_key, to_backend_error};
use warden_plugin_core::{BackendError, Tenant};

use super::{ReplayStore, jti_hash};

/// Key space of token ids (`warden:{t}:auth:jti:<hash>`).
const SPACE: &str = "auth:jti";

/// Replay store shared by all nodes through Redis.
#[derive(Debug, Clone)]
pub struct RedisReplayStore {
    redis: RedisHandle,
}

impl RedisReplayStore {
    /// Uses `redis` (see `warden_plugin_core::redis::RedisHandle::connect`).
    pub fn new(redis: RedisHandle) -> Self {
        Self { redis }
    }
}

#[async_trait]
impl ReplayStore for RedisReplayStore {
    async fn first_use(
        &self,
        tenant: &Tenant,
        jti: &str,
        expires_at: u64,
        now: u64,
    ) -> Result<bool, BackendError> {
        let key = scoped_key(tenant, SPACE, &jti_hash(jti));
        // Never in the past: an already-expired PXAT would drop the key at
        // once and let the next copy through.
        let pxat = expires_at.max(now.saturating_add(1)).saturating_mul(1000);
        let reply: Option<String> = self
            .redis
            .run(|mut conn| async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(1)
                    .arg("NX")
                    .arg("PXAT")
                    .arg(pxat)
                    .query_async(&mut conn)
                    .await
            })
            .await
            .map_err(to_backend_error)?;
        Ok(reply.is_some())
    }
}

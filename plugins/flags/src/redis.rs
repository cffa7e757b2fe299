//! Flag definitions in Redis: one hash per tenant,
//! `warden:{<tenant>}:flags`, field = flag name, value = definition JSON.

use async_trait::async_trait;
use warden_plugin_core::redis::{RedisHandle, tenant_key, to_backend_error};
use warden_plugin_core::{BackendError, Tenant, check_key};

use crate::{FlagDefinition, FlagError, FlagStore};

const HASH: &str = "flags";

/// Definitions shared by all nodes; a `put` on one node is seen by the next
/// evaluation on every node.
pub(crate) struct RedisFlags {
    redis: RedisHandle,
}

impl RedisFlags {
    pub(crate) fn new(redis: RedisHandle) -> Self {
        Self { redis }
    }
}

fn backend(error: redis::RedisError) -> FlagError {
    to_backend_error(error).into()
}

#[async_trait]
impl FlagStore for RedisFlags {
    async fn definition(
        &self,
        tenant: &Tenant,
        flag: &str,
    ) -> Result<Option<FlagDefinition>, FlagError> {
        check_key(flag)?;
        let hash = tenant_key(tenant, HASH);
        let json: Option<Vec<u8>> = self
            .redis
            .run(|mut conn| async move {
                redis::cmd("HGET")
                    .arg(&hash)
                    .arg(flag)
                    .query_async(&mut conn)
                    .await
            })
            .await
            .map_err(backend)?;
        json.map(|json| serde_json::from_slice(&json).map_err(|e| BackendError::failed(e).into()))
            .transpose()
    }

    async fn put(
        &self,
        tenant: &Tenant,
        flag: &str,
        definition: FlagDefinition,
    ) -> Result<(), FlagError> {
        check_key(flag)?;
        definition.validate()?;
        let json = serde_json::to_vec(&definition).map_err(BackendError::failed)?;
        let hash = tenant_key(tenant, HASH);
        self.redis
            .run(|mut conn| async move {
                redis::cmd("HSET")
                    .arg(&hash)
                    .arg(flag)
                    .arg(json)
                    .query_async::<()>(&mut conn)
                    .await
            })
            .await
            .map_err(backend)
    }

    async fn remove(&self, tenant: &Tenant, flag: &str) -> Result<bool, FlagError> {
        check_key(flag)?;
        let hash = tenant_key(tenant, HASH);
        let removed: i64 = self
            .redis
            .run(|mut conn| async move {
                redis::cmd("HDEL")
                    .arg(&hash)
                    .arg(flag)
                    .query_async(&mut conn)
                    .await
            })
            .await
            .map_err(backend)?;
        Ok(removed > 0)
    }
}

//! The Redis L2: `SET key value PX ttl`, `GET`, `DEL` on
//! `warden:{<tenant>}:cache:<key>`.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use warden_plugin_core::redis::{RedisHandle, scoped_key, to_backend_error};
use warden_plugin_core::{Tenant, check_key};

use crate::limits::check_set;
use crate::{Cache, CacheError};

/// Key space of cache entries (`warden:{t}:cache:<key>`).
const SPACE: &str = "cache";

/// Cache entries in Redis, shared by all nodes. Expiry is Redis's own
/// (`PX`), so entries vanish on time even if no node is running.
#[derive(Clone, Debug)]
pub(crate) struct RedisCache {
    redis: RedisHandle,
    max_value_bytes: usize,
}

impl RedisCache {
    pub(crate) fn new(redis: RedisHandle, max_value_bytes: usize) -> Self {
        Self {
            redis,
            max_value_bytes,
        }
    }

    /// The value and its remaining TTL, in one round trip (`GET` + `PTTL`
    /// pipelined), so an L1 copy never outlives the L2 entry.
    pub(crate) async fn get_with_ttl(
        &self,
        tenant: &Tenant,
        key: &str,
    ) -> Result<Option<(Bytes, Duration)>, CacheError> {
        check_key(key)?;
        let rkey = scoped_key(tenant, SPACE, key);
        let (value, pttl): (Option<Bytes>, i64) = self
            .redis
            .run(|mut conn| async move {
                redis::pipe()
                    .get(&rkey)
                    .pttl(&rkey)
                    .query_async(&mut conn)
                    .await
            })
            .await
            .map_err(to_backend_error)?;
        // PTTL is -2 when the key vanished between GET and PTTL (it cannot,
        // in a pipeline on one connection, but be safe) and -1 without TTL.
        Ok(value.and_then(|value| {
            let ttl = u64::try_from(pttl).ok().filter(|ms| *ms > 0)?;
            Some((value, Duration::from_millis(ttl)))
        }))
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, tenant: &Tenant, key: &str) -> Result<Option<Bytes>, CacheError> {
        check_key(key)?;
        let rkey = scoped_key(tenant, SPACE, key);
        self.redis
            .run(|mut conn| async move {
                redis::cmd("GET")
                    .arg(&rkey)
                    .query_async::<Option<Bytes>>(&mut conn)
                    .await
            })
            .await
            .map_err(|e| to_backend_error(e).into())
    }

    async fn set(
        &self,
        tenant: &Tenant,
        key: &str,
        value: Bytes,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        check_set(key, value.len(), ttl, self.max_value_bytes)?;
        let rkey = scoped_key(tenant, SPACE, key);
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        self.redis
            .run(|mut conn| async move {
                redis::cmd("SET")
                    .arg(&rkey)
                    .arg(&value[..])
                    .arg("PX")
                    .arg(ttl_ms)
                    .query_async::<()>(&mut conn)
                    .await
            })
            .await
            .map_err(|e| to_backend_error(e).into())
    }

    async fn delete(&self, tenant: &Tenant, key: &str) -> Result<(), CacheError> {
        check_key(key)?;
        let rkey = scoped_key(tenant, SPACE, key);
        self.redis
            .run(|mut conn| async move {
                redis::cmd("DEL")
                    .arg(&rkey)
                    .query_async::<()>(&mut conn)
                    .await
            })
            .await
            .map_err(|e| to_backend_error(e).into())
    }
}

//! L1 (in-process) in front of L2 (Redis).

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use warden_plugin_core::{Tenant, check_key};

use crate::limits::check_set;
use crate::memory::MemoryCache;
use crate::redis::RedisCache;
use crate::{Cache, CacheError};

/// Reads hit the node-local L1 first; misses go to Redis and fill the L1
/// for at most `l1_ttl` (never past the entry's remaining Redis TTL).
///
/// Writes go to Redis first and fill the L1 only once Redis accepted them,
/// so a node never serves a value the shared cache refused. Deletes drop
/// the L1 copy even when Redis is unreachable. Other nodes' L1 copies are
/// not invalidated: they expire within `l1_ttl`, the staleness bound this
/// backend promises.
pub(crate) struct TieredCache {
    l1: MemoryCache,
    l2: RedisCache,
    l1_ttl: Duration,
    max_value_bytes: usize,
}

impl TieredCache {
    pub(crate) fn new(
        l1: MemoryCache,
        l2: RedisCache,
        l1_ttl: Duration,
        max_value_bytes: usize,
    ) -> Self {
        Self {
            l1,
            l2,
            l1_ttl,
            max_value_bytes,
        }
    }
}

#[async_trait]
impl Cache for TieredCache {
    async fn get(&self, tenant: &Tenant, key: &str) -> Result<Option<Bytes>, CacheError> {
        check_key(key)?;
        if let Some(value) = self.l1.lookup(tenant, key).await {
            return Ok(Some(value));
        }
        let Some((value, remaining)) = self.l2.get_with_ttl(tenant, key).await? else {
            return Ok(None);
        };
        self.l1
            .insert_unchecked(tenant, key, value.clone(), remaining.min(self.l1_ttl))
            .await;
        Ok(Some(value))
    }

    async fn set(
        &self,
        tenant: &Tenant,
        key: &str,
        value: Bytes,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        check_set(key, value.len(), ttl, self.max_value_bytes)?;
        // Drop the stale L1 copy first: if Redis fails, this node must not
        // keep serving the value the caller just tried to replace.
        self.l1.invalidate(tenant, key).await;
        self.l2.set(tenant, key, value.clone(), ttl).await?;
        self.l1
            .insert_unchecked(tenant, key, value, ttl.min(self.l1_ttl))
            .await;
        Ok(())
    }

    async fn delete(&self, tenant: &Tenant, key: &str) -> Result<(), CacheError> {
        check_key(key)?;
        self.l1.invalidate(tenant, key).await;
        self.l2.delete(tenant, key).await
    }
}

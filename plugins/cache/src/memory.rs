//! In-process cache on moka: the embedded backend, and the L1 of the Redis
//! backend.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use moka::Expiry;
use warden_plugin_core::{Tenant, check_key};

use crate::limits::check_set;
use crate::{Cache, CacheError};

/// Bytes charged per entry on top of key and value, for moka's bookkeeping,
/// so a flood of tiny entries is bounded too.
const ENTRY_OVERHEAD: usize = 96;

/// Map key: the tenant is part of the key, so tenants cannot collide
/// whatever their key strings are.
type ScopedKey = (Tenant, Box<str>);

#[derive(Clone)]
struct Entry {
    value: Bytes,
    expires_at: Instant,
}

/// Per-entry expiry from the absolute deadline stored with the value; an
/// update sets the new deadline (moka's default would keep the old one).
struct DeadlineExpiry;

impl Expiry<ScopedKey, Entry> for DeadlineExpiry {
    fn expire_after_create(&self, _: &ScopedKey, entry: &Entry, now: Instant) -> Option<Duration> {
        Some(entry.expires_at.saturating_duration_since(now))
    }

    fn expire_after_update(
        &self,
        _: &ScopedKey,
        entry: &Entry,
        now: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.expires_at.saturating_duration_since(now))
    }
}

/// A size-bounded in-process cache shared by all tenants of a node.
///
/// Bounded by total weight (key + value + a fixed overhead per entry), not
/// entry count, because values range from bytes to `max_value_bytes`; moka
/// evicts by TinyLFU when full.
#[derive(Clone)]
pub struct MemoryCache {
    inner: moka::future::Cache<ScopedKey, Entry>,
    max_value_bytes: usize,
}

impl MemoryCache {
    /// A cache holding at most about `max_bytes`, refusing values larger
    /// than `max_value_bytes`.
    pub fn new(max_bytes: u64, max_value_bytes: usize) -> Self {
        let inner = moka::future::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|(tenant, key): &ScopedKey, entry: &Entry| {
                let weight = tenant.as_str().len() + key.len() + entry.value.len() + ENTRY_OVERHEAD;
                u32::try_from(weight).unwrap_or(u32::MAX)
            })
            .expire_after(DeadlineExpiry)
            .build();
        Self {
            inner,
            max_value_bytes,
        }
    }

    /// Inserts without input checks, for the tiered cache filling its L1
    /// with a value the L2 already accepted.
    pub(crate) async fn insert_unchecked(
        &self,
        tenant: &Tenant,
        key: &str,
        value: Bytes,
        ttl: Duration,
    ) {
        let entry = Entry {
            value,
            expires_at: Instant::now() + ttl,
        };
        self.inner.insert((tenant.clone(), key.into()), entry).await;
    }

    /// Drops `key` from this node only.
    pub(crate) async fn invalidate(&self, tenant: &Tenant, key: &str) {
        self.inner
            .invalidate(&(tenant.clone(), Box::from(key)))
            .await;
    }

    /// The cached value, without key checks (the caller checked).
    pub(crate) async fn lookup(&self, tenant: &Tenant, key: &str) -> Option<Bytes> {
        let entry = self.inner.get(&(tenant.clone(), Box::from(key))).await?;
        // moka expires lazily on its own clock; never serve past the deadline.
        (entry.expires_at > Instant::now()).then_some(entry.value)
    }
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, tenant: &Tenant, key: &str) -> Result<Option<Bytes>, CacheError> {
        check_key(key)?;
        Ok(self.lookup(tenant, key).await)
    }

    async fn set(
        &self,
        tenant: &Tenant,
        key: &str,
        value: Bytes,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        check_set(key, value.len(), ttl, self.max_value_bytes)?;
        self.insert_unchecked(tenant, key, value, ttl).await;
        Ok(())
    }

    async fn delete(&self, tenant: &Tenant, key: &str) -> Result<(), CacheError> {
        check_key(key)?;
        self.invalidate(tenant, key).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stays_within_its_byte_budget() {
        let cache = MemoryCache::new(64 * 1024, 1024);
        let tenant = Tenant::new("t").unwrap();
        for i in 0..1000 {
            let value = Bytes::from(vec![0_u8; 1000]);
            cache
                .set(&tenant, &format!("k{i}"), value, Duration::from_secs(60))
                .await
                .unwrap();
        }
        cache.inner.run_pending_tasks().await;
        assert!(cache.inner.weighted_size() <= 64 * 1024);
        assert!(cache.inner.entry_count() < 1000);
    }
}

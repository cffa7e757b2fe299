//! Read-through over any [`Cache`], single-flight through the node's
//! [`LeaseTable`] (the same leases guests take with `cache.get-or-lease`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use warden_plugin_core::{BoxError, Tenant};

use crate::lease::{Acquired, LeaseTable};
use crate::limits::check_set;
use crate::{Cache, CacheError};

/// How long a loader may hold the lease before waiters try themselves.
const LOAD_LEASE: Duration = Duration::from_secs(30);

/// Why [`ReadThrough::get_or_load`] failed.
#[derive(Debug, thiserror::Error)]
pub enum GetOrLoadError {
    /// The key, TTL or loaded value broke the cache's input rules.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// This caller's loader failed (failures are never cached; the next
    /// caller loads again).
    #[error("loader failed: {0}")]
    Load(Arc<BoxError>),
}

/// Read-through with single flight: concurrent misses of one key on one node
/// run the loader once, and the others read what it stored.
///
/// This protects the origin from a stampede when a hot key expires. The
/// guarantee is per node (per [`LeaseTable`]); across nodes each may load
/// once. Cache unavailability degrades to "load without caching" (logged),
/// because the cache is an optimisation and the loader is the truth.
pub struct ReadThrough {
    cache: Arc<dyn Cache>,
    leases: Arc<LeaseTable>,
}

impl ReadThrough {
    /// Read-through over `cache`, taking its fill leases in `leases`. A
    /// loaded value the cache refuses (too large, backend down) is still
    /// returned to its loader, just not cached.
    pub fn new(cache: Arc<dyn Cache>, leases: Arc<LeaseTable>) -> Self {
        Self { cache, leases }
    }

    /// The cached value of `key`, or the loader's value, stored for `ttl`.
    pub async fn get_or_load<F, Fut, E>(
        &self,
        tenant: &Tenant,
        key: &str,
        ttl: Duration,
        loader: F,
    ) -> Result<Bytes, GetOrLoadError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, E>>,
        E: Into<BoxError>,
    {
        check_set(key, 0, ttl, usize::MAX)?;
        loop {
            if let Some(value) = self.cached(tenant, key).await? {
                return Ok(value);
            }
            match self.leases.acquire(tenant.as_str(), key, LOAD_LEASE) {
                Acquired::Leader(lease) => {
                    let loaded = loader().await.map_err(|e| Arc::new(e.into()));
                    if let Ok(value) = &loaded
                        && let Err(error) = self.cache.set(tenant, key, value.clone(), ttl).await
                    {
                        tracing::warn!(%tenant, %error, "read-through: loaded value not cached");
                    }
                    // Waiters wake now and read what was stored (or load).
                    self.leases.finish(tenant.as_str(), key, lease);
                    return loaded.map_err(GetOrLoadError::Load);
                }
                Acquired::Wait(mut done, until) => {
                    let _ = tokio::time::timeout_at(until, done.changed()).await;
                }
            }
        }
    }

    /// A cache read where only input errors count; backend trouble is a miss.
    async fn cached(&self, tenant: &Tenant, key: &str) -> Result<Option<Bytes>, CacheError> {
        match self.cache.get(tenant, key).await {
            Ok(value) => Ok(value),
            Err(error @ CacheError::Key(_)) => Err(error),
            Err(error) => {
                tracing::warn!(%tenant, %error, "read-through: cache read failed, loading");
                Ok(None)
            }
        }
    }
}

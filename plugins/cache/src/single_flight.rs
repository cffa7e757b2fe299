//! Single-flight read-through over any [`Cache`].

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::OnceCell;
use warden_plugin_core::{BoxError, Tenant};

use crate::limits::check_set;
use crate::{Cache, CacheError};

/// Independent locks for in-flight loads, so unrelated keys never contend.
const SHARDS: usize = 16;

type FlightKey = (Tenant, Box<str>);
/// The shared outcome of one load; errors are shared by reference because
/// every waiter of the flight receives the same one.
type Outcome = Result<Bytes, Arc<BoxError>>;
type Flight = Arc<OnceCell<Outcome>>;

/// Why [`ReadThrough::get_or_load`] failed.
#[derive(Debug, thiserror::Error)]
pub enum GetOrLoadError {
    /// The key, TTL or loaded value broke the cache's input rules.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The loader failed; every caller that shared the flight gets this.
    #[error("loader failed: {0}")]
    Load(Arc<BoxError>),
}

/// Read-through with single flight: concurrent misses of one key on one node
/// run the loader once, and all of them get its result.
///
/// This protects the origin from a stampede when a hot key expires. The
/// guarantee is per node (per `ReadThrough`); across nodes each may load
/// once. Cache unavailability degrades to "load without caching" (logged),
/// because the cache is an optimisation and the loader is the truth.
/// Loader failures are not cached: the next miss tries again.
pub struct ReadThrough {
    cache: Arc<dyn Cache>,
    shards: Box<[Mutex<HashMap<FlightKey, Flight>>]>,
    hasher: RandomState,
}

impl ReadThrough {
    /// Read-through over `cache`. A loaded value the cache refuses (too
    /// large, backend down) is still returned, just not cached.
    pub fn new(cache: Arc<dyn Cache>) -> Self {
        Self {
            cache,
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
        }
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
        if let Some(value) = self.cached(tenant, key).await? {
            return Ok(value);
        }
        let flight_key: FlightKey = (tenant.clone(), key.into());
        let shard = &self.shards[self.hasher.hash_one(&flight_key) as usize % SHARDS];
        let flight = lock(shard).entry(flight_key.clone()).or_default().clone();
        let _leave = Leave {
            shard,
            key: flight_key,
            flight: flight.clone(),
        };
        let outcome = flight
            .get_or_init(|| self.load(tenant, key, ttl, loader))
            .await
            .clone();
        outcome.map_err(GetOrLoadError::Load)
    }

    /// Runs inside the flight: look again (a flight that just finished may
    /// have filled the cache), then load and store.
    async fn load<F, Fut, E>(&self, tenant: &Tenant, key: &str, ttl: Duration, loader: F) -> Outcome
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, E>>,
        E: Into<BoxError>,
    {
        if let Ok(Some(value)) = self.cached(tenant, key).await {
            return Ok(value);
        }
        let value = loader().await.map_err(|e| Arc::new(e.into()))?;
        if let Err(error) = self.cache.set(tenant, key, value.clone(), ttl).await {
            tracing::warn!(%tenant, %error, "read-through: loaded value not cached");
        }
        Ok(value)
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

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The map stays consistent even if a holder panicked (no await or user
    // code runs under the lock), so poisoning carries no information.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Removes a finished (or abandoned) flight from its shard, on every exit
/// path including cancellation, so the map cannot leak.
struct Leave<'a> {
    shard: &'a Mutex<HashMap<FlightKey, Flight>>,
    key: FlightKey,
    flight: Flight,
}

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        let mut map = lock(self.shard);
        let Some(current) = map.get(&self.key) else {
            return;
        };
        // Only our flight, and only when it is done or nobody else waits
        // on it (map + us = 2 references; clones happen under this lock).
        if Arc::ptr_eq(current, &self.flight)
            && (self.flight.initialized() || Arc::strong_count(&self.flight) == 2)
        {
            map.remove(&self.key);
        }
    }
}

//! `warden:platform/cache` on the [`warden_plugin_cache::Cache`] backend,
//! with `get-or-lease` on the node's fill leases.

use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;
use warden_plugin_cache::{Acquired, Cache, CacheError, HeldLeases, LeaseTable};
use warden_plugin_core::Tenant;
use warden_world::cache::{self as wit, Error, Lookup};
use wasmtime::component::{HasData, Linker};

/// Longest a guest may ask others to wait for its fill.
const MAX_LEASE: Duration = Duration::from_secs(30);

/// The node's cache: the backend and the table of fill leases.
pub struct CacheCtx {
    cache: Arc<dyn Cache>,
    leases: Arc<LeaseTable>,
}

impl std::fmt::Debug for CacheCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheCtx").finish_non_exhaustive()
    }
}

impl CacheCtx {
    /// The context over `cache`, with a fresh lease table.
    pub fn new(cache: Arc<dyn Cache>) -> Self {
        Self {
            cache,
            leases: Arc::new(LeaseTable::default()),
        }
    }

    /// The backend.
    pub fn cache(&self) -> &Arc<dyn Cache> {
        &self.cache
    }

    /// The node's lease table: single flight for guests' fills and for
    /// the model capability's cache misses alike.
    pub fn leases(&self) -> &Arc<LeaseTable> {
        &self.leases
    }

    /// The leases one request holds, released when it ends.
    pub fn request_leases(&self, tenant: &Tenant) -> HeldLeases {
        HeldLeases::new(self.leases.clone(), tenant.as_str())
    }
}

/// One request's view of the cache.
pub struct CacheView<'a> {
    ctx: &'a CacheCtx,
    tenant: &'a Tenant,
    leases: &'a mut HeldLeases,
}

impl<'a> CacheView<'a> {
    /// `tenant`'s view of `ctx`, with the request's `leases`.
    pub fn new(ctx: &'a CacheCtx, tenant: &'a Tenant, leases: &'a mut HeldLeases) -> Self {
        Self {
            ctx,
            tenant,
            leases,
        }
    }
}

struct CacheBinding;
impl HasData for CacheBinding {
    type Data<'a> = CacheView<'a>;
}

/// Adds `warden:platform/cache` to `linker`, reaching the view through `view`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> CacheView<'_>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, CacheBinding>(linker, view)
}

fn to_wit(e: CacheError) -> Error {
    match e {
        CacheError::Key(e) => Error::InvalidKey(e.to_string()),
        CacheError::ValueTooLarge { max, .. } => Error::ValueTooLarge(max as u64),
        CacheError::InvalidTtl(_) => Error::InvalidTtl(e.to_string()),
        CacheError::Unavailable(reason) => Error::Unavailable(reason),
        CacheError::Backend(e) => Error::Internal(e.to_string()),
    }
}

impl wit::Host for CacheView<'_> {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        Ok(self
            .ctx
            .cache
            .get(self.tenant, &key)
            .await
            .map(|v| v.map(|b| b.to_vec()))
            .map_err(to_wit))
    }

    async fn set(
        &mut self,
        key: String,
        value: Vec<u8>,
        ttl_ms: u64,
    ) -> wasmtime::Result<Result<(), Error>> {
        let ttl = Duration::from_millis(ttl_ms);
        let result = self
            .ctx
            .cache
            .set(self.tenant, &key, Bytes::from(value), ttl)
            .await
            .map_err(to_wit);
        // Whether or not the value stuck, waiters should look again now.
        self.leases.release(&key);
        Ok(result)
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<Result<(), Error>> {
        Ok(self
            .ctx
            .cache
            .delete(self.tenant, &key)
            .await
            .map_err(to_wit))
    }

    async fn get_or_lease(
        &mut self,
        key: String,
        lease_ms: u64,
    ) -> wasmtime::Result<Result<Lookup, Error>> {
        let lease = Duration::from_millis(lease_ms.max(1)).min(MAX_LEASE);
        loop {
            match self.ctx.cache.get(self.tenant, &key).await {
                Ok(Some(value)) => return Ok(Ok(Lookup::Hit(value.to_vec()))),
                Ok(None) => {}
                Err(e) => return Ok(Err(to_wit(e))),
            }
            match self.ctx.leases.acquire(self.tenant.as_str(), &key, lease) {
                Acquired::Leader(held) => {
                    self.leases.hold(&key, held);
                    return Ok(Ok(Lookup::Fill));
                }
                Acquired::Wait(mut done, until) => {
                    // Woken when the leader sets, releases or goes away, or
                    // when its lease runs out; then look again.
                    let _ = tokio::time::timeout_at(until, done.changed()).await;
                }
            }
        }
    }

    async fn release(&mut self, key: String) -> wasmtime::Result<()> {
        self.leases.release(&key);
        Ok(())
    }
}

//! `warden:platform/kv` on the [`warden_plugin_kv::KvStore`] backend.

use std::sync::Arc;
use warden_plugin_core::Tenant;
use warden_plugin_kv::{CasOutcome, Cursor, KvError, KvStore};
use warden_world::kv::{self as wit, Error, Page};
use wasmtime::component::{HasData, Linker};

/// The node's key-value store.
pub struct KvCtx {
    store: Arc<dyn KvStore>,
}

impl std::fmt::Debug for KvCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KvCtx").finish_non_exhaustive()
    }
}

impl KvCtx {
    /// The context over `store`.
    pub fn new(store: Arc<dyn KvStore>) -> Self {
        Self { store }
    }

    /// The backend.
    pub fn store(&self) -> &Arc<dyn KvStore> {
        &self.store
    }
}

/// One request's view of kv: the store and the calling tenant.
pub struct KvView<'a> {
    ctx: &'a KvCtx,
    tenant: &'a Tenant,
}

impl<'a> KvView<'a> {
    /// `tenant`'s view of `ctx`.
    pub fn new(ctx: &'a KvCtx, tenant: &'a Tenant) -> Self {
        Self { ctx, tenant }
    }
}

struct KvBinding;
impl HasData for KvBinding {
    type Data<'a> = KvView<'a>;
}

/// Adds `warden:platform/kv` to `linker`, reaching the view through `view`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> KvView<'_>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, KvBinding>(linker, view)
}

/// Key prefix of state the platform keeps in a tenant's kv namespace (the
/// auth plugin's sealed key set, replay ids): guests may neither read nor
/// write it, so a function cannot delete or roll back its tenant's keys.
pub const RESERVED_PREFIX: &str = "__warden/";

fn check_guest_key(key: &str) -> Result<(), Error> {
    if key.starts_with(RESERVED_PREFIX) {
        return Err(Error::InvalidKey(format!(
            "keys starting with {RESERVED_PREFIX:?} are reserved for the platform"
        )));
    }
    Ok(())
}

fn to_wit(e: KvError) -> Error {
    match e {
        KvError::Key(e) => Error::InvalidKey(e.to_string()),
        KvError::ValueTooLarge { max, .. } => Error::ValueTooLarge(max as u64),
        KvError::NotAnInteger => Error::NotAnInteger,
        KvError::Overflow => Error::Overflow,
        KvError::InvalidCursor => Error::InvalidCursor("malformed cursor".into()),
        KvError::Unavailable(reason) => Error::Unavailable(reason),
        KvError::Backend(e) => Error::Internal(e.to_string()),
    }
}

impl wit::Host for KvView<'_> {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        if let Err(e) = check_guest_key(&key) {
            return Ok(Err(e));
        }
        Ok(self.ctx.store.get(self.tenant, &key).await.map_err(to_wit))
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), Error>> {
        if let Err(e) = check_guest_key(&key) {
            return Ok(Err(e));
        }
        Ok(self
            .ctx
            .store
            .set(self.tenant, &key, value)
            .await
            .map_err(to_wit))
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<Result<bool, Error>> {
        if let Err(e) = check_guest_key(&key) {
            return Ok(Err(e));
        }
        Ok(self
            .ctx
            .store
            .delete(self.tenant, &key)
            .await
            .map_err(to_wit))
    }

    async fn list(
        &mut self,
        prefix: String,
        cursor: Option<String>,
        limit: u32,
    ) -> wasmtime::Result<Result<Page, Error>> {
        if prefix.starts_with(RESERVED_PREFIX) {
            return Ok(Err(check_guest_key(&prefix)
                .err()
                .unwrap_or(Error::InvalidKey("reserved prefix".into()))));
        }
        let cursor = match cursor.as_deref().map(str::parse::<Cursor>) {
            Some(Ok(c)) => Some(c),
            Some(Err(_)) => return Ok(Err(Error::InvalidCursor("malformed cursor".into()))),
            None => None,
        };
        Ok(self
            .ctx
            .store
            .list(self.tenant, &prefix, cursor.as_ref(), limit)
            .await
            .map(|page| Page {
                // The platform's own keys are not the guest's to see.
                keys: page
                    .keys
                    .into_iter()
                    .filter(|k| !k.starts_with(RESERVED_PREFIX))
                    .collect(),
                cursor: page.next.map(|c| c.to_string()),
            })
            .map_err(to_wit))
    }

    async fn compare_and_swap(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Vec<u8>,
    ) -> wasmtime::Result<Result<bool, Error>> {
        if let Err(e) = check_guest_key(&key) {
            return Ok(Err(e));
        }
        Ok(self
            .ctx
            .store
            .compare_and_swap(self.tenant, &key, expected.as_deref(), new)
            .await
            .map(|outcome| matches!(outcome, CasOutcome::Swapped))
            .map_err(to_wit))
    }

    async fn increment(&mut self, key: String, delta: i64) -> wasmtime::Result<Result<i64, Error>> {
        if let Err(e) = check_guest_key(&key) {
            return Ok(Err(e));
        }
        Ok(self
            .ctx
            .store
            .increment(self.tenant, &key, delta)
            .await
            .map_err(to_wit))
    }
}

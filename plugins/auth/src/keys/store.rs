//! Where each tenant's sealed key set lives.
//!
//! The store sees only the sealed bytes (see [`super::kek`]): no backend
//! can read a private key, and a tampered value fails to open. Writes are
//! compare-and-swap on the whole set, so two admins rotating at once
//! cannot lose a key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use warden_plugin_core::{BackendError, Tenant};
use warden_plugin_kv::{CasOutcome, KvError, KvStore};

/// The reserved kv key of a tenant's key set, in the tenant's own kv
/// namespace. The host must keep guests away from the `__warden/` prefix:
/// a guest that could write here could delete the tenant's keys or roll
/// the set back to an older (still sealed, so still valid) version.
pub const KV_KEYS_KEY: &str = "__warden/auth/keys";

/// Storage of sealed key sets, one opaque value per tenant.
#[async_trait]
pub trait KeyStore: Send + Sync + 'static {
    /// The tenant's sealed set, if any.
    async fn load(&self, tenant: &Tenant) -> Result<Option<Vec<u8>>, BackendError>;

    /// Writes `next` only if the stored value is still `previous` (`None`:
    /// only if absent). `false` when another writer came first.
    async fn replace(
        &self,
        tenant: &Tenant,
        previous: Option<&[u8]>,
        next: Vec<u8>,
    ) -> Result<bool, BackendError>;
}

/// Key sets in the process: tests and single-node throwaway setups.
#[derive(Debug, Default)]
pub struct MemoryKeyStore {
    sets: Mutex<HashMap<Tenant, Vec<u8>>>,
}

#[async_trait]
impl KeyStore for MemoryKeyStore {
    async fn load(&self, tenant: &Tenant) -> Result<Option<Vec<u8>>, BackendError> {
        let sets = self
            .sets
            .lock()
            .map_err(|_| BackendError::failed("key store lock poisoned"))?;
        Ok(sets.get(tenant).cloned())
    }

    async fn replace(
        &self,
        tenant: &Tenant,
        previous: Option<&[u8]>,
        next: Vec<u8>,
    ) -> Result<bool, BackendError> {
        let mut sets = self
            .sets
            .lock()
            .map_err(|_| BackendError::failed("key store lock poisoned"))?;
        if sets.get(tenant).map(Vec::as_slice) != previous {
            return Ok(false);
        }
        sets.insert(tenant.clone(), next);
        Ok(true)
    }
}

/// Key sets in any [`KvStore`] (redb embedded, Redis shared), under
/// [`KV_KEYS_KEY`] in the tenant's namespace.
pub struct KvKeyStore {
    kv: Arc<dyn KvStore>,
}

impl KvKeyStore {
    /// Keeps key sets in `kv`.
    pub fn new(kv: Arc<dyn KvStore>) -> Self {
        Self { kv }
    }
}

pub(crate) fn kv_error(error: KvError) -> BackendError {
    match error {
        KvError::Unavailable(reason) => BackendError::Unavailable(reason),
        other => BackendError::failed(other),
    }
}

#[async_trait]
impl KeyStore for KvKeyStore {
    async fn load(&self, tenant: &Tenant) -> Result<Option<Vec<u8>>, BackendError> {
        self.kv.get(tenant, KV_KEYS_KEY).await.map_err(kv_error)
    }

    async fn replace(
        &self,
        tenant: &Tenant,
        previous: Option<&[u8]>,
        next: Vec<u8>,
    ) -> Result<bool, BackendError> {
        let outcome = self
            .kv
            .compare_and_swap(tenant, KV_KEYS_KEY, previous, next)
            .await
            .map_err(kv_error)?;
        Ok(outcome == CasOutcome::Swapped)
    }
}

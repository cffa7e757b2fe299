//! Typed JSON records over the tenant's [`KvStore`], under the platform's
//! reserved prefix `__warden/auth/svc/`. Every write the service depends on
//! is a compare-and-swap (or an insert-if-absent), so two nodes racing on
//! one record cannot both win; a write returns once the backend made it
//! durable (redb: fsync; Redis: per its AOF settings).

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use warden_plugin_core::Tenant;
use warden_plugin_kv::{CasOutcome, KvStore};

use super::ServiceError;

/// The reserved prefix of every token-service record.
pub const KV_SERVICE_PREFIX: &str = "__warden/auth/svc/";

/// How often a read-change-swap is retried when another writer wins.
pub(crate) const CAS_ATTEMPTS: usize = 16;

/// The error when other writers kept winning: the caller may retry.
pub(crate) fn contended() -> ServiceError {
    ServiceError::Unavailable("the record changed concurrently too many times".into())
}

/// A record as read: the value and its stored bytes (the CAS witness).
pub(crate) struct Versioned<T> {
    pub(crate) value: T,
    pub(crate) bytes: Vec<u8>,
}

/// JSON records in kv, scoped by tenant.
#[derive(Clone)]
pub(crate) struct Store {
    kv: Arc<dyn KvStore>,
}

impl Store {
    pub(crate) fn new(kv: Arc<dyn KvStore>) -> Self {
        Self { kv }
    }

    /// `__warden/auth/svc/<kind>/<id>`.
    pub(crate) fn key(kind: &str, id: &str) -> String {
        format!("{KV_SERVICE_PREFIX}{kind}/{id}")
    }

    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        tenant: &Tenant,
        key: &str,
    ) -> Result<Option<Versioned<T>>, ServiceError> {
        let Some(bytes) = self.kv.get(tenant, key).await? else {
            return Ok(None);
        };
        let value = serde_json::from_slice(&bytes)
            .map_err(|_| ServiceError::Internal("a stored record is not readable".into()))?;
        Ok(Some(Versioned { value, bytes }))
    }

    pub(crate) async fn put<T: Serialize>(
        &self,
        tenant: &Tenant,
        key: &str,
        value: &T,
    ) -> Result<(), ServiceError> {
        self.kv.set(tenant, key, encode(value)?).await?;
        Ok(())
    }

    /// Writes `value` only if `key` is absent; `false` if it exists.
    pub(crate) async fn insert_new<T: Serialize>(
        &self,
        tenant: &Tenant,
        key: &str,
        value: &T,
    ) -> Result<bool, ServiceError> {
        self.swap(tenant, key, None, value).await
    }

    /// Replaces the value read as `expected`; `false` if another writer
    /// changed it meanwhile.
    pub(crate) async fn swap<T: Serialize>(
        &self,
        tenant: &Tenant,
        key: &str,
        expected: Option<&[u8]>,
        value: &T,
    ) -> Result<bool, ServiceError> {
        let outcome = self
            .kv
            .compare_and_swap(tenant, key, expected, encode(value)?)
            .await?;
        Ok(matches!(outcome, CasOutcome::Swapped))
    }

    pub(crate) async fn delete(&self, tenant: &Tenant, key: &str) -> Result<bool, ServiceError> {
        Ok(self.kv.delete(tenant, key).await?)
    }

    /// Every key under `prefix`, all pages.
    pub(crate) async fn keys(
        &self,
        tenant: &Tenant,
        prefix: &str,
    ) -> Result<Vec<String>, ServiceError> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .kv
                .list(tenant, prefix, cursor.as_ref(), warden_plugin_kv::MAX_PAGE)
                .await?;
            out.extend(page.keys);
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(out),
            }
        }
    }
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, ServiceError> {
    serde_json::to_vec(value).map_err(|e| ServiceError::Internal(e.to_string()))
}

//! `warden:platform/cache` on the [`warden_plugin_cache::Cache`] backend.

use super::lease::Acquired;
use crate::runtime::bindings::cache::{Error, Host, Lookup};
use crate::runtime::state::RequestState;
use bytes::Bytes;
use std::time::Duration;
use warden_plugin_cache::CacheError;

/// Longest a guest may ask others to wait for its fill.
const MAX_LEASE: Duration = Duration::from_secs(30);

fn to_wit(e: CacheError) -> Error {
    match e {
        CacheError::Key(e) => Error::InvalidKey(e.to_string()),
        CacheError::ValueTooLarge { max, .. } => Error::ValueTooLarge(max as u64),
        CacheError::InvalidTtl(_) => Error::InvalidTtl(e.to_string()),
        CacheError::Unavailable(reason) => Error::Unavailable(reason),
        CacheError::Backend(e) => Error::Internal(e.to_string()),
    }
}

impl Host for RequestState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let caps = self.caps.clone();
        Ok(caps
            .cache
            .get(&self.tenant, &key)
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
        let caps = self.caps.clone();
        let result = caps
            .cache
            .set(
                &self.tenant,
                &key,
                Bytes::from(value),
                Duration::from_millis(ttl_ms),
            )
            .await
            .map_err(to_wit);
        // Whether or not the value stuck, waiters should look again now.
        self.leases.release(&key);
        Ok(result)
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<Result<(), Error>> {
        let caps = self.caps.clone();
        Ok(caps.cache.delete(&self.tenant, &key).await.map_err(to_wit))
    }

    async fn get_or_lease(
        &mut self,
        key: String,
        lease_ms: u64,
    ) -> wasmtime::Result<Result<Lookup, Error>> {
        let caps = self.caps.clone();
        let lease = Duration::from_millis(lease_ms.max(1)).min(MAX_LEASE);
        loop {
            match caps.cache.get(&self.tenant, &key).await {
                Ok(Some(value)) => return Ok(Ok(Lookup::Hit(value.to_vec()))),
                Ok(None) => {}
                Err(e) => return Ok(Err(to_wit(e))),
            }
            match self
                .leases
                .table()
                .acquire(self.tenant.as_str(), &key, lease)
            {
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

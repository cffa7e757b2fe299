//! Token ids in the process: one node only (tests, single-node setups).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use warden_plugin_core::{BackendError, Tenant};

use super::{ReplayStore, jti_hash};

/// Expired ids are swept once the map has grown by this many since the
/// last sweep, so memory stays proportional to live tokens.
const SWEEP_EVERY: usize = 1024;

/// In-process replay store.
#[derive(Debug, Default)]
pub struct MemoryReplayStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    seen: HashMap<(Tenant, String), u64>,
    since_sweep: usize,
}

#[async_trait]
impl ReplayStore for MemoryReplayStore {
    async fn first_use(
        &self,
        tenant: &Tenant,
        jti: &str,
        expires_at: u64,
        now: u64,
    ) -> Result<bool, BackendError> {
        let mut inner = self
            .inner
            .lock()
            .map_err(|_| BackendError::failed("replay store lock poisoned"))?;
        inner.since_sweep += 1;
        if inner.since_sweep >= SWEEP_EVERY {
            inner.seen.retain(|_, exp| *exp > now);
            inner.since_sweep = 0;
        }
        let key = (tenant.clone(), jti_hash(jti));
        match inner.seen.get(&key) {
            Some(exp) if *exp > now => Ok(false),
            _ => {
                inner.seen.insert(key, expires_at);
                Ok(true)
            }
        }
    }
}

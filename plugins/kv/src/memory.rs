//! An in-process map: for tests and ephemeral nodes. Not durable.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use warden_plugin_core::{Tenant, check_key};

use crate::ops::{check_prefix, check_write, clamp_limit, increment, page};
use crate::{CasOutcome, Cursor, KvError, KvStore, Page};

type Tenants = HashMap<Tenant, BTreeMap<String, Vec<u8>>>;

/// Keys in an ordered map per tenant, behind one lock: simple and correct,
/// meant for tests and single-node ephemeral use, not for hot paths.
pub struct MemoryKv {
    data: RwLock<Tenants>,
    max_value_bytes: usize,
}

impl MemoryKv {
    /// An empty store refusing values over `max_value_bytes`.
    pub fn new(max_value_bytes: usize) -> Self {
        Self {
            data: RwLock::default(),
            max_value_bytes,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Tenants> {
        // No user code runs under the lock; poisoning carries no meaning.
        self.data
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Tenants> {
        self.data
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl KvStore for MemoryKv {
    async fn get(&self, tenant: &Tenant, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        check_key(key)?;
        Ok(self
            .read()
            .get(tenant)
            .and_then(|map| map.get(key))
            .cloned())
    }

    async fn set(&self, tenant: &Tenant, key: &str, value: Vec<u8>) -> Result<(), KvError> {
        check_write(key, value.len(), self.max_value_bytes)?;
        self.write()
            .entry(tenant.clone())
            .or_default()
            .insert(key.to_owned(), value);
        Ok(())
    }

    async fn delete(&self, tenant: &Tenant, key: &str) -> Result<bool, KvError> {
        check_key(key)?;
        Ok(self
            .write()
            .get_mut(tenant)
            .is_some_and(|map| map.remove(key).is_some()))
    }

    async fn list(
        &self,
        tenant: &Tenant,
        prefix: &str,
        cursor: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page, KvError> {
        check_prefix(prefix)?;
        let limit = clamp_limit(limit);
        let start = match cursor {
            Some(cursor) if cursor.key() >= prefix => Bound::Excluded(cursor.key()),
            _ => Bound::Included(prefix),
        };
        let data = self.read();
        let keys = data
            .get(tenant)
            .map(|map| {
                map.range::<str, _>((start, Bound::Unbounded))
                    .map(|(key, _)| key)
                    .take_while(|key| key.starts_with(prefix))
                    .take(limit + 1)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        Ok(page(keys, limit))
    }

    async fn compare_and_swap(
        &self,
        tenant: &Tenant,
        key: &str,
        expected: Option<&[u8]>,
        new: Vec<u8>,
    ) -> Result<CasOutcome, KvError> {
        check_write(key, new.len(), self.max_value_bytes)?;
        let mut data = self.write();
        let map = data.entry(tenant.clone()).or_default();
        let current = map.get(key);
        if current.map(Vec::as_slice) != expected {
            return Ok(CasOutcome::Conflict {
                current: current.cloned(),
            });
        }
        map.insert(key.to_owned(), new);
        Ok(CasOutcome::Swapped)
    }

    async fn increment(&self, tenant: &Tenant, key: &str, delta: i64) -> Result<i64, KvError> {
        check_key(key)?;
        let mut data = self.write();
        let map = data.entry(tenant.clone()).or_default();
        let value = increment(map.get(key).map(Vec::as_slice), delta)?;
        map.insert(key.to_owned(), value.to_string().into_bytes());
        Ok(value)
    }
}

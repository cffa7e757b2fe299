//! The embedded durable backend: one redb file.

use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use warden_plugin_core::{BackendError, Tenant, check_key};

use crate::ops::{check_prefix, check_write, clamp_limit, increment, page};
use crate::{CasOutcome, Cursor, KvError, KvStore, Page};

/// All tenants share one table keyed by (tenant, key): redb orders tuples
/// element by element, so a tenant's keys are one contiguous, byte-ordered
/// range, and no key can fall into another tenant's range.
const TABLE: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("kv");

type KvTable<'txn> = redb::Table<'txn, (&'static str, &'static str), &'static [u8]>;

/// kv on a redb file. Every write is its own transaction committed with
/// `Durability::Immediate`: when a call returns `Ok`, the data is on disk.
/// redb is synchronous, so calls run on tokio's blocking pool.
pub(crate) struct RedbKv {
    db: Arc<Database>,
    max_value_bytes: usize,
}

fn failed(error: impl Into<redb::Error>) -> KvError {
    BackendError::failed(error.into()).into()
}

impl RedbKv {
    /// Opens (or creates) the database at `path`, creating parent dirs.
    pub(crate) async fn open(path: &Path, max_value_bytes: usize) -> Result<Self, KvError> {
        let path = path.to_owned();
        let db = tokio::task::spawn_blocking(move || -> Result<Database, KvError> {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(BackendError::failed)?;
            }
            let db = Database::create(&path).map_err(failed)?;
            // Create the table up front, so readers never see it missing.
            let txn = db.begin_write().map_err(failed)?;
            txn.open_table(TABLE).map_err(failed)?;
            txn.commit().map_err(failed)?;
            Ok(db)
        })
        .await
        .map_err(BackendError::failed)??;
        Ok(Self {
            db: Arc::new(db),
            max_value_bytes,
        })
    }

    /// Runs `op` on the blocking pool with the database.
    async fn blocking<T, F>(&self, op: F) -> Result<T, KvError>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, KvError> + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || op(&db))
            .await
            .map_err(BackendError::failed)?
    }

    /// Runs `op` in one write transaction and commits it durably. `op`
    /// returns the result and whether anything was written (a CAS conflict
    /// writes nothing and skips the fsync).
    async fn write<T, F>(&self, op: F) -> Result<T, KvError>
    where
        T: Send + 'static,
        F: FnOnce(&mut KvTable<'_>) -> Result<(T, bool), KvError> + Send + 'static,
    {
        self.blocking(move |db| {
            let mut txn = db.begin_write().map_err(failed)?;
            txn.set_durability(Durability::Immediate).map_err(failed)?;
            let (result, wrote) = {
                let mut table = txn.open_table(TABLE).map_err(failed)?;
                op(&mut table)?
            };
            if wrote {
                txn.commit().map_err(failed)?;
            } else {
                txn.abort().map_err(failed)?;
            }
            Ok(result)
        })
        .await
    }
}

#[async_trait]
impl KvStore for RedbKv {
    async fn get(&self, tenant: &Tenant, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        check_key(key)?;
        let (tenant, key) = (tenant.clone(), key.to_owned());
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(failed)?;
            let table = txn.open_table(TABLE).map_err(failed)?;
            let value = table.get((tenant.as_str(), key.as_str())).map_err(failed)?;
            Ok(value.map(|v| v.value().to_vec()))
        })
        .await
    }

    async fn set(&self, tenant: &Tenant, key: &str, value: Vec<u8>) -> Result<(), KvError> {
        check_write(key, value.len(), self.max_value_bytes)?;
        let (tenant, key) = (tenant.clone(), key.to_owned());
        self.write(move |table| {
            table
                .insert((tenant.as_str(), key.as_str()), value.as_slice())
                .map_err(failed)?;
            Ok(((), true))
        })
        .await
    }

    async fn delete(&self, tenant: &Tenant, key: &str) -> Result<bool, KvError> {
        check_key(key)?;
        let (tenant, key) = (tenant.clone(), key.to_owned());
        self.write(move |table| {
            let existed = table
                .remove((tenant.as_str(), key.as_str()))
                .map_err(failed)?
                .is_some();
            Ok((existed, existed))
        })
        .await
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
        let (tenant, prefix) = (tenant.clone(), prefix.to_owned());
        let after = cursor
            .map(|c| c.key().to_owned())
            .filter(|after| *after >= prefix);
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(failed)?;
            let table = txn.open_table(TABLE).map_err(failed)?;
            let t = tenant.as_str();
            let start = match &after {
                Some(after) => Bound::Excluded((t, after.as_str())),
                None => Bound::Included((t, prefix.as_str())),
            };
            let mut keys = Vec::new();
            for entry in table
                .range::<(&str, &str)>((start, Bound::Unbounded))
                .map_err(failed)?
            {
                let (key, _) = entry.map_err(failed)?;
                let (key_tenant, key) = key.value();
                if key_tenant != t || !key.starts_with(prefix.as_str()) || keys.len() > limit {
                    break;
                }
                keys.push(key.to_owned());
            }
            Ok(page(keys, limit))
        })
        .await
    }

    async fn compare_and_swap(
        &self,
        tenant: &Tenant,
        key: &str,
        expected: Option<&[u8]>,
        new: Vec<u8>,
    ) -> Result<CasOutcome, KvError> {
        check_write(key, new.len(), self.max_value_bytes)?;
        let (tenant, key) = (tenant.clone(), key.to_owned());
        let expected = expected.map(<[u8]>::to_vec);
        self.write(move |table| {
            let k = (tenant.as_str(), key.as_str());
            let current = table.get(k).map_err(failed)?.map(|v| v.value().to_vec());
            if current != expected {
                return Ok((CasOutcome::Conflict { current }, false));
            }
            table.insert(k, new.as_slice()).map_err(failed)?;
            Ok((CasOutcome::Swapped, true))
        })
        .await
    }

    async fn increment(&self, tenant: &Tenant, key: &str, delta: i64) -> Result<i64, KvError> {
        check_key(key)?;
        let (tenant, key) = (tenant.clone(), key.to_owned());
        self.write(move |table| {
            let k = (tenant.as_str(), key.as_str());
            let current = table.get(k).map_err(failed)?.map(|v| v.value().to_vec());
            let value = increment(current.as_deref(), delta)?;
            table
                .insert(k, value.to_string().as_bytes())
                .map_err(failed)?;
            Ok((value, true))
        })
        .await
    }
}

//! [`RegistryStore`]: the registry as every node sees it, async, with a
//! revision and a change feed.
//!
//! The embedded backend is [`RedbRegistry`]; a shared backend (Redis, with
//! the feed over pub/sub) implements the same trait. Writers (the admin API)
//! only write here; every node, the writing one included, learns of the
//! change from [`RegistryStore::subscribe`] and reloads what it serves.

use crate::RegistryError;
use crate::feed::Change;
use crate::model::{FunctionRecord, FunctionSpec, TenantRecord, TenantSpec, VersionRecord};
use crate::redb::{Registry, RouteCaps, Snapshot};
use async_trait::async_trait;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::broadcast;

type Result<T> = std::result::Result<T, RegistryError>;

/// Tenants, functions, versions and which version is active, behind any
/// backend. Writes are atomic: a failed write changes nothing.
#[async_trait]
pub trait RegistryStore: Send + Sync + 'static {
    /// Creates a tenant or replaces its hosts and tier; `true` if created.
    async fn put_tenant(&self, name: &str, spec: &TenantSpec) -> Result<(TenantRecord, bool)>;
    /// Deletes a tenant with its functions and versions.
    async fn delete_tenant(&self, name: &str) -> Result<()>;
    /// One tenant.
    async fn tenant(&self, name: &str) -> Result<TenantRecord>;
    /// All tenants, by name.
    async fn tenants(&self) -> Result<Vec<TenantRecord>>;
    /// Creates or updates a function's routes and limits, keeping its
    /// active version; `true` if created.
    async fn put_function(
        &self,
        tenant: &str,
        name: &str,
        spec: &FunctionSpec,
    ) -> Result<(FunctionRecord, bool)>;
    /// One function.
    async fn function(&self, tenant: &str, name: &str) -> Result<FunctionRecord>;
    /// A tenant's functions, by name.
    async fn functions(&self, tenant: &str) -> Result<Vec<FunctionRecord>>;
    /// Records an uploaded version (its bytes already stored); idempotent,
    /// `true` if new.
    async fn add_version(
        &self,
        tenant: &str,
        function: &str,
        digest: &str,
        size: u64,
    ) -> Result<(VersionRecord, bool)>;
    /// A function's versions, oldest first.
    async fn versions(&self, tenant: &str, function: &str) -> Result<Vec<VersionRecord>>;
    /// Makes `digest` the version that serves `function`.
    async fn activate(&self, tenant: &str, function: &str, digest: &str) -> Result<FunctionRecord>;
    /// One tenant and its functions, read together; `None` if it is gone.
    async fn tenant_with_functions(
        &self,
        name: &str,
    ) -> Result<Option<(TenantRecord, Vec<FunctionRecord>)>>;
    /// Everything, read together, with its revision.
    async fn snapshot(&self) -> Result<Snapshot>;
    /// The changes after `revision`, oldest first; `None` when the backend
    /// no longer has them (reload the snapshot instead).
    async fn changes_since(&self, revision: u64) -> Result<Option<Vec<Change>>>;
    /// The revision of the last committed write.
    fn revision(&self) -> u64;
    /// Changes committed from now on.
    fn subscribe(&self) -> broadcast::Receiver<Change>;
}

/// The embedded registry: a redb file, its blocking calls run on tokio's
/// blocking pool.
#[derive(Debug, Clone)]
pub struct RedbRegistry {
    inner: Arc<Registry>,
}

impl RedbRegistry {
    /// Opens or creates the registry file at `path`, with route `caps`.
    pub async fn open(path: &Path, caps: RouteCaps) -> Result<Self> {
        let path = path.to_path_buf();
        let inner = tokio::task::spawn_blocking(move || Registry::open_with(&path, caps))
            .await
            .map_err(worker_failed)??;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Registry) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(worker_failed)?
    }
}

fn worker_failed(e: tokio::task::JoinError) -> RegistryError {
    RegistryError::Storage(format!("registry worker failed: {e}"))
}

#[async_trait]
impl RegistryStore for RedbRegistry {
    async fn put_tenant(&self, name: &str, spec: &TenantSpec) -> Result<(TenantRecord, bool)> {
        let (name, spec) = (name.to_string(), spec.clone());
        self.run(move |r| r.put_tenant(&name, &spec)).await
    }

    async fn delete_tenant(&self, name: &str) -> Result<()> {
        let name = name.to_string();
        self.run(move |r| r.delete_tenant(&name)).await
    }

    async fn tenant(&self, name: &str) -> Result<TenantRecord> {
        let name = name.to_string();
        self.run(move |r| r.tenant(&name)).await
    }

    async fn tenants(&self) -> Result<Vec<TenantRecord>> {
        self.run(Registry::tenants).await
    }

    async fn put_function(
        &self,
        tenant: &str,
        name: &str,
        spec: &FunctionSpec,
    ) -> Result<(FunctionRecord, bool)> {
        let (tenant, name, spec) = (tenant.to_string(), name.to_string(), spec.clone());
        self.run(move |r| r.put_function(&tenant, &name, &spec))
            .await
    }

    async fn function(&self, tenant: &str, name: &str) -> Result<FunctionRecord> {
        let (tenant, name) = (tenant.to_string(), name.to_string());
        self.run(move |r| r.function(&tenant, &name)).await
    }

    async fn functions(&self, tenant: &str) -> Result<Vec<FunctionRecord>> {
        let tenant = tenant.to_string();
        self.run(move |r| r.functions(&tenant)).await
    }

    async fn add_version(
        &self,
        tenant: &str,
        function: &str,
        digest: &str,
        size: u64,
    ) -> Result<(VersionRecord, bool)> {
        let (tenant, function, digest) =
            (tenant.to_string(), function.to_string(), digest.to_string());
        self.run(move |r| r.add_version(&tenant, &function, &digest, size))
            .await
    }

    async fn versions(&self, tenant: &str, function: &str) -> Result<Vec<VersionRecord>> {
        let (tenant, function) = (tenant.to_string(), function.to_string());
        self.run(move |r| r.versions(&tenant, &function)).await
    }

    async fn activate(&self, tenant: &str, function: &str, digest: &str) -> Result<FunctionRecord> {
        let (tenant, function, digest) =
            (tenant.to_string(), function.to_string(), digest.to_string());
        self.run(move |r| r.activate(&tenant, &function, &digest))
            .await
    }

    async fn tenant_with_functions(
        &self,
        name: &str,
    ) -> Result<Option<(TenantRecord, Vec<FunctionRecord>)>> {
        let name = name.to_string();
        self.run(move |r| r.tenant_with_functions(&name)).await
    }

    async fn snapshot(&self) -> Result<Snapshot> {
        self.run(Registry::snapshot).await
    }

    async fn changes_since(&self, revision: u64) -> Result<Option<Vec<Change>>> {
        self.run(move |r| r.changes_since(revision)).await
    }

    fn revision(&self) -> u64 {
        self.inner.revision()
    }

    fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.inner.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_bump_the_revision_and_reach_subscribers_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = RedbRegistry::open(&dir.path().join("r.redb"), RouteCaps::default())
            .await
            .expect("open");
        let mut feed = store.subscribe();
        assert_eq!(store.revision(), 0);
        store
            .put_tenant("acme", &TenantSpec::default())
            .await
            .expect("acme");
        store
            .put_tenant("globex", &TenantSpec::default())
            .await
            .expect("globex");
        assert!(
            store
                .put_tenant("Bad", &TenantSpec::default())
                .await
                .is_err(),
            "a refused write"
        );
        assert_eq!(store.revision(), 2, "a refused write bumps nothing");
        let first = feed.recv().await.expect("first");
        let second = feed.recv().await.expect("second");
        assert_eq!((first.revision, first.tenant.as_str()), (1, "acme"));
        assert_eq!((second.revision, second.tenant.as_str()), (2, "globex"));
        let since = store
            .changes_since(1)
            .await
            .expect("since")
            .expect("in log");
        assert_eq!(since, vec![second]);
        assert_eq!(store.snapshot().await.expect("snapshot").revision, 2);
    }

    #[tokio::test]
    async fn the_revision_survives_a_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.redb");
        {
            let store = RedbRegistry::open(&path, RouteCaps::default())
                .await
                .expect("open");
            store
                .put_tenant("acme", &TenantSpec::default())
                .await
                .expect("acme");
            store.delete_tenant("acme").await.expect("delete");
        }
        let store = RedbRegistry::open(&path, RouteCaps::default())
            .await
            .expect("reopen");
        assert_eq!(store.revision(), 2);
        let changes = store
            .changes_since(0)
            .await
            .expect("since")
            .expect("in log");
        assert_eq!(changes.len(), 2);
    }
}

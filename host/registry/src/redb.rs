//! The redb-backed registry: the embedded default, one file in the data
//! dir. Every write transaction also bumps the revision and appends to a
//! bounded change log in the same commit, then publishes the change on the
//! feed, all under one lock so events leave in revision order.
//!
//! Keys are `tenant`, `tenant/function` and `tenant/function/digest`; names
//! are validated DNS labels, so `/` can never appear inside a segment and a
//! prefix range scan over `tenant/` sees exactly that tenant's rows.

use super::error::RegistryError;
use super::model::{
    FunctionRecord, FunctionSpec, RouteRule, TenantRecord, TenantSpec, VersionRecord,
    check_not_reserved, normalize_route, now_secs, validate_digest, validate_host, validate_name,
    validate_route,
};
use crate::feed::{Change, FEED_CAPACITY};
use redb::{Database, ReadableDatabase as _, ReadableTable, TableDefinition, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use tokio::sync::broadcast;

const TENANTS: TableDefinition<&str, &str> = TableDefinition::new("tenants");
const FUNCTIONS: TableDefinition<&str, &str> = TableDefinition::new("functions");
const VERSIONS: TableDefinition<&str, &str> = TableDefinition::new("versions");
/// `"revision"` -> the revision of the last committed write.
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// revision -> the tenant that write changed; the newest [`CHANGE_LOG_LEN`].
const CHANGES: TableDefinition<u64, &str> = TableDefinition::new("changes");
/// Changes kept for catch-up; a subscriber further behind reloads all.
pub const CHANGE_LOG_LEN: u64 = 10_000;

type Result<T> = std::result::Result<T, RegistryError>;

/// Everything the gateway needs to route: all tenants and functions, read in
/// one consistent transaction, and the revision they are at.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The revision of the last write included.
    pub revision: u64,
    /// All tenants.
    pub tenants: Vec<TenantRecord>,
    /// All functions of all tenants.
    pub functions: Vec<FunctionRecord>,
}

/// The durable registry of tenants, functions and versions (blocking: the
/// async [`crate::RegistryStore`] face is [`crate::RedbRegistry`]).
pub struct Registry {
    db: Database,
    /// Serializes write, revision bump and publish.
    writes: Mutex<()>,
    revision: AtomicU64,
    feed: broadcast::Sender<Change>,
    caps: RouteCaps,
}

/// How many routes a function, and a tenant in all, may have: every route
/// is a row the router scans and a conflict check compares, so they are
/// bounded like any other input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteCaps {
    /// Routes of one function.
    pub per_function: usize,
    /// Routes of all of a tenant's functions together.
    pub per_tenant: usize,
}

impl Default for RouteCaps {
    fn default() -> Self {
        Self {
            per_function: 64,
            per_tenant: 1024,
        }
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

impl Registry {
    /// Opens or creates the registry file at `path`, with the default
    /// route caps.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, RouteCaps::default())
    }

    /// Opens or creates the registry file at `path`, refusing functions
    /// and tenants with more routes than `caps` allow.
    pub fn open_with(path: &Path, caps: RouteCaps) -> Result<Self> {
        let db = Database::create(path)?;
        let txn = db.begin_write()?;
        txn.open_table(TENANTS)?;
        txn.open_table(FUNCTIONS)?;
        txn.open_table(VERSIONS)?;
        txn.open_table(CHANGES)?;
        let revision = txn
            .open_table(META)?
            .get("revision")?
            .map_or(0, |v| v.value());
        txn.commit()?;
        Ok(Self {
            db,
            writes: Mutex::new(()),
            revision: AtomicU64::new(revision),
            feed: broadcast::channel(FEED_CAPACITY).0,
            caps,
        })
    }

    /// The revision of the last committed write.
    pub fn revision(&self) -> u64 {
        self.revision.load(Ordering::Acquire)
    }

    /// Changes committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.feed.subscribe()
    }

    /// The changes after `revision`, oldest first; `None` when the log no
    /// longer reaches back that far (then reload everything).
    pub fn changes_since(&self, revision: u64) -> Result<Option<Vec<Change>>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(CHANGES)?;
        let current = txn
            .open_table(META)?
            .get("revision")?
            .map_or(0, |v| v.value());
        if current.saturating_sub(revision) > CHANGE_LOG_LEN {
            return Ok(None);
        }
        let mut out = Vec::new();
        for row in table.range(revision.saturating_add(1)..)? {
            let (rev, tenant) = row?;
            out.push(Change {
                revision: rev.value(),
                tenant: tenant.value().to_string(),
            });
        }
        Ok(Some(out))
    }

    /// Starts a write: takes the write lock, then the transaction.
    fn begin(&self) -> Result<(MutexGuard<'_, ()>, WriteTransaction)> {
        let guard = self
            .writes
            .lock()
            .map_err(|_| RegistryError::Storage("registry write lock poisoned".into()))?;
        Ok((guard, self.db.begin_write()?))
    }

    /// Commits a write that changed `tenant`: bumps the revision and logs
    /// the change in the same transaction, then publishes it.
    fn commit(
        &self,
        _guard: MutexGuard<'_, ()>,
        txn: WriteTransaction,
        tenant: &str,
    ) -> Result<()> {
        let revision = {
            let mut meta = txn.open_table(META)?;
            let revision = meta.get("revision")?.map_or(0, |v| v.value()) + 1;
            meta.insert("revision", revision)?;
            let mut changes = txn.open_table(CHANGES)?;
            changes.insert(revision, tenant)?;
            if revision > CHANGE_LOG_LEN {
                changes.retain_in(..revision - CHANGE_LOG_LEN, |_, _| false)?;
            }
            revision
        };
        txn.commit()?;
        self.revision.store(revision, Ordering::Release);
        // No subscriber is fine: nodes catch up from the revision.
        let _ = self.feed.send(Change {
            revision,
            tenant: tenant.to_string(),
        });
        Ok(())
    }

    /// Creates a tenant, or replaces its custom hosts if it exists. Fails if
    /// a host already belongs to another tenant.
    pub fn put_tenant(&self, name: &str, spec: &TenantSpec) -> Result<(TenantRecord, bool)> {
        validate_name("tenant", name).map_err(RegistryError::Invalid)?;
        let hosts = &spec.hosts;
        for host in hosts {
            validate_host(host).map_err(RegistryError::Invalid)?;
        }
        validate_delegations(name, spec).map_err(RegistryError::Invalid)?;
        if let Some(auth) = &spec.auth {
            auth.validate()
                .map_err(|e| RegistryError::Invalid(format!("auth: {e}")))?;
        }
        if let Some(model) = &spec.model {
            let problems = model.problems(None);
            if !problems.is_empty() {
                return Err(RegistryError::Invalid(format!(
                    "model: {}",
                    problems.join("; ")
                )));
            }
        }
        let (guard, txn) = self.begin()?;
        let (record, created) = {
            let mut table = txn.open_table(TENANTS)?;
            for row in table.iter()? {
                let (key, value) = row?;
                if key.value() == name {
                    continue;
                }
                let other: TenantRecord = decode(value.value())?;
                check_hosts_against(name, spec, &other).map_err(RegistryError::Conflict)?;
            }
            let existing: Option<TenantRecord> = match table.get(name)? {
                Some(v) => Some(decode(v.value())?),
                None => None,
            };
            let created = existing.is_none();
            let record = TenantRecord {
                name: name.to_string(),
                hosts: hosts.clone(),
                tier: spec.tier.clone(),
                auth: spec.auth.clone(),
                delegations: spec.delegations.clone(),
                model: spec.model.clone(),
                created_at: existing.map(|t| t.created_at).unwrap_or_else(now_secs),
            };
            table.insert(name, encode(&record)?.as_str())?;
            (record, created)
        };
        self.commit(guard, txn, name)?;
        Ok((record, created))
    }

    /// Deletes a tenant with all its functions and version records.
    pub fn delete_tenant(&self, name: &str) -> Result<()> {
        let (guard, txn) = self.begin()?;
        {
            let mut tenants = txn.open_table(TENANTS)?;
            if tenants.remove(name)?.is_none() {
                return Err(RegistryError::NotFound(format!("tenant {name:?}")));
            }
            let prefix = format!("{name}/");
            let mut functions = txn.open_table(FUNCTIONS)?;
            functions.retain(|k, _| !k.starts_with(&prefix))?;
            let mut versions = txn.open_table(VERSIONS)?;
            versions.retain(|k, _| !k.starts_with(&prefix))?;
        }
        self.commit(guard, txn, name)?;
        Ok(())
    }

    /// One tenant.
    pub fn tenant(&self, name: &str) -> Result<TenantRecord> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(TENANTS)?;
        let value = table
            .get(name)?
            .ok_or_else(|| RegistryError::NotFound(format!("tenant {name:?}")))?;
        decode(value.value())
    }

    /// All tenants, by name.
    pub fn tenants(&self) -> Result<Vec<TenantRecord>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(TENANTS)?;
        collect(table.iter()?)
    }

    /// Creates or updates a function's routes and limits, keeping its active
    /// version. Fails if a route is already served by another function of the
    /// same tenant.
    pub fn put_function(
        &self,
        tenant: &str,
        name: &str,
        spec: &FunctionSpec,
    ) -> Result<(FunctionRecord, bool)> {
        validate_name("function", name).map_err(RegistryError::Invalid)?;
        let routes = &spec.routes;
        if routes.is_empty() {
            return Err(RegistryError::Invalid(format!(
                "function {name:?} needs at least one route"
            )));
        }
        if routes.len() > self.caps.per_function {
            return Err(RegistryError::Invalid(format!(
                "function {name:?} has {} routes; at most {} are allowed",
                routes.len(),
                self.caps.per_function
            )));
        }
        // Outside the write lock: validation and normalization (routes are
        // compared as the router matches them: `/dup` and `/dup/` are one).
        let mut mine: HashMap<&str, &str> = HashMap::with_capacity(routes.len());
        for route in routes {
            validate_route(route).map_err(RegistryError::Invalid)?;
            check_not_reserved(route)
                .map_err(|e| RegistryError::Invalid(format!("function {name:?}: {e}")))?;
            if let Some(first) = mine.insert(normalize_route(route), route) {
                return Err(RegistryError::Invalid(format!(
                    "routes {first:?} and {route:?} of function {name:?} are the same route"
                )));
            }
        }
        for key in spec.route_auth.keys() {
            RouteRule::parse(key, routes).map_err(RegistryError::Invalid)?;
        }
        let (guard, txn) = self.begin()?;
        let (record, created) = {
            if txn.open_table(TENANTS)?.get(tenant)?.is_none() {
                return Err(RegistryError::NotFound(format!("tenant {tenant:?}")));
            }
            let mut table = txn.open_table(FUNCTIONS)?;
            let key = format!("{tenant}/{name}");
            let prefix = format!("{tenant}/");
            // One pass over the tenant's other routes, each a hash lookup.
            let mut tenant_routes = routes.len();
            for row in table.range(prefix.as_str()..)? {
                let (k, v) = row?;
                if !k.value().starts_with(&prefix) {
                    break;
                }
                let other: FunctionRecord = decode(v.value())?;
                if other.name == name {
                    continue;
                }
                tenant_routes += other.routes.len();
                if let Some(route) = other
                    .routes
                    .iter()
                    .find_map(|r| mine.get(normalize_route(r)))
                {
                    return Err(RegistryError::Conflict(format!(
                        "route {route:?} is already served by function {:?}",
                        other.name
                    )));
                }
            }
            if tenant_routes > self.caps.per_tenant {
                return Err(RegistryError::Invalid(format!(
                    "tenant {tenant:?} would have {tenant_routes} routes; at most {} are allowed",
                    self.caps.per_tenant
                )));
            }
            let existing: Option<FunctionRecord> = match table.get(key.as_str())? {
                Some(v) => Some(decode(v.value())?),
                None => None,
            };
            let created = existing.is_none();
            let record = FunctionRecord {
                tenant: tenant.to_string(),
                name: name.to_string(),
                routes: routes.clone(),
                limits: spec.limits,
                auth: spec.auth.clone(),
                route_auth: spec.route_auth.clone(),
                active: existing.and_then(|f| f.active),
                updated_at: now_secs(),
            };
            table.insert(key.as_str(), encode(&record)?.as_str())?;
            (record, created)
        };
        self.commit(guard, txn, tenant)?;
        Ok((record, created))
    }

    /// One function.
    pub fn function(&self, tenant: &str, name: &str) -> Result<FunctionRecord> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(FUNCTIONS)?;
        let value = table
            .get(format!("{tenant}/{name}").as_str())?
            .ok_or_else(|| RegistryError::NotFound(format!("function {tenant}/{name}")))?;
        decode(value.value())
    }

    /// A tenant's functions, by name.
    pub fn functions(&self, tenant: &str) -> Result<Vec<FunctionRecord>> {
        let txn = self.db.begin_read()?;
        if txn.open_table(TENANTS)?.get(tenant)?.is_none() {
            return Err(RegistryError::NotFound(format!("tenant {tenant:?}")));
        }
        let table = txn.open_table(FUNCTIONS)?;
        let prefix = format!("{tenant}/");
        collect_prefix(&table, &prefix)
    }

    /// Records an uploaded version (its bytes must already be in the blob
    /// store). Recording the same digest twice returns the first record and
    /// `false`: uploads are idempotent.
    pub fn add_version(
        &self,
        tenant: &str,
        function: &str,
        digest: &str,
        size: u64,
    ) -> Result<(VersionRecord, bool)> {
        validate_digest(digest).map_err(RegistryError::Invalid)?;
        let (guard, txn) = self.begin()?;
        let (record, created) = {
            let fkey = format!("{tenant}/{function}");
            if txn.open_table(FUNCTIONS)?.get(fkey.as_str())?.is_none() {
                return Err(RegistryError::NotFound(format!("function {fkey}")));
            }
            let mut table = txn.open_table(VERSIONS)?;
            let key = format!("{fkey}/{digest}");
            let existing = table.get(key.as_str())?.map(|v| v.value().to_string());
            if let Some(existing) = existing {
                (decode(&existing)?, false)
            } else {
                let record = VersionRecord {
                    tenant: tenant.to_string(),
                    function: function.to_string(),
                    digest: digest.to_string(),
                    size,
                    created_at: now_secs(),
                };
                table.insert(key.as_str(), encode(&record)?.as_str())?;
                (record, true)
            }
        };
        self.commit(guard, txn, tenant)?;
        Ok((record, created))
    }

    /// A function's versions, oldest first.
    pub fn versions(&self, tenant: &str, function: &str) -> Result<Vec<VersionRecord>> {
        let txn = self.db.begin_read()?;
        let fkey = format!("{tenant}/{function}");
        if txn.open_table(FUNCTIONS)?.get(fkey.as_str())?.is_none() {
            return Err(RegistryError::NotFound(format!("function {fkey}")));
        }
        let table = txn.open_table(VERSIONS)?;
        let mut versions: Vec<VersionRecord> = collect_prefix(&table, &format!("{fkey}/"))?;
        versions.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then(a.digest.cmp(&b.digest))
        });
        Ok(versions)
    }

    /// Makes `digest` the version that serves `function`.
    pub fn activate(&self, tenant: &str, function: &str, digest: &str) -> Result<FunctionRecord> {
        validate_digest(digest).map_err(RegistryError::Invalid)?;
        let (guard, txn) = self.begin()?;
        let record = {
            let fkey = format!("{tenant}/{function}");
            let vkey = format!("{fkey}/{digest}");
            if txn.open_table(VERSIONS)?.get(vkey.as_str())?.is_none() {
                return Err(RegistryError::NotFound(format!("version {vkey}")));
            }
            let mut table = txn.open_table(FUNCTIONS)?;
            let current = table
                .get(fkey.as_str())?
                .map(|v| v.value().to_string())
                .ok_or_else(|| RegistryError::NotFound(format!("function {fkey}")))?;
            let mut record: FunctionRecord = decode(&current)?;
            record.active = Some(digest.to_string());
            record.updated_at = now_secs();
            table.insert(fkey.as_str(), encode(&record)?.as_str())?;
            record
        };
        self.commit(guard, txn, tenant)?;
        Ok(record)
    }

    /// One tenant and its functions, read in one transaction; `None` if the
    /// tenant does not exist.
    pub fn tenant_with_functions(
        &self,
        name: &str,
    ) -> Result<Option<(TenantRecord, Vec<FunctionRecord>)>> {
        let txn = self.db.begin_read()?;
        let tenant: TenantRecord = match txn.open_table(TENANTS)?.get(name)? {
            Some(v) => decode(v.value())?,
            None => return Ok(None),
        };
        let functions = collect_prefix(&txn.open_table(FUNCTIONS)?, &format!("{name}/"))?;
        Ok(Some((tenant, functions)))
    }

    /// All tenants and functions, read in one transaction.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let txn = self.db.begin_read()?;
        let tenants = collect(txn.open_table(TENANTS)?.iter()?)?;
        let functions = collect(txn.open_table(FUNCTIONS)?.iter()?)?;
        let revision = txn
            .open_table(META)?
            .get("revision")?
            .map_or(0, |v| v.value());
        Ok(Snapshot {
            revision,
            tenants,
            functions,
        })
    }
}

/// A delegation names a host under one of the tenant's own custom hosts
/// and another tenant.
fn validate_delegations(name: &str, spec: &TenantSpec) -> std::result::Result<(), String> {
    for (host, tenant) in &spec.delegations {
        validate_host(host).map_err(|e| format!("delegations: {e}"))?;
        validate_name("tenant", tenant).map_err(|e| format!("delegations: {e}"))?;
        if tenant == name {
            return Err(format!(
                "delegations: {host:?} is delegated to the tenant itself"
            ));
        }
        if !spec
            .hosts
            .iter()
            .any(|own| host_within(host, own) && host != own)
        {
            return Err(format!(
                "delegations: {host:?} is not under one of the tenant's custom hosts"
            ));
        }
    }
    Ok(())
}

/// Refuses a host of `spec` (tenant `name`) that `other` owns, that lies
/// under one of `other`'s hosts without `other` delegating it to `name`,
/// or that lies above one of `other`'s hosts without `name` delegating
/// that one to `other`: two tenants on one cookie domain need the
/// parent's consent.
fn check_hosts_against(
    name: &str,
    spec: &TenantSpec,
    other: &TenantRecord,
) -> std::result::Result<(), String> {
    let delegated = |delegations: &BTreeMap<String, String>, host: &str, to: &str| {
        delegations
            .iter()
            .any(|(d, tenant)| tenant == to && host_within(host, d))
    };
    for host in &spec.hosts {
        for owned in &other.hosts {
            if host == owned {
                return Err(format!(
                    "host {host:?} already belongs to tenant {:?}",
                    other.name
                ));
            }
            if host_within(host, owned) && !delegated(&other.delegations, host, name) {
                return Err(format!(
                    "host {host:?} is under {owned:?}, which belongs to tenant {:?} \
                     (it can delegate it with `delegations`)",
                    other.name
                ));
            }
            if host_within(owned, host) && !delegated(&spec.delegations, owned, &other.name) {
                return Err(format!(
                    "host {host:?} is above {owned:?}, which belongs to tenant {:?}: \
                     delegate {owned:?} to it in `delegations`",
                    other.name
                ));
            }
        }
    }
    Ok(())
}

/// Whether `host` is `owned` or one of its subdomains: a tenant's custom
/// host covers the names under it, so no other tenant can claim them (and
/// receive cookies set for the parent domain).
fn host_within(host: &str, owned: &str) -> bool {
    host == owned
        || host
            .strip_suffix(owned)
            .is_some_and(|prefix| prefix.ends_with('.'))
}

fn encode<T: Serialize>(value: &T) -> Result<String> {
    Ok(serde_json::to_string(value)?)
}

fn decode<T: DeserializeOwned>(value: &str) -> Result<T> {
    Ok(serde_json::from_str(value)?)
}

fn collect<T: DeserializeOwned>(
    range: redb::Range<'_, &'static str, &'static str>,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for row in range {
        let (_, value) = row?;
        out.push(decode(value.value())?);
    }
    Ok(out)
}

fn collect_prefix<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static str>,
    prefix: &str,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for row in table.range(prefix..)? {
        let (key, value) = row?;
        if !key.value().starts_with(prefix) {
            break;
        }
        out.push(decode(value.value())?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> (tempfile::TempDir, Registry) {
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = Registry::open(&dir.path().join("registry.redb")).expect("open");
        (dir, reg)
    }

    const D1: &str = "1111111111111111111111111111111111111111111111111111111111111111";

    #[test]
    fn versions_are_idempotent_and_activation_needs_a_version() {
        let (_dir, reg) = open();
        reg.put_tenant("acme", &TenantSpec::default())
            .expect("tenant");
        reg.put_function("acme", "hello", &FunctionSpec::with_routes(&["/hello"]))
            .expect("function");
        assert!(matches!(
            reg.activate("acme", "hello", D1),
            Err(RegistryError::NotFound(_))
        ));
        let (_, created) = reg.add_version("acme", "hello", D1, 10).expect("add");
        assert!(created);
        let (_, created) = reg.add_version("acme", "hello", D1, 10).expect("add again");
        assert!(!created);
        assert_eq!(reg.versions("acme", "hello").expect("versions").len(), 1);
        let f = reg.activate("acme", "hello", D1).expect("activate");
        assert_eq!(f.active.as_deref(), Some(D1));
        // Updating routes keeps the active version.
        let (f, created) = reg
            .put_function("acme", "hello", &FunctionSpec::with_routes(&["/hi"]))
            .expect("update");
        assert!(!created);
        assert_eq!(f.active.as_deref(), Some(D1));
    }

    #[test]
    fn hosts_and_routes_cannot_be_shared() {
        let (_dir, reg) = open();
        reg.put_tenant("acme", &TenantSpec::with_hosts(&["api.acme.test"]))
            .expect("acme");
        assert!(matches!(
            reg.put_tenant("globex", &TenantSpec::with_hosts(&["api.acme.test"])),
            Err(RegistryError::Conflict(_))
        ));
        reg.put_function("acme", "a", &FunctionSpec::with_routes(&["/x"]))
            .expect("a");
        assert!(matches!(
            reg.put_function("acme", "b", &FunctionSpec::with_routes(&["/x"])),
            Err(RegistryError::Conflict(_))
        ));
    }

    #[test]
    fn subdomains_of_another_tenants_host_cannot_be_claimed() {
        let (_dir, reg) = open();
        reg.put_tenant("neighbour", &TenantSpec::with_hosts(&["neighbour.example"]))
            .expect("neighbour");
        for stolen in ["x.neighbour.example", "a.b.neighbour.example"] {
            assert!(
                matches!(
                    reg.put_tenant("squatter", &TenantSpec::with_hosts(&[stolen])),
                    Err(RegistryError::Conflict(_))
                ),
                "{stolen} taken"
            );
        }
        reg.put_tenant("other", &TenantSpec::with_hosts(&["xneighbour.example"]))
            .expect("a different domain that merely ends alike");
        assert!(host_within("a.b", "b") && !host_within("ab", "b"));
    }

    #[test]
    fn a_parent_domain_of_another_tenants_host_cannot_be_claimed() {
        let (_dir, reg) = open();
        reg.put_tenant("shop", &TenantSpec::with_hosts(&["shop.acme.example"]))
            .expect("shop");
        let err = reg
            .put_tenant("acme", &TenantSpec::with_hosts(&["acme.example"]))
            .expect_err("above another tenant's host");
        assert!(
            matches!(&err, RegistryError::Conflict(m) if m.contains("above")),
            "{err}"
        );
        // Delegating the child to its owner makes the parent claimable.
        let mut spec = TenantSpec::with_hosts(&["acme.example"]);
        spec.delegations
            .insert("shop.acme.example".into(), "shop".into());
        reg.put_tenant("acme", &spec)
            .expect("parent with delegation");
    }

    #[test]
    fn a_delegated_subdomain_can_be_claimed_by_its_delegate_only() {
        let (_dir, reg) = open();
        let mut acme = TenantSpec::with_hosts(&["acme.example"]);
        acme.delegations
            .insert("eu.acme.example".into(), "acme-eu".into());
        reg.put_tenant("acme", &acme).expect("acme");
        // The delegate may take the host and names under it...
        reg.put_tenant(
            "acme-eu",
            &TenantSpec::with_hosts(&["eu.acme.example", "shop.eu.acme.example"]),
        )
        .expect("delegated");
        // ...nobody else may, nor may the delegate take a sibling.
        for (tenant, host) in [
            ("squatter", "x.eu.acme.example"),
            ("acme-eu", "us.acme.example"),
        ] {
            let err = reg
                .put_tenant(tenant, &TenantSpec::with_hosts(&["eu2.example", host]))
                .expect_err("not delegated");
            assert!(
                matches!(err, RegistryError::Conflict(_)),
                "{tenant} {host}: {err}"
            );
        }
        // A delegation in use cannot be withdrawn.
        let err = reg
            .put_tenant("acme", &TenantSpec::with_hosts(&["acme.example"]))
            .expect_err("delegation in use");
        assert!(matches!(err, RegistryError::Conflict(_)), "{err}");
        let kept = reg
            .tenant_with_functions("acme")
            .expect("read")
            .expect("acme");
        assert_eq!(
            kept.0
                .delegations
                .get("eu.acme.example")
                .map(String::as_str),
            Some("acme-eu")
        );
    }

    #[test]
    fn delegations_must_lie_under_the_tenants_own_hosts() {
        let (_dir, reg) = open();
        for (host, to) in [
            ("eu.other.example", "acme-eu"),
            ("acme.example", "acme-eu"),
            ("eu.acme.example", "acme"),
            ("eu.acme.example", "Not A Name"),
        ] {
            let mut spec = TenantSpec::with_hosts(&["acme.example"]);
            spec.delegations.insert(host.into(), to.into());
            let err = reg
                .put_tenant("acme", &spec)
                .expect_err("invalid delegation");
            assert!(
                matches!(err, RegistryError::Invalid(_)),
                "{host} -> {to}: {err}"
            );
        }
        assert!(
            reg.tenant_with_functions("acme").expect("read").is_none(),
            "nothing written"
        );
    }

    #[test]
    fn routes_conflict_as_the_router_matches_them_and_are_capped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let caps = RouteCaps {
            per_function: 3,
            per_tenant: 4,
        };
        let reg = Registry::open_with(&dir.path().join("r.redb"), caps).expect("open");
        reg.put_tenant("acme", &TenantSpec::default())
            .expect("acme");
        reg.put_function("acme", "a", &FunctionSpec::with_routes(&["/dup"]))
            .expect("a");
        assert!(matches!(
            reg.put_function("acme", "b", &FunctionSpec::with_routes(&["/dup/"])),
            Err(RegistryError::Conflict(_))
        ));
        assert!(matches!(
            reg.put_function("acme", "b", &FunctionSpec::with_routes(&["/x", "/x/"])),
            Err(RegistryError::Invalid(_))
        ));
        assert!(matches!(
            reg.put_function(
                "acme",
                "b",
                &FunctionSpec::with_routes(&["/1", "/2", "/3", "/4"])
            ),
            Err(RegistryError::Invalid(_))
        ));
        reg.put_function("acme", "b", &FunctionSpec::with_routes(&["/1", "/2", "/3"]))
            .expect("at the function cap");
        assert!(
            matches!(
                reg.put_function("acme", "c", &FunctionSpec::with_routes(&["/5"])),
                Err(RegistryError::Invalid(_))
            ),
            "over the tenant cap"
        );
    }

    #[test]
    fn auth_settings_and_route_rules_are_checked_and_kept() {
        let (_dir, reg) = open();
        let bad = TenantSpec {
            auth: Some(crate::TenantAuthConfig {
                leeway_s: 600,
                ..Default::default()
            }),
            ..TenantSpec::default()
        };
        assert!(matches!(
            reg.put_tenant("acme", &bad),
            Err(RegistryError::Invalid(m)) if m.contains("leeway_s")
        ));
        let good = TenantSpec {
            auth: Some(crate::TenantAuthConfig::default()),
            ..TenantSpec::default()
        };
        let (record, _) = reg.put_tenant("acme", &good).expect("tenant");
        assert_eq!(record.auth, good.auth);
        assert!(matches!(
            reg.put_function("acme", "keys", &FunctionSpec::with_routes(&["/.well-known/jwks.json"])),
            Err(RegistryError::Invalid(m)) if m.contains("reserved")
        ));
        let mut spec = FunctionSpec::with_routes(&["/todos"]);
        spec.route_auth
            .insert("GET /elsewhere".into(), crate::RoutePolicy::default());
        assert!(matches!(
            reg.put_function("acme", "todos", &spec),
            Err(RegistryError::Invalid(m)) if m.contains("outside")
        ));
        spec.route_auth.clear();
        spec.route_auth.insert(
            "GET /todos".into(),
            crate::RoutePolicy {
                public: true,
                ..Default::default()
            },
        );
        let (record, _) = reg.put_function("acme", "todos", &spec).expect("function");
        assert!(record.route_auth["GET /todos"].public);
        assert_eq!(reg.function("acme", "todos").expect("read"), record);
    }

    #[test]
    fn a_model_section_is_checked_kept_and_optional_in_old_records() {
        let (_dir, reg) = open();
        let section: crate::TenantModelConfig = serde_json::from_value(serde_json::json!({
            "aliases": {"chat": {"provider": "local", "model": "m"}},
            "warm_up": [{"alias": "chat", "prompt": "hi"}],
        }))
        .expect("section");
        let spec = TenantSpec {
            model: Some(section.clone()),
            ..TenantSpec::default()
        };
        let (record, _) = reg.put_tenant("acme", &spec).expect("tenant");
        assert_eq!(record.model.as_ref(), Some(&section));
        assert_eq!(reg.tenant("acme").expect("read").model, Some(section));
        let mut bad = crate::TenantModelConfig::default();
        bad.aliases.insert("x".into(), Default::default());
        let bad = TenantSpec {
            model: Some(bad),
            ..TenantSpec::default()
        };
        assert!(matches!(
            reg.put_tenant("acme", &bad),
            Err(RegistryError::Invalid(m)) if m.starts_with("model: alias x")
        ));
        // A record written before the field existed still loads.
        let old: TenantRecord =
            decode(r#"{"name":"old","hosts":[],"tier":null,"created_at":1}"#).expect("old");
        assert_eq!(old.model, None);
        let plain = encode(
            &reg.put_tenant("plain", &TenantSpec::default())
                .expect("t")
                .0,
        )
        .expect("encode");
        assert!(!plain.contains("model"), "{plain}");
    }

    #[test]
    fn deleting_a_tenant_removes_only_its_rows() {
        let (_dir, reg) = open();
        for t in ["acme", "acme-2"] {
            reg.put_tenant(t, &TenantSpec::default()).expect("tenant");
            reg.put_function(t, "f", &FunctionSpec::with_routes(&["/f"]))
                .expect("fn");
        }
        reg.delete_tenant("acme").expect("delete");
        let snap = reg.snapshot().expect("snapshot");
        assert_eq!(snap.tenants.len(), 1);
        assert_eq!(snap.functions.len(), 1);
        assert_eq!(snap.functions[0].tenant, "acme-2");
    }

    #[test]
    fn survives_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.redb");
        {
            let reg = Registry::open(&path).expect("open");
            reg.put_tenant("acme", &TenantSpec::default())
                .expect("tenant");
        }
        let reg = Registry::open(&path).expect("reopen");
        assert_eq!(reg.tenants().expect("tenants").len(), 1);
    }
}

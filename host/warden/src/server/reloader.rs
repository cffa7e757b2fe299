//! The reloader: keeps this node's route table in step with the registry.
//!
//! It follows the store's change feed and, for each change, reloads only
//! the tenant it names, so a deploy costs the same whether the node holds
//! ten tenants or ten thousand. When it falls behind (the feed lagged) it
//! catches up from its last applied revision, or reloads everything when
//! the store's change log no longer reaches back that far; a periodic check
//! of the store's revision catches anything the feed did not carry. Active
//! versions are prepared here (compiled, or loaded from the artifact cache),
//! never on the request path; a version that cannot be prepared leaves its
//! function unserved (503) and is logged, the others keep serving.
//!
//! Route targets hold the prepared components; once a reload drops the last
//! target of a version, the runtime drops its compiled code.

use crate::config::{DEFAULT_TIER, HostConfig, Tier};
use crate::gateway::{
    AuthPlan, RouteTable, RouteTarget, Routes, TenantIssuer, TenantPolicy, TenantRoutes,
};
use crate::metrics::Metrics;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, broadcast, watch};
use warden_plugin_core::Tenant;
use warden_registry::{
    BlobStore, Change, FunctionRecord, RegistryError, RegistryStore, TenantRecord,
};
use warden_runtime::{Prepared, Runtime};

/// How often the reloader compares its revision with the store's.
const CATCH_UP_EVERY: Duration = Duration::from_secs(2);

/// Applies registry changes to the route table.
pub struct Reloader {
    store: Arc<dyn RegistryStore>,
    blobs: BlobStore,
    runtime: Arc<Runtime>,
    routes: Routes,
    metrics: Arc<Metrics>,
    config: Arc<HostConfig>,
    verifier: Option<Arc<warden_plugin_auth::Verifier>>,
    applied: watch::Sender<u64>,
    /// Each tenant's concurrency slots, kept across reloads so a reload
    /// never resets how many requests are in flight.
    tenant_slots: Mutex<HashMap<String, (usize, Arc<Semaphore>)>>,
    /// Where tenants' model policies go (see `model_policy.rs`).
    model: Option<Arc<warden_plugin_model::ModelService>>,
    /// Prefetches tenants' warm-up prompts on activation.
    warm_up: Option<Arc<super::model_warm_up::ModelWarmUp>>,
}

impl std::fmt::Debug for Reloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloader")
            .field("applied", &*self.applied.borrow())
            .finish_non_exhaustive()
    }
}

impl Reloader {
    /// A reloader writing into `routes`.
    pub fn new(
        store: Arc<dyn RegistryStore>,
        blobs: BlobStore,
        runtime: Arc<Runtime>,
        routes: Routes,
        metrics: Arc<Metrics>,
        config: Arc<HostConfig>,
    ) -> Self {
        Self {
            store,
            blobs,
            runtime,
            routes,
            metrics,
            config,
            verifier: None,
            applied: watch::channel(0).0,
            tenant_slots: Mutex::new(HashMap::new()),
            model: None,
            warm_up: None,
        }
    }

    /// Keeps `verifier`'s tenant settings (issuer, audiences, external
    /// issuers) in step with the registry.
    pub fn with_verifier(mut self, verifier: Arc<warden_plugin_auth::Verifier>) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// Also keeps each tenant's model policy on `service` up to date, and
    /// warms its prompts up when one of its versions is activated.
    pub fn with_model(mut self, service: Arc<warden_plugin_model::ModelService>) -> Self {
        self.warm_up = Some(super::model_warm_up::ModelWarmUp::new(service.clone()));
        self.model = Some(service);
        self
    }

    /// The warm-up state, for the node's warm-up schedule.
    pub fn model_warm_up(&self) -> Option<Arc<super::model_warm_up::ModelWarmUp>> {
        self.warm_up.clone()
    }

    /// The revision applied so far; admin handlers wait on it so that a
    /// write is served by the time its answer is sent.
    pub fn applied(&self) -> watch::Receiver<u64> {
        self.applied.subscribe()
    }

    /// Follows `feed` until `stop` turns true.
    pub async fn run(self, mut feed: broadcast::Receiver<Change>, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(CATCH_UP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let result = tokio::select! {
                event = feed.recv() => match event {
                    Ok(change) => self.apply(change).await,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "registry feed lagged; catching up");
                        self.catch_up().await
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = tick.tick() => {
                    let behind = self.store.revision() > self.applied_revision();
                    if behind { self.catch_up().await } else { Ok(()) }
                }
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                    Ok(())
                }
            };
            if let Err(e) = result {
                // The next change or tick tries again.
                tracing::error!(error = %e, "reloading routes failed");
            }
        }
    }

    /// Rebuilds the whole route table from a snapshot (at start, and when
    /// the change log cannot say what was missed).
    pub async fn load_all(&self) -> Result<(), RegistryError> {
        let snapshot = self.store.snapshot().await?;
        let mut by_tenant: HashMap<&str, Vec<&FunctionRecord>> = HashMap::new();
        for function in &snapshot.functions {
            by_tenant
                .entry(&function.tenant)
                .or_default()
                .push(function);
        }
        let mut table = RouteTable::new(&self.config.base_domain);
        for tenant in &snapshot.tenants {
            let functions = by_tenant.remove(tenant.name.as_str()).unwrap_or_default();
            let routes = self.tenant_routes(tenant, &functions).await;
            table.set_tenant(&tenant.name, &tenant.hosts, routes);
        }
        self.routes.store(Arc::new(table));
        self.mark_applied(snapshot.revision);
        Ok(())
    }

    async fn apply(&self, change: Change) -> Result<(), RegistryError> {
        if change.revision <= self.applied_revision() {
            return Ok(());
        }
        self.reload_tenant(&change.tenant).await?;
        self.mark_applied(change.revision);
        Ok(())
    }

    async fn catch_up(&self) -> Result<(), RegistryError> {
        let from = self.applied_revision();
        let Some(changes) = self.store.changes_since(from).await? else {
            return self.load_all().await;
        };
        let tenants: BTreeSet<&str> = changes.iter().map(|c| c.tenant.as_str()).collect();
        for tenant in tenants {
            self.reload_tenant(tenant).await?;
        }
        if let Some(last) = changes.last() {
            self.mark_applied(last.revision);
        }
        Ok(())
    }

    fn applied_revision(&self) -> u64 {
        *self.applied.borrow()
    }

    fn mark_applied(&self, revision: u64) {
        self.applied.send_if_modified(|applied| {
            let newer = revision > *applied;
            if newer {
                *applied = revision;
            }
            newer
        });
    }

    /// Reloads one tenant's routes (or removes them if the tenant is gone).
    /// Other tenants' entries are reused as they are.
    async fn reload_tenant(&self, name: &str) -> Result<(), RegistryError> {
        let loaded = self.store.tenant_with_functions(name).await?;
        let mut table = RouteTable::clone(&self.routes.load());
        match loaded {
            Some((tenant, functions)) => {
                let functions: Vec<&FunctionRecord> = functions.iter().collect();
                let routes = self.tenant_routes(&tenant, &functions).await;
                table.set_tenant(&tenant.name, &tenant.hosts, routes);
            }
            None => {
                table.remove_tenant(name);
                if let (Some(verifier), Ok(tenant)) = (&self.verifier, Tenant::new(name)) {
                    verifier.remove_tenant(&tenant);
                }
                if let (Some(model), Ok(tenant)) = (&self.model, Tenant::new(name)) {
                    model.remove_policy(&tenant);
                }
                if let (Some(warm_up), Ok(tenant)) = (&self.warm_up, Tenant::new(name)) {
                    warm_up.tenant_removed(&tenant);
                }
                if let Ok(mut slots) = self.tenant_slots.lock() {
                    slots.remove(name);
                }
            }
        }
        self.routes.store(Arc::new(table));
        Ok(())
    }

    /// The routes of one tenant: its tier policy and a target per function.
    async fn tenant_routes(
        &self,
        tenant: &TenantRecord,
        functions: &[&FunctionRecord],
    ) -> TenantRoutes {
        let Some((tier_name, tier)) = self.tier_of(tenant) else {
            return TenantRoutes::default();
        };
        let Ok(tenant_id) = Tenant::new(&tenant.name) else {
            tracing::error!(tenant = %tenant.name, "invalid tenant name in the registry");
            return TenantRoutes::default();
        };
        self.apply_auth(&tenant_id, tenant);
        if let Some(model) = &self.model {
            super::model_policy::apply(
                model,
                &self.config,
                &tenant_id,
                tier_name,
                tenant.model.as_ref(),
            );
        }
        if let Some(warm_up) = &self.warm_up {
            warm_up.tenant_loaded(&tenant_id, tenant.model.as_ref(), functions);
        }
        let slots = self.tenant_slots(&tenant.name, tier.max_concurrent);
        let policy = Arc::new(TenantPolicy::new(tier_name, tier, slots));
        let mut targets = Vec::with_capacity(functions.len());
        for function in functions {
            let target = RouteTarget {
                tenant: tenant_id.clone(),
                policy: policy.clone(),
                function: function.name.clone(),
                prepared: self.prepare_active(function).await,
                limits: self.config.effective_limits(&function.limits, tier),
                metrics: self.metrics.route(&function.tenant, &function.name),
                auth: AuthPlan::new(tenant.auth.is_some(), function),
                public_scheme: crate::gateway::oauth::public_scheme(
                    tenant.auth.as_ref().and_then(|a| a.issuer.as_deref()),
                ),
            };
            targets.push((function.routes.clone(), Arc::new(target)));
        }
        let routes = TenantRoutes::new(targets);
        match tenant_issuer(&tenant_id, tenant) {
            Some(issuer) => routes.with_issuer(issuer),
            None => routes,
        }
    }

    /// Hands the tenant's auth settings to the verifier. Settings the
    /// registry accepted always validate; should they not, the tenant's
    /// protected routes refuse every token (fail closed), never open.
    fn apply_auth(&self, tenant: &Tenant, record: &TenantRecord) {
        let Some(verifier) = &self.verifier else {
            return;
        };
        let settings = record.auth.clone().unwrap_or_default();
        if let Err(error) = verifier.set_tenant(tenant, settings) {
            tracing::error!(%tenant, %error, "invalid auth settings; its tokens are refused");
            verifier.remove_tenant(tenant);
        }
    }

    fn tier_of<'a>(&'a self, tenant: &'a TenantRecord) -> Option<(&'a str, &'a Tier)> {
        if let Some(tier) = self.config.tier(tenant.tier.as_deref()) {
            return Some((tenant.tier.as_deref().unwrap_or(DEFAULT_TIER), tier));
        }
        tracing::error!(tenant = %tenant.name, tier = ?tenant.tier, "unknown tier; using the default tier");
        self.config.tier(None).map(|tier| (DEFAULT_TIER, tier))
    }

    fn tenant_slots(&self, tenant: &str, max: usize) -> Arc<Semaphore> {
        let Ok(mut slots) = self.tenant_slots.lock() else {
            return Arc::new(Semaphore::new(max));
        };
        match slots.get(tenant) {
            Some((size, semaphore)) if *size == max => semaphore.clone(),
            _ => {
                let semaphore = Arc::new(Semaphore::new(max));
                slots.insert(tenant.to_string(), (max, semaphore.clone()));
                semaphore
            }
        }
    }

    async fn prepare_active(&self, function: &FunctionRecord) -> Option<Arc<Prepared>> {
        let digest = function.active.as_ref()?;
        let blobs = self.blobs.clone();
        let d = digest.clone();
        match self.runtime.prepare(digest, move || blobs.get(&d)).await {
            Ok(prepared) => Some(prepared),
            Err(e) => {
                tracing::error!(tenant = %function.tenant, function = %function.name, digest, error = %e, "cannot prepare active version");
                None
            }
        }
    }
}

/// The tenant's token-service issuer: `None` when it switched the service
/// off (`[auth] token_service = false`) or names no `issuer` and
/// `audiences` of its own (tokens it issued would verify nowhere).
fn tenant_issuer(tenant: &Tenant, record: &TenantRecord) -> Option<TenantIssuer> {
    let settings = record.auth.clone().unwrap_or_default();
    let issuer = warden_plugin_auth::service::Issuer::from_config(tenant, &settings).ok()?;
    Some(TenantIssuer {
        issuer,
        realm: settings.realm.unwrap_or_else(|| tenant.to_string()),
    })
}

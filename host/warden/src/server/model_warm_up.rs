//! Model warm-up: prefetches each tenant's configured prompts (its
//! manifest's `[[model.warm_up]]`) into the cache, so the first real
//! callers hit, and so the provider's pooled connection is open before
//! traffic arrives.
//!
//! It runs when the reloader sees one of the tenant's functions get a new
//! active version (or the prompts change, or the node starts), and on a
//! schedule, every `[model] warm_up_interval_secs` (hourly by default; 0
//! turns the schedule off). Each run is a background task: a reload never
//! waits for the provider. The plugin's `warm_up` calls one prompt after
//! the other and budgets apply, so a warm-up cannot stampede a provider;
//! prompts already cached cost no provider call.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use warden_plugin_model::{CompletionRequest, ModelService, Tenant, TenantModelConfig};
use warden_registry::FunctionRecord;

/// The function name scheduled warm-ups are recorded under.
pub const SCHEDULED: &str = "warm-up";

#[derive(Debug, Default, Clone, PartialEq)]
struct Seen {
    /// Active digest per function.
    actives: BTreeMap<String, String>,
    /// The tenant's warm-up requests.
    requests: Vec<CompletionRequest>,
}

/// The node's warm-up state: what each tenant had at its last reload.
pub struct ModelWarmUp {
    service: Arc<ModelService>,
    seen: Mutex<HashMap<Tenant, Seen>>,
}

impl std::fmt::Debug for ModelWarmUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelWarmUp").finish_non_exhaustive()
    }
}

impl ModelWarmUp {
    /// Warm-ups on `service`.
    pub fn new(service: Arc<ModelService>) -> Arc<Self> {
        Arc::new(Self {
            service,
            seen: Mutex::new(HashMap::new()),
        })
    }

    /// Called after the tenant's policy was set: starts a warm-up when a
    /// function got a new active version or the prompts changed.
    pub fn tenant_loaded(
        self: &Arc<Self>,
        tenant: &Tenant,
        section: Option<&TenantModelConfig>,
        functions: &[&FunctionRecord],
    ) {
        let now = Seen {
            actives: functions
                .iter()
                .filter_map(|f| Some((f.name.clone(), f.active.clone()?)))
                .collect(),
            requests: section
                .map(TenantModelConfig::warm_up_requests)
                .unwrap_or_default(),
        };
        let before = {
            let Ok(mut seen) = self.seen.lock() else {
                return;
            };
            seen.insert(tenant.clone(), now.clone())
        };
        let before = before.unwrap_or_default();
        let activated = now
            .actives
            .iter()
            .find(|(name, digest)| before.actives.get(*name) != Some(*digest))
            .map(|(name, _)| name.clone());
        let trigger = match activated {
            Some(function) => Some(function),
            None if now.requests != before.requests && !now.actives.is_empty() => {
                Some(SCHEDULED.to_string())
            }
            None => None,
        };
        if let Some(function) = trigger
            && !now.requests.is_empty()
        {
            let this = self.clone();
            let tenant = tenant.clone();
            tokio::spawn(async move { this.run(&tenant, &function, now.requests).await });
        }
    }

    /// Forgets a deleted tenant.
    pub fn tenant_removed(&self, tenant: &Tenant) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.remove(tenant);
        }
    }

    async fn run(&self, tenant: &Tenant, function: &str, requests: Vec<CompletionRequest>) {
        let report = self.service.warm_up(tenant, function, requests).await;
        tracing::info!(
            %tenant,
            function,
            loaded = report.loaded,
            already_cached = report.already_cached,
            failed = report.failed,
            "model warm-up"
        );
    }

    /// One scheduled round: every tenant with prompts and an active
    /// version, one tenant after the other.
    pub async fn run_all(&self) {
        let due: Vec<(Tenant, Vec<CompletionRequest>)> = match self.seen.lock() {
            Ok(seen) => seen
                .iter()
                .filter(|(_, s)| !s.requests.is_empty() && !s.actives.is_empty())
                .map(|(t, s)| (t.clone(), s.requests.clone()))
                .collect(),
            Err(_) => return,
        };
        for (tenant, requests) in due {
            self.run(&tenant, SCHEDULED, requests).await;
        }
    }

    /// Runs [`Self::run_all`] every `interval` until `stop` turns true; the
    /// first round is one interval after start (activation warmed already).
    pub async fn schedule(self: Arc<Self>, interval: Duration, mut stop: watch::Receiver<bool>) {
        let start = tokio::time::Instant::now() + interval;
        let mut tick = tokio::time::interval_at(start, interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            // A round in flight does not hold up a shutdown.
            tokio::select! {
                () = self.run_all() => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }
}

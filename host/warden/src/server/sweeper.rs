//! The token service's housekeeping: kv has no TTL, so now and then every
//! tenant's dead records are deleted (codes, login tickets, throttle
//! counters, expired refresh families and revocations: the plugin's
//! `sweep`; and abandoned login forms). Safe on several nodes at once;
//! each node sweeps every tenant, which costs a scan per interval.

use crate::gateway::oauth::OAuth;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use warden_plugin_auth::service::TokenService;
use warden_plugin_auth::{Tenant, unix_now};
use warden_registry::RegistryStore;

/// How often the sweep runs.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(600);

/// What sweeps every tenant.
pub struct Sweeper {
    /// The tenants.
    pub store: Arc<dyn RegistryStore>,
    /// Their token-service records.
    pub service: Arc<TokenService>,
    /// Their login forms.
    pub oauth: Arc<OAuth>,
}

impl Sweeper {
    /// One pass over every tenant as of `now`: records removed. A tenant
    /// whose store fails is logged and skipped (the next pass retries).
    pub async fn sweep_once(&self, now: u64) -> u64 {
        let tenants = match self.store.tenants().await {
            Ok(tenants) => tenants,
            Err(error) => {
                tracing::warn!(%error, "token sweep: cannot list tenants");
                return 0;
            }
        };
        let mut removed = 0;
        for record in tenants {
            let Ok(tenant) = Tenant::new(&record.name) else {
                continue;
            };
            match self.service.sweep(&tenant, now).await {
                Ok(report) => removed += report.removed,
                Err(error) => tracing::warn!(%tenant, %error, "token sweep failed"),
            }
            match self.oauth.sweep_logins(&tenant, now).await {
                Ok(n) => removed += n,
                Err(error) => tracing::warn!(%tenant, %error, "login form sweep failed"),
            }
        }
        if removed > 0 {
            tracing::info!(removed, "token sweep removed dead records");
        }
        removed
    }

    /// Sweeps every [`SWEEP_INTERVAL`] until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            let stopped = tokio::select! {
                () = tokio::time::sleep(SWEEP_INTERVAL) => false,
                changed = stop.wait_for(|s| *s) => changed.map(|_| true).unwrap_or(true),
            };
            if stopped {
                return;
            }
            self.sweep_once(unix_now()).await;
        }
    }
}

//! Keeping the gateway's route table in step with the registry.
//!
//! At start the whole registry is loaded; after that, each admin change
//! reloads only the tenant it touched, so a deploy costs the same whether
//! the node holds ten tenants or ten thousand. Active versions are prepared
//! here (compiled, or loaded from the artifact cache), never on the request
//! path. A version that cannot be prepared leaves its function unserved
//! (503) and is logged; the others keep serving.

use super::Node;
use crate::config::{DEFAULT_TIER, Tier};
use crate::gateway::{RouteTable, RouteTarget, TenantPolicy, TenantRoutes};
use crate::registry::{FunctionRecord, RegistryError, TenantRecord};
use std::collections::HashMap;
use std::sync::Arc;
use warden_plugin_core::Tenant;

fn worker_failed(e: tokio::task::JoinError) -> RegistryError {
    RegistryError::Storage(format!("registry worker failed: {e}"))
}

impl Node {
    /// Rebuilds the whole route table from the registry (used at start).
    pub async fn reload_routes(&self) -> Result<(), RegistryError> {
        let _serialized = self.reload.lock().await;
        let registry = self.registry.clone();
        let snapshot = tokio::task::spawn_blocking(move || registry.snapshot())
            .await
            .map_err(worker_failed)??;
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
        self.gateway.set_routes(table);
        Ok(())
    }

    /// Reloads one tenant's routes after a change to it (or removes them if
    /// the tenant is gone). Other tenants' entries are reused as they are.
    pub async fn reload_tenant(&self, name: &str) -> Result<(), RegistryError> {
        let _serialized = self.reload.lock().await;
        let registry = self.registry.clone();
        let tenant_name = name.to_string();
        let loaded =
            tokio::task::spawn_blocking(move || registry.tenant_with_functions(&tenant_name))
                .await
                .map_err(worker_failed)??;
        let mut table = RouteTable::clone(&self.gateway.routes());
        match loaded {
            Some((tenant, functions)) => {
                let functions: Vec<&FunctionRecord> = functions.iter().collect();
                let routes = self.tenant_routes(&tenant, &functions).await;
                table.set_tenant(&tenant.name, &tenant.hosts, routes);
            }
            None => table.remove_tenant(name),
        }
        self.gateway.set_routes(table);
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
            };
            targets.push((function.routes.clone(), Arc::new(target)));
        }
        TenantRoutes::new(targets)
    }

    fn tier_of<'a>(&'a self, tenant: &'a TenantRecord) -> Option<(&'a str, &'a Tier)> {
        if let Some(tier) = self.config.tier(tenant.tier.as_deref()) {
            return Some((tenant.tier.as_deref().unwrap_or(DEFAULT_TIER), tier));
        }
        tracing::error!(tenant = %tenant.name, tier = ?tenant.tier, "unknown tier; using the default tier");
        self.config.tier(None).map(|tier| (DEFAULT_TIER, tier))
    }

    async fn prepare_active(
        &self,
        function: &FunctionRecord,
    ) -> Option<Arc<crate::runtime::Prepared>> {
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

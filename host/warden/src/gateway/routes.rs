//! The route table: `host + path -> (tenant, function, version)`.
//!
//! Built off the hot path from a registry snapshot whenever the registry
//! changes, then swapped in atomically; a lookup is a hash lookup on the
//! host and a scan of that tenant's few path prefixes.

use super::auth_plan::AuthPlan;
use super::tier::TenantPolicy;
use crate::config::EffectiveLimits;
use crate::metrics::RouteMetrics;
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::sync::Arc;
use warden_plugin_core::Tenant;
use warden_registry::path_within;
use warden_runtime::Prepared;

/// Where a matched request goes.
#[derive(Debug)]
pub struct RouteTarget {
    /// Owning tenant.
    pub tenant: Tenant,
    /// The tenant's tier as the gateway enforces it.
    pub policy: Arc<TenantPolicy>,
    /// Function name.
    pub function: String,
    /// The active version, pre-instantiated; `None` if nothing is active.
    pub prepared: Option<Arc<Prepared>>,
    /// Limits this function runs under.
    pub limits: EffectiveLimits,
    /// Pre-resolved metric handles, so the hot path only does atomics.
    pub metrics: RouteMetrics,
    /// Which auth policy covers which of its requests.
    pub auth: AuthPlan,
    /// The scheme clients use for the tenant's URLs (`https` unless its
    /// issuer says `http`): the `htu` of a DPoP proof names it.
    pub public_scheme: &'static str,
}

/// The node's route table, swapped whole by the reloader and read without
/// a lock by the gateway.
pub type Routes = Arc<ArcSwap<RouteTable>>;

/// The outcome of a lookup.
#[derive(Debug)]
pub enum Lookup<'a> {
    /// A function serves this request, through the route `prefix`.
    Found(&'a Arc<RouteTarget>, &'a str),
    /// The host is not a tenant's.
    UnknownHost,
    /// The tenant exists but no route matches the path.
    NoRoute(&'a str),
}

/// All routes of the node. Cloning is cheap (one `Arc` per tenant), so a
/// change to one tenant clones the table, replaces that tenant's entry and
/// swaps the result in: O(tenants) pointer copies instead of re-reading the
/// whole registry.
#[derive(Debug, Default, Clone)]
pub struct RouteTable {
    base_suffix: String,
    tenants: HashMap<String, Arc<TenantRoutes>>,
    custom_hosts: HashMap<String, String>,
}

/// One tenant's routes.
#[derive(Debug, Default)]
pub struct TenantRoutes {
    /// (prefix, target), longest prefix first.
    routes: Vec<(String, Arc<RouteTarget>)>,
    /// Who issues the tenant's tokens, when its token service is on; the
    /// gateway serves the OAuth endpoints only then. Kept with the routes
    /// so the reloader swaps both at once.
    issuer: Option<Arc<TenantIssuer>>,
}

/// A tenant's token-service identity as the gateway's endpoints need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantIssuer {
    /// `iss`, `aud` and lifetime cap (what the verifier checks).
    pub issuer: warden_plugin_auth::service::Issuer,
    /// The `realm` of the endpoints' challenges.
    pub realm: String,
}

impl TenantRoutes {
    /// Routes from `(prefixes, target)` pairs.
    pub fn new(functions: Vec<(Vec<String>, Arc<RouteTarget>)>) -> Self {
        let mut routes: Vec<(String, Arc<RouteTarget>)> = functions
            .into_iter()
            .flat_map(|(prefixes, target)| prefixes.into_iter().map(move |p| (p, target.clone())))
            .collect();
        routes.sort_by(|(a, _), (b, _)| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        Self {
            routes,
            issuer: None,
        }
    }

    /// The same routes, with the tenant's token service on as `issuer`.
    pub fn with_issuer(mut self, issuer: TenantIssuer) -> Self {
        self.issuer = Some(Arc::new(issuer));
        self
    }
}

impl RouteTable {
    /// An empty table for `base_domain`.
    pub fn new(base_domain: &str) -> Self {
        Self {
            base_suffix: format!(".{base_domain}"),
            ..Self::default()
        }
    }

    /// Sets (or replaces) a tenant: its custom hosts and its routes.
    pub fn set_tenant(&mut self, tenant: &str, hosts: &[String], routes: TenantRoutes) {
        self.remove_tenant(tenant);
        for host in hosts {
            self.custom_hosts.insert(host.clone(), tenant.to_string());
        }
        self.tenants.insert(tenant.to_string(), Arc::new(routes));
    }

    /// Removes a tenant and its custom hosts.
    pub fn remove_tenant(&mut self, tenant: &str) {
        if self.tenants.remove(tenant).is_some() {
            self.custom_hosts.retain(|_, owner| owner != tenant);
        }
    }

    /// Number of tenants in the table.
    pub fn len(&self) -> usize {
        self.tenants.len()
    }

    /// Whether the table has no tenants.
    pub fn is_empty(&self) -> bool {
        self.tenants.is_empty()
    }

    /// Finds the target for `host` (with or without port) and `path`.
    pub fn lookup<'a>(&'a self, host: &str, path: &str) -> Lookup<'a> {
        let host = strip_port(host);
        let Some((tenant, routes)) = self.tenant_for(host) else {
            return Lookup::UnknownHost;
        };
        for (prefix, target) in &routes.routes {
            if path_matches(prefix, path) {
                return Lookup::Found(target, prefix);
            }
        }
        Lookup::NoRoute(tenant)
    }

    /// The tenant served at `host` (with or without port), if any.
    pub fn tenant_at(&self, host: &str) -> Option<&str> {
        self.tenant_for(strip_port(host)).map(|(name, _)| name)
    }

    /// The tenant served at `host` and its token-service issuer (`None`
    /// when the tenant has no token service).
    pub fn issuer_at(&self, host: &str) -> Option<(&str, Option<&Arc<TenantIssuer>>)> {
        self.tenant_for(strip_port(host))
            .map(|(name, routes)| (name, routes.issuer.as_ref()))
    }

    fn tenant_for(&self, host: &str) -> Option<(&str, &Arc<TenantRoutes>)> {
        let lower;
        let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = host.to_ascii_lowercase();
            lower.as_str()
        } else {
            host
        };
        if let Some(tenant) = host.strip_suffix(self.base_suffix.as_str())
            && !tenant.contains('.')
            && let Some((name, routes)) = self.tenants.get_key_value(tenant)
        {
            return Some((name.as_str(), routes));
        }
        let tenant = self.custom_hosts.get(host)?;
        let (name, routes) = self.tenants.get_key_value(tenant.as_str())?;
        Some((name.as_str(), routes))
    }
}

/// Removes a `:port` suffix (a bare IPv6 address without brackets is left alone).
fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port))
            if !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && (name.ends_with(']') || !name.contains(':')) =>
        {
            name
        }
        _ => host,
    }
}

/// A prefix matches on a segment boundary: `/hello` serves `/hello`,
/// `/hello/x` and `/hello?q`, but not `/helloworld`.
fn path_matches(prefix: &str, path: &str) -> bool {
    path_within(warden_registry::normalize_route(prefix), path)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::Tier;
    use crate::metrics::Metrics;

    /// A target of function `f` of tenant `acme`, for the steps' tests.
    pub(crate) fn target(prepared: Option<Arc<Prepared>>) -> RouteTarget {
        let tier = Tier::default();
        RouteTarget {
            tenant: Tenant::new("acme").expect("tenant"),
            policy: Arc::new(TenantPolicy::new(
                "default",
                &tier,
                Arc::new(tokio::sync::Semaphore::new(1)),
            )),
            function: "f".into(),
            prepared,
            limits: crate::config::HostConfig::default()
                .effective_limits(&Default::default(), &tier),
            metrics: Metrics::new().route("acme", "f"),
            auth: AuthPlan::default(),
            public_scheme: "https",
        }
    }

    #[test]
    fn prefixes_match_on_segment_boundaries() {
        assert!(path_matches("/hello", "/hello"));
        assert!(path_matches("/hello", "/hello/x"));
        assert!(!path_matches("/hello", "/helloworld"));
        assert!(path_matches("/api/", "/api/x"));
        assert!(path_matches("/", "/anything"));
    }

    #[test]
    fn ports_are_stripped() {
        assert_eq!(strip_port("acme.localhost:8080"), "acme.localhost");
        assert_eq!(strip_port("acme.localhost"), "acme.localhost");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
    }

    #[test]
    fn tenants_are_found_by_subdomain_or_custom_host() {
        let mut t = RouteTable::new("localhost");
        t.set_tenant("acme", &["api.acme.test".into()], TenantRoutes::default());
        assert!(matches!(
            t.lookup("acme.localhost:1", "/x"),
            Lookup::NoRoute("acme")
        ));
        assert!(matches!(
            t.lookup("API.acme.test", "/x"),
            Lookup::NoRoute("acme")
        ));
        assert!(matches!(
            t.lookup("a.acme.localhost", "/x"),
            Lookup::UnknownHost
        ));
        assert!(matches!(
            t.lookup("globex.localhost", "/x"),
            Lookup::UnknownHost
        ));
        t.set_tenant("acme", &[], TenantRoutes::default());
        assert!(
            matches!(t.lookup("api.acme.test", "/x"), Lookup::UnknownHost),
            "old hosts dropped"
        );
        t.remove_tenant("acme");
        assert!(t.is_empty());
    }
}

//! The route table: `host + path -> (tenant, function, version)`.
//!
//! Built off the hot path from a registry snapshot whenever the registry
//! changes, then swapped in atomically; a lookup is a hash lookup on the
//! host and a scan of that tenant's few path prefixes.

use super::policy::TenantPolicy;
use crate::config::EffectiveLimits;
use crate::metrics::RouteMetrics;
use crate::runtime::Prepared;
use std::collections::HashMap;
use std::sync::Arc;
use warden_plugin_core::Tenant;

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
}

/// The outcome of a lookup.
#[derive(Debug)]
pub enum Lookup<'a> {
    /// A function serves this request.
    Found(&'a Arc<RouteTarget>),
    /// The host is not a tenant's.
    UnknownHost,
    /// The tenant exists but no route matches the path.
    NoRoute(&'a str),
}

/// All routes of the node.
#[derive(Debug, Default)]
pub struct RouteTable {
    base_suffix: String,
    tenants: HashMap<String, TenantRoutes>,
    custom_hosts: HashMap<String, String>,
}

#[derive(Debug, Default)]
struct TenantRoutes {
    /// (prefix, target), longest prefix first.
    routes: Vec<(String, Arc<RouteTarget>)>,
}

impl RouteTable {
    /// An empty table for `base_domain`.
    pub fn new(base_domain: &str) -> Self {
        Self {
            base_suffix: format!(".{base_domain}"),
            ..Self::default()
        }
    }

    /// Registers a tenant and its custom hosts (even with no functions yet).
    pub fn add_tenant(&mut self, tenant: &str, hosts: &[String]) {
        self.tenants.entry(tenant.to_string()).or_default();
        for host in hosts {
            self.custom_hosts.insert(host.clone(), tenant.to_string());
        }
    }

    /// Adds a function's routes.
    pub fn add_function(&mut self, routes: &[String], target: Arc<RouteTarget>) {
        let entry = self
            .tenants
            .entry(target.tenant.as_str().to_string())
            .or_default();
        for route in routes {
            entry.routes.push((route.clone(), target.clone()));
        }
        entry
            .routes
            .sort_by(|(a, _), (b, _)| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    }

    /// Finds the target for `host` (with or without port) and `path`.
    pub fn lookup<'a>(&'a self, host: &str, path: &str) -> Lookup<'a> {
        let host = strip_port(host);
        let Some((tenant, routes)) = self.tenant_for(host) else {
            return Lookup::UnknownHost;
        };
        for (prefix, target) in &routes.routes {
            if path_matches(prefix, path) {
                return Lookup::Found(target);
            }
        }
        Lookup::NoRoute(tenant)
    }

    fn tenant_for(&self, host: &str) -> Option<(&str, &TenantRoutes)> {
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
    if prefix == "/" {
        return true;
    }
    let prefix = prefix.strip_suffix('/').unwrap_or(prefix);
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        t.add_tenant("acme", &["api.acme.test".into()]);
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
    }
}

//! The registry's records: what a tenant, a function and a version are.
//!
//! Names are DNS labels (`[a-z0-9-]`, 1..=63, no leading/trailing `-`) so a
//! tenant name can be used verbatim in `<tenant>.<base-domain>` and as a key
//! segment without escaping.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
pub use warden_plugin_auth::{RoutePolicy, TenantAuthConfig};
pub use warden_plugin_model::TenantModelConfig;

/// A customer of the platform; owns functions and the hosts that reach them.
///
/// Not `Eq`: the model section carries floats (weights of similarity).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TenantRecord {
    /// The tenant's name, also its subdomain under the base domain.
    pub name: String,
    /// Custom hosts (besides `<name>.<base-domain>`) that route to this tenant.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Contract tier (from host config); `None` means the default tier.
    #[serde(default)]
    pub tier: Option<String>,
    /// How the gateway verifies tokens for this tenant. With it, every
    /// route that does not say `public = true` needs a valid token; without
    /// it, routes without an auth policy of their own are public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<TenantAuthConfig>,
    /// Names under this tenant's custom hosts that it lets another tenant
    /// serve: host -> tenant (see [`TenantSpec::delegations`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub delegations: BTreeMap<String, String>,
    /// The tenant's model aliases, A/B variants, cache settings and
    /// warm-up prompts (the manifest's `[model]`); absent in records
    /// written before it existed, which load as "node defaults".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<TenantModelConfig>,
    /// Creation time, seconds since the Unix epoch.
    pub created_at: u64,
}

/// What a tenant is made of, as the admin API's `PUT` takes it (the whole
/// tenant: PUT replaces).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSpec {
    /// Custom hosts routed to the tenant besides `<tenant>.<base-domain>`.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Contract tier, one of the node's `[tiers]`; the default tier if unset.
    #[serde(default)]
    pub tier: Option<String>,
    /// Token verification for the tenant (the manifest's `[auth]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<TenantAuthConfig>,
    /// Names under this tenant's custom hosts that another tenant may
    /// claim: `"eu.acme.example" = "acme-eu"` lets tenant `acme-eu` serve
    /// that host and the names under it. Without a delegation, a host
    /// under another tenant's custom host (or one above it) is refused:
    /// the two would share cookies. A delegation in use cannot be removed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub delegations: BTreeMap<String, String>,
    /// Model policy of the tenant (the manifest's `[model]`). The registry
    /// checks its shape; the admin API also checks it against the node's
    /// providers and aliases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<TenantModelConfig>,
}

impl TenantSpec {
    /// A tenant with these custom hosts and nothing else.
    pub fn with_hosts(hosts: &[&str]) -> Self {
        Self {
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            ..Self::default()
        }
    }
}

/// A named function of a tenant: the paths it owns, its limits, and which
/// uploaded version currently serves it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FunctionRecord {
    /// Owning tenant.
    pub tenant: String,
    /// Function name, unique within the tenant.
    pub name: String,
    /// Path prefixes this function serves, e.g. `/hello`.
    pub routes: Vec<String>,
    /// Per-function limits; unset fields fall back to the host defaults.
    #[serde(default)]
    pub limits: FunctionLimits,
    /// The function's auth policy (`[functions.auth]`), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<RoutePolicy>,
    /// Policies of some of its paths (`[functions.route_auth]`), keyed by
    /// `"/prefix"` or `"METHOD /prefix"`; see [`RouteRule`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub route_auth: BTreeMap<String, RoutePolicy>,
    /// sha256 (hex) of the active version, if any.
    pub active: Option<String>,
    /// Last change, seconds since the Unix epoch.
    pub updated_at: u64,
}

/// What a function is made of, as the admin API's `PUT` takes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionSpec {
    /// Path prefixes the function serves.
    pub routes: Vec<String>,
    /// Limits; unset fields use the node's defaults.
    #[serde(default)]
    pub limits: FunctionLimits,
    /// The function's auth policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<RoutePolicy>,
    /// Policies of some of its paths, keyed by `"/prefix"` or
    /// `"METHOD /prefix"`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub route_auth: BTreeMap<String, RoutePolicy>,
}

impl FunctionSpec {
    /// A function serving `routes` with default limits and no policy.
    pub fn with_routes(routes: &[&str]) -> Self {
        Self {
            routes: routes.iter().map(|r| r.to_string()).collect(),
            ..Self::default()
        }
    }
}

/// The path the platform serves itself on every tenant host: the tenant's
/// public signing keys. No function may claim it.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// RFC 8414 authorization-server metadata of the tenant's token service.
pub const OAUTH_METADATA_PATH: &str = "/.well-known/oauth-authorization-server";

/// OIDC discovery document of the tenant's token service.
pub const OIDC_DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// The prefix under which the platform serves each tenant's token service
/// (`authorize`, `token`, `revoke`, `introspect`, `userinfo`).
pub const OAUTH_PREFIX: &str = "/oauth2";

/// Every path (and the paths below it) the platform answers itself on
/// every tenant host, before routing; no function may claim one.
pub const RESERVED_PATHS: [&str; 4] = [
    JWKS_PATH,
    OAUTH_METADATA_PATH,
    OIDC_DISCOVERY_PATH,
    OAUTH_PREFIX,
];

/// Refuses a route that would claim a path the platform serves itself
/// ([`RESERVED_PATHS`]): the one check the registry and the manifest share.
/// A broader route (`/` or `/.well-known`) stays allowed: the platform
/// answers its own paths first, the function gets the rest.
pub fn check_not_reserved(route: &str) -> Result<(), String> {
    let normalized = normalize_route(route);
    for reserved in RESERVED_PATHS {
        if path_within(reserved, normalized) {
            return Err(format!(
                "route {route:?} is reserved: the platform serves {reserved} on every tenant host"
            ));
        }
    }
    Ok(())
}

/// Which requests a `route_auth` entry covers: an optional method and a
/// path prefix (matched on segment boundaries, like routes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRule {
    /// Upper-case method, or `None` for every method.
    pub method: Option<String>,
    /// Normalized path prefix.
    pub prefix: String,
}

impl RouteRule {
    /// Parses `"/prefix"` or `"METHOD /prefix"`; the prefix must lie
    /// within one of `routes` (a rule outside them would never apply).
    pub fn parse(key: &str, routes: &[String]) -> Result<Self, String> {
        let (method, path) = match key.split_once(' ') {
            Some((method, path)) => (Some(method), path.trim_start()),
            None => (None, key),
        };
        if let Some(m) = method
            && (m.is_empty() || !m.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(format!(
                "route_auth key {key:?}: the method must be upper case, e.g. \"POST /orders\""
            ));
        }
        validate_route(path).map_err(|e| format!("route_auth key {key:?}: {e}"))?;
        let prefix = normalize_route(path).to_string();
        let inside = routes
            .iter()
            .any(|route| path_within(normalize_route(route), &prefix));
        if !inside {
            return Err(format!(
                "route_auth key {key:?} is outside the function's routes ({})",
                routes.join(", ")
            ));
        }
        Ok(Self {
            method: method.map(str::to_string),
            prefix,
        })
    }

    /// Whether this rule covers a request.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m == method) && path_within(&self.prefix, path)
    }
}

/// Whether `path` is `prefix` or below it on a segment boundary.
pub fn path_within(prefix: &str, path: &str) -> bool {
    if prefix == "/" {
        return true;
    }
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// One uploaded component of a function, content-addressed by its sha256.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VersionRecord {
    /// Owning tenant.
    pub tenant: String,
    /// Owning function.
    pub function: String,
    /// sha256 of the component bytes, lowercase hex.
    pub digest: String,
    /// Size of the component in bytes.
    pub size: u64,
    /// Upload time, seconds since the Unix epoch.
    pub created_at: u64,
}

/// Limits a function's manifest may set; `None` means "host default".
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FunctionLimits {
    /// Linear memory cap in MiB.
    pub memory_mb: Option<u64>,
    /// CPU time budget per request in milliseconds (enforced by epochs).
    pub cpu_ms: Option<u64>,
    /// Wall-clock deadline per request in milliseconds.
    pub timeout_ms: Option<u64>,
    /// Request body cap in KiB.
    pub max_body_kb: Option<u64>,
    /// Response body cap in KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_response_kb: Option<u64>,
}

/// Checks a tenant or function name: a DNS label.
pub fn validate_name(kind: &str, name: &str) -> Result<(), String> {
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if name.is_empty()
        || name.len() > 63
        || !ok_chars
        || name.starts_with('-')
        || name.ends_with('-')
    {
        return Err(format!(
            "invalid {kind} name {name:?}: use 1 to 63 characters of a-z, 0-9 and '-', not starting or ending with '-'"
        ));
    }
    Ok(())
}

/// Checks a custom host name: lowercase DNS name, labels of [a-z0-9-].
pub fn validate_host(host: &str) -> Result<(), String> {
    let labels_ok = host
        .split('.')
        .all(|label| validate_name("host label", label).is_ok());
    if host.is_empty() || host.len() > 253 || !labels_ok {
        return Err(format!(
            "invalid host {host:?}: use a lowercase DNS name such as api.example.com"
        ));
    }
    Ok(())
}

/// Checks a route prefix: starts with `/`, printable ASCII, no query or fragment.
pub fn validate_route(route: &str) -> Result<(), String> {
    let ok = route.starts_with('/')
        && route.len() <= 512
        && route
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'?' && b != b'#');
    if !ok {
        return Err(format!(
            "invalid route {route:?}: a route is a path prefix starting with '/', without spaces, '?' or '#'"
        ));
    }
    Ok(())
}

/// A route as the router matches it: one trailing `/` does not make a
/// different route (`/dup` and `/dup/` serve the same paths); `/` stays.
pub fn normalize_route(route: &str) -> &str {
    match route.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    }
}

/// Checks a sha256 digest: 64 lowercase hex characters.
pub fn validate_digest(digest: &str) -> Result<(), String> {
    if digest.len() == 64
        && digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(format!(
            "invalid digest {digest:?}: expected 64 lowercase hex characters (sha256)"
        ))
    }
}

/// Seconds since the Unix epoch, for record timestamps.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dns_labels() {
        assert!(validate_name("tenant", "acme-2").is_ok());
        for bad in ["", "-a", "a-", "Acme", "a_b", "a.b", &"x".repeat(64)] {
            assert!(validate_name("tenant", bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn route_rules_take_an_optional_method_and_stay_inside_the_routes() {
        let routes = vec!["/todos".to_string(), "/admin/".to_string()];
        let rule = RouteRule::parse("POST /todos", &routes).expect("rule");
        assert_eq!(rule.method.as_deref(), Some("POST"));
        assert!(rule.matches("POST", "/todos/1"));
        assert!(!rule.matches("GET", "/todos"));
        assert!(!rule.matches("POST", "/todosx"));
        let rule = RouteRule::parse("/admin/users/", &routes).expect("rule");
        assert_eq!(rule.prefix, "/admin/users");
        assert!(rule.matches("DELETE", "/admin/users/7"));
        assert!(RouteRule::parse("/other", &routes).is_err());
        assert!(RouteRule::parse("post /todos", &routes).is_err());
        assert!(RouteRule::parse("POST todos", &routes).is_err());
    }

    #[test]
    fn hosts_routes_and_digests_are_checked() {
        assert!(validate_host("api.acme.example").is_ok());
        assert!(validate_host("api..acme").is_err());
        assert!(validate_route("/hello").is_ok());
        assert!(validate_route("hello").is_err());
        assert!(validate_route("/a b").is_err());
        assert!(validate_digest(&"a".repeat(64)).is_ok());
        assert!(validate_digest(&"A".repeat(64)).is_err());
    }

    #[test]
    fn the_platform_paths_and_what_lies_below_them_are_refused() {
        for route in [
            "/.well-known/jwks.json",
            "/.well-known/oauth-authorization-server",
            "/.well-known/openid-configuration",
            "/oauth2",
            "/oauth2/",
            "/oauth2/token",
            "/oauth2/authorize/x",
        ] {
            let refused = check_not_reserved(route).expect_err(route);
            assert!(refused.contains("reserved"), "{refused}");
        }
        for route in ["/", "/.well-known", "/oauth", "/oauth2x", "/api/oauth2"] {
            assert_eq!(check_not_reserved(route), Ok(()), "{route}");
        }
    }
}

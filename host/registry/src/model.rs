//! The registry's records: what a tenant, a function and a version are.
//!
//! Names are DNS labels (`[a-z0-9-]`, 1..=63, no leading/trailing `-`) so a
//! tenant name can be used verbatim in `<tenant>.<base-domain>` and as a key
//! segment without escaping.

use serde::{Deserialize, Serialize};

/// A customer of the platform; owns functions and the hosts that reach them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TenantRecord {
    /// The tenant's name, also its subdomain under the base domain.
    pub name: String,
    /// Custom hosts (besides `<name>.<base-domain>`) that route to this tenant.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Contract tier (from host config); `None` means the default tier.
    #[serde(default)]
    pub tier: Option<String>,
    /// Creation time, seconds since the Unix epoch.
    pub created_at: u64,
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
    /// sha256 (hex) of the active version, if any.
    pub active: Option<String>,
    /// Last change, seconds since the Unix epoch.
    pub updated_at: u64,
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
    fn hosts_routes_and_digests_are_checked() {
        assert!(validate_host("api.acme.example").is_ok());
        assert!(validate_host("api..acme").is_err());
        assert!(validate_route("/hello").is_ok());
        assert!(validate_route("hello").is_err());
        assert!(validate_route("/a b").is_err());
        assert!(validate_digest(&"a".repeat(64)).is_ok());
        assert!(validate_digest(&"A".repeat(64)).is_err());
    }
}

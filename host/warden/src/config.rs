//! Host configuration: listeners, data dir, base domain, default limits and
//! the instance pool.
//!
//! Every field has an embedded default, so `warden serve` needs no file. A
//! config file is TOML; unknown keys are rejected, and [`HostConfig::validate`]
//! reports every problem at once rather than the first one.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use warden_registry::{FunctionLimits, RouteCaps};
pub use warden_runtime::{EffectiveLimits, PoolConfig};

/// The whole host configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HostConfig {
    /// Address of the public gateway.
    pub listen: SocketAddr,
    /// Address of the admin API and `/metrics`.
    pub admin_listen: SocketAddr,
    /// Where the registry, components, compiled artifacts and admin token live.
    pub data_dir: PathBuf,
    /// Tenants are reached at `<tenant>.<base_domain>`.
    pub base_domain: String,
    /// Limits applied to functions that do not set their own.
    pub limits: Limits,
    /// Upper bounds a function's own limits may not exceed.
    pub max_limits: Limits,
    /// The pooling allocator and node-wide concurrency.
    pub pool: PoolConfig,
    /// How long in-flight requests may run after SIGTERM, in milliseconds.
    pub shutdown_grace_ms: u64,
    /// Bytes of a guest's stdout/stderr kept per request for its log line.
    pub guest_log_bytes: usize,
    /// Write one JSON access-log line per request to stdout.
    pub access_log: bool,
    /// Cache backend (`type = "memory" | "redis"`).
    pub cache: warden_plugin_cache::Config,
    /// Rate-limit backend (`type = "memory" | "redis"`), shared by the
    /// gateway's tiers and the guests' own limits.
    pub rate_limit: warden_plugin_rate_limit::Config,
    /// Key-value backend (`type = "redb" | "redis" | "memory"`); a redb file
    /// in the data dir when unset.
    pub kv: Option<warden_plugin_kv::Config>,
    /// Feature flags backend and definitions.
    pub flags: warden_plugin_flags::Config,
    /// Gateway auth: where the key-encryption key, the tenants' keys and
    /// the single-use token ids live, and JWKS caching of external
    /// issuers. When unset: the KEK in `<data_dir>/auth-kek`, keys and
    /// replay ids in the kv store ([`HostConfig::auth_config`]).
    pub auth: Option<warden_plugin_auth::Config>,
    /// Model providers, aliases and budgets; the builtin deterministic
    /// provider when empty, so a node runs model calls offline.
    pub model: warden_plugin_model::Config,
    /// Contract tiers by name; a tenant without a tier gets `default`.
    pub tiers: BTreeMap<String, Tier>,
    /// Bounds on the gateway's connections.
    pub connections: crate::gateway::ConnectionLimits,
    /// Routes one function may have.
    pub max_routes_per_function: usize,
    /// Routes all of one tenant's functions may have together.
    pub max_routes_per_tenant: usize,
}

/// Name of the tier of tenants that have none.
pub const DEFAULT_TIER: &str = "default";

/// A tenant contract tier: what the gateway enforces before any guest runs.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Tier {
    /// Sustained requests per second for the whole tenant (0: unlimited).
    pub rate: u32,
    /// Requests allowed in a burst above the rate.
    pub burst: u32,
    /// Requests of the tenant in flight at once; more are shed with 503.
    pub max_concurrent: usize,
    /// Cap on the request body, KiB (functions may set less).
    pub max_body_kb: Option<u64>,
    /// Cap on guest memory, MiB (functions may set less).
    pub memory_mb: Option<u64>,
    /// Cap on the CPU budget per request, ms (functions may set less).
    pub cpu_ms: Option<u64>,
    /// What to do when the rate limiter's backend is unreachable.
    pub on_limiter_unavailable: FailMode,
}

impl Default for Tier {
    fn default() -> Self {
        Self {
            rate: 0,
            burst: 0,
            max_concurrent: 256,
            max_body_kb: None,
            memory_mb: None,
            cpu_ms: None,
            on_limiter_unavailable: FailMode::Open,
        }
    }
}

/// Behaviour when a shared limiter cannot be asked: the rate-limit
/// plugin's own type, so the gateway and the plugin cannot disagree.
pub use warden_plugin_rate_limit::FailMode;

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            data_dir: PathBuf::from(".warden"),
            base_domain: "localhost".to_string(),
            limits: Limits::default(),
            max_limits: Limits {
                memory_mb: 512,
                cpu_ms: 30_000,
                timeout_ms: 300_000,
                max_body_kb: 100 * 1024,
                max_response_kb: 10 * 1024 * 1024,
            },
            pool: PoolConfig::default(),
            shutdown_grace_ms: 10_000,
            guest_log_bytes: 4096,
            access_log: true,
            cache: warden_plugin_cache::Config::default(),
            rate_limit: warden_plugin_rate_limit::Config::default(),
            kv: None,
            flags: warden_plugin_flags::Config::default(),
            auth: None,
            model: warden_plugin_model::Config::default(),
            tiers: BTreeMap::from([(DEFAULT_TIER.to_string(), Tier::default())]),
            connections: crate::gateway::ConnectionLimits::default(),
            max_routes_per_function: RouteCaps::default().per_function,
            max_routes_per_tenant: RouteCaps::default().per_tenant,
        }
    }
}

/// A full set of function limits (no `None`): the host's defaults
/// (`[limits]`) or the bounds a function may not exceed (`[max_limits]`).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Linear memory cap in MiB.
    pub memory_mb: u64,
    /// CPU budget per request, milliseconds.
    pub cpu_ms: u64,
    /// Wall-clock deadline per request, milliseconds.
    pub timeout_ms: u64,
    /// Request body cap, KiB.
    pub max_body_kb: u64,
    /// Response body cap, KiB: longer responses are cut as failed.
    pub max_response_kb: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_mb: 128,
            cpu_ms: 1_000,
            timeout_ms: 30_000,
            max_body_kb: 1024,
            max_response_kb: 100 * 1024,
        }
    }
}

/// A configuration error, with every problem found.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", problems.join("\n  - "))]
pub struct ConfigError {
    /// One line per problem.
    pub problems: Vec<String>,
}

impl HostConfig {
    /// Reads and parses a config file (unknown keys are errors). The values
    /// are checked by [`HostConfig::validate`], which `Warden::start` runs
    /// once command-line overrides have been applied.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            problems: vec![format!("cannot read {}: {e}", path.display())],
        })?;
        let config: HostConfig = toml::from_str(&text).map_err(|e| ConfigError {
            problems: vec![format!("{}: {e}", path.display())],
        })?;
        Ok(config)
    }

    /// Checks the whole configuration, returning all problems together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        if self.base_domain.is_empty() || crate::registry::validate_host(&self.base_domain).is_err()
        {
            problems.push(format!(
                "base_domain {:?} is not a lowercase DNS name",
                self.base_domain
            ));
        }
        for (name, limits) in [("limits", &self.limits), ("max_limits", &self.max_limits)] {
            if limits.memory_mb == 0 || limits.cpu_ms == 0 || limits.timeout_ms == 0 {
                problems.push(format!(
                    "{name}: memory_mb, cpu_ms and timeout_ms must be > 0"
                ));
            }
        }
        if self.limits.memory_mb > self.max_limits.memory_mb
            || self.limits.cpu_ms > self.max_limits.cpu_ms
            || self.limits.timeout_ms > self.max_limits.timeout_ms
            || self.limits.max_body_kb > self.max_limits.max_body_kb
            || self.limits.max_response_kb > self.max_limits.max_response_kb
        {
            problems.push("limits must not exceed max_limits".to_string());
        }
        if self.max_limits.memory_mb > self.pool.max_memory_mb {
            problems.push(format!(
                "max_limits.memory_mb ({}) exceeds pool.max_memory_mb ({})",
                self.max_limits.memory_mb, self.pool.max_memory_mb
            ));
        }
        if self.pool.instances == 0 || self.pool.max_inflight == 0 {
            problems.push("pool.instances and pool.max_inflight must be > 0".to_string());
        }
        if self.pool.epoch_tick_ms == 0 || self.pool.compile_timeout_ms == 0 {
            problems.push("pool.epoch_tick_ms and pool.compile_timeout_ms must be > 0".to_string());
        }
        if !self.tiers.contains_key(DEFAULT_TIER) {
            problems.push(format!("tiers: a tier named {DEFAULT_TIER:?} is required"));
        }
        for (name, tier) in &self.tiers {
            if tier.max_concurrent == 0 {
                problems.push(format!("tiers.{name}.max_concurrent must be > 0"));
            }
            if tier.rate > 0 && tier.burst == 0 {
                problems.push(format!("tiers.{name}.burst must be > 0 when rate is set"));
            }
        }
        let c = &self.connections;
        if c.header_read_timeout_ms == 0
            || c.idle_timeout_ms == 0
            || c.h2_keepalive_ms == 0
            || c.max == 0
            || c.max_per_client == 0
        {
            problems.push("connections: every limit must be > 0".to_string());
        }
        if self.max_routes_per_function == 0 || self.max_routes_per_tenant == 0 {
            problems
                .push("max_routes_per_function and max_routes_per_tenant must be > 0".to_string());
        }
        if let Err(e) = self.model.validate() {
            problems.extend(e.0.into_iter().map(|p| format!("model: {p}")));
        }
        if self.listen == self.admin_listen && self.listen.port() != 0 {
            problems.push("listen and admin_listen must differ".to_string());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { problems })
        }
    }

    /// Checks a function's own limits against `max_limits`.
    pub fn check_function_limits(&self, limits: &FunctionLimits) -> Result<(), String> {
        let max = &self.max_limits;
        let checks = [
            ("memory_mb", limits.memory_mb, max.memory_mb),
            ("cpu_ms", limits.cpu_ms, max.cpu_ms),
            ("timeout_ms", limits.timeout_ms, max.timeout_ms),
            ("max_body_kb", limits.max_body_kb, max.max_body_kb),
            (
                "max_response_kb",
                limits.max_response_kb,
                max.max_response_kb,
            ),
        ];
        let mut problems = Vec::new();
        for (name, value, bound) in checks {
            match value {
                Some(0) => problems.push(format!("{name} must be > 0")),
                Some(v) if v > bound => {
                    problems.push(format!("{name} = {v} exceeds this node's maximum {bound}"))
                }
                _ => {}
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    /// Resolves a function's limits over the defaults, capped by its
    /// tenant's tier.
    pub fn effective_limits(&self, limits: &FunctionLimits, tier: &Tier) -> EffectiveLimits {
        let d = &self.limits;
        let cap = |value: u64, tier_cap: Option<u64>| tier_cap.map_or(value, |c| value.min(c));
        let memory_mb = cap(limits.memory_mb.unwrap_or(d.memory_mb), tier.memory_mb);
        EffectiveLimits {
            memory_bytes: usize::try_from(memory_mb << 20).unwrap_or(usize::MAX),
            cpu: Duration::from_millis(cap(limits.cpu_ms.unwrap_or(d.cpu_ms), tier.cpu_ms)),
            timeout: Duration::from_millis(limits.timeout_ms.unwrap_or(d.timeout_ms)),
            max_body_bytes: cap(
                limits.max_body_kb.unwrap_or(d.max_body_kb),
                tier.max_body_kb,
            ) * 1024,
            max_response_bytes: limits
                .max_response_kb
                .unwrap_or(d.max_response_kb)
                .saturating_mul(1024),
        }
    }

    /// The auth settings the node runs with: `[auth]` as written, or the
    /// embedded default (KEK in the data dir, keys and replay ids in kv).
    pub fn auth_config(&self) -> warden_plugin_auth::Config {
        self.auth
            .clone()
            .unwrap_or_else(|| warden_plugin_auth::Config::embedded(&self.data_dir))
    }

    /// The node's memory budget for admitted requests, MiB: as configured,
    /// or half of the machine's memory.
    pub fn memory_budget_mb(&self) -> u64 {
        if self.pool.memory_budget_mb > 0 {
            return self.pool.memory_budget_mb;
        }
        machine_memory_mb().map_or(4096, |total| (total / 2).max(256))
    }

    /// The registry's route caps.
    pub fn route_caps(&self) -> RouteCaps {
        RouteCaps {
            per_function: self.max_routes_per_function,
            per_tenant: self.max_routes_per_tenant,
        }
    }

    /// The tier named `name` (or `default`).
    pub fn tier(&self, name: Option<&str>) -> Option<&Tier> {
        self.tiers.get(name.unwrap_or(DEFAULT_TIER))
    }
}

/// `MemTotal` of /proc/meminfo, MiB.
fn machine_memory_mb() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        HostConfig::default().validate().expect("defaults valid");
    }

    #[test]
    fn every_problem_is_reported() {
        let mut c = HostConfig {
            base_domain: "Bad Domain".into(),
            ..HostConfig::default()
        };
        c.pool.instances = 0;
        c.limits.memory_mb = 4096;
        let err = c.validate().expect_err("invalid");
        assert!(err.problems.len() >= 3, "{err}");
    }

    #[test]
    fn tiers_and_backends_parse_from_toml() {
        let c: HostConfig = toml::from_str(
            r#"
[tiers.default]
rate = 100
burst = 200
[tiers.pro]
rate = 1000
burst = 2000
max_concurrent = 50
on_limiter_unavailable = "closed"
[cache]
type = "memory"
[kv]
type = "memory"
"#,
        )
        .expect("parses");
        c.validate().expect("valid");
        assert_eq!(
            c.tier(Some("pro")).map(|t| t.on_limiter_unavailable),
            Some(FailMode::Closed)
        );
        assert!(toml::from_str::<HostConfig>("[cache]\ntype = \"memcached\"").is_err());
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = toml::from_str::<HostConfig>("listn = \"127.0.0.1:1\"").expect_err("unknown");
        assert!(err.to_string().contains("listn"), "{err}");
    }

    #[test]
    fn function_limits_resolve_over_defaults() {
        let c = HostConfig::default();
        let tier = Tier {
            cpu_ms: Some(200),
            ..Tier::default()
        };
        let l = c.effective_limits(
            &FunctionLimits {
                memory_mb: Some(16),
                ..Default::default()
            },
            &tier,
        );
        assert_eq!(l.memory_bytes, 16 << 20);
        assert_eq!(
            l.cpu,
            Duration::from_millis(200),
            "the tier caps the default"
        );
        assert!(
            c.check_function_limits(&FunctionLimits {
                memory_mb: Some(100_000),
                ..Default::default()
            })
            .is_err()
        );
    }
}

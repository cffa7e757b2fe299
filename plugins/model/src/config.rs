//! The node's model configuration (host config `[model]`) and its checks.
//!
//! ```toml
//! [model.providers.local]
//! type = "openai"                     # or "builtin"
//! base_url = "http://127.0.0.1:8000/v1" # or https://...
//! ca_file = "/etc/warden/llm-ca.pem"  # optional, https only: a private CA
//! api_key_env = "OPENAI_API_KEY"      # optional; or api_key (masked in Debug)
//! headers = { "x-extra" = "1" }       # optional
//! [model.providers.local.resilience]  # optional; defaults below
//! connect_timeout_ms = 2000
//!
//! [model.aliases]
//! chat = { provider = "local", model = "llama-3.1-8b-instruct", fallback = "small" }
//! small = { provider = "builtin", model = "builtin-small" }
//! ab = { variants = [
//!   { name = "v1", provider = "local", model = "m-1", weight = 90 },
//!   { name = "v2", provider = "local", model = "m-2", weight = 10 },
//! ] }
//!
//! [model]
//! warm_up_interval_secs = 3600        # tenants' warm-up prompts; 0: only on activation
//!
//! [model.tiers.default]
//! tokens_per_minute = 100000
//! tokens_per_day = 2000000
//! requests_per_minute = 600
//! max_prompt_tokens = 32000
//! ```
//!
//! A provider named `builtin` (type `builtin`) always exists unless the
//! config defines one; with no aliases at all, `chat` and `embed` point at
//! it, so a node with no services still answers model calls.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use warden_plugin_rate_limit::FailMode;

use crate::ConfigError;

/// The `[model]` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Providers by name.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Node-wide aliases; tenants may override them ([`crate::TenantPolicy`]).
    #[serde(default)]
    pub aliases: BTreeMap<String, AliasConfig>,
    /// Budgets by tier name; tenants without a tier use `default`.
    #[serde(default)]
    pub tiers: BTreeMap<String, TierConfig>,
    /// What a budget check does when the shared limiter cannot answer.
    #[serde(default)]
    pub on_limiter_unavailable: FailMode,
    /// How often the host re-runs tenants' warm-up prompts, in seconds
    /// (besides on activation); absent: hourly; 0: never on a schedule.
    #[serde(default)]
    pub warm_up_interval_secs: Option<u64>,
}

/// The warm-up schedule's default period.
pub const DEFAULT_WARM_UP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(3600);

impl Config {
    /// The warm-up schedule's period, `None` when turned off.
    pub fn warm_up_interval(&self) -> Option<std::time::Duration> {
        match self.warm_up_interval_secs {
            None => Some(DEFAULT_WARM_UP_INTERVAL),
            Some(0) => None,
            Some(secs) => Some(std::time::Duration::from_secs(secs)),
        }
    }
}

/// One provider, chosen by its `type` tag.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProviderConfig {
    /// An OpenAI-compatible HTTP API (`https://` or `http://`).
    Openai(OpenAiConfig),
    /// The deterministic in-process model.
    Builtin(BuiltinConfig),
}

impl ProviderConfig {
    /// Its resilience settings.
    pub fn resilience(&self) -> &ResilienceConfig {
        match self {
            Self::Openai(c) => &c.resilience,
            Self::Builtin(c) => &c.resilience,
        }
    }
}

/// Settings of an OpenAI-compatible provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAiConfig {
    /// E.g. `https://api.openai.com/v1` or `http://127.0.0.1:8000/v1`;
    /// `/chat/completions` and `/embeddings` are appended.
    pub base_url: String,
    /// Environment variable holding the API key, read at build.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// The API key itself (prefer `api_key_env`).
    #[serde(default)]
    pub api_key: Option<Secret>,
    /// Extra headers sent with every request.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A PEM file of extra CA certificates trusted for an `https://`
    /// provider behind a private CA, besides the compiled-in Mozilla roots.
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
    /// Timeouts, retries, breaker, bulkhead.
    #[serde(default)]
    pub resilience: ResilienceConfig,
}

/// Settings of the builtin provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuiltinConfig {
    /// Pause between two streamed tokens, in milliseconds.
    #[serde(default)]
    pub token_interval_ms: u64,
    /// Embedding dimension.
    #[serde(default = "default_dimensions")]
    pub dimensions: usize,
    /// Timeouts, retries, breaker, bulkhead.
    #[serde(default)]
    pub resilience: ResilienceConfig,
}

impl Default for BuiltinConfig {
    fn default() -> Self {
        Self {
            token_interval_ms: 0,
            dimensions: default_dimensions(),
            resilience: ResilienceConfig::default(),
        }
    }
}

fn default_dimensions() -> usize {
    64
}

/// A secret string: deserialized from config, never shown by `Debug`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Timeouts, retries, circuit breaker and bulkhead of one provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResilienceConfig {
    /// TCP connect, per attempt.
    pub connect_timeout_ms: u64,
    /// Until response headers (streams: the first token), per attempt.
    pub first_token_timeout_ms: u64,
    /// The whole call, retries included.
    pub total_timeout_ms: u64,
    /// Calls in flight to this provider from this node; beyond it calls
    /// fail fast with `RateLimited`.
    pub max_concurrent: usize,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Full-jitter backoff base and cap, in milliseconds.
    pub retry_base_ms: u64,
    /// Cap of one backoff.
    pub retry_max_backoff_ms: u64,
    /// Retries allowed as a percentage of calls in the window.
    pub retry_budget_percent: u32,
    /// Retries always allowed per window, so a quiet node can retry.
    pub retry_budget_min: u32,
    /// The retry budget's window.
    pub retry_window_ms: u64,
    /// The circuit breaker.
    pub breaker: BreakerConfig,
}

impl Default for ResilienceConfig {
    fn default() -> Self {
        Self {
            connect_timeout_ms: 2_000,
            first_token_timeout_ms: 15_000,
            total_timeout_ms: 60_000,
            max_concurrent: 64,
            max_retries: 2,
            retry_base_ms: 100,
            retry_max_backoff_ms: 2_000,
            retry_budget_percent: 20,
            retry_budget_min: 3,
            retry_window_ms: 10_000,
            breaker: BreakerConfig::default(),
        }
    }
}

/// When the breaker opens and how it heals (per provider, per node).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerConfig {
    /// Opens after this many failures in a row.
    pub consecutive_failures: u32,
    /// Or when this percentage of calls in the window failed...
    pub error_rate_percent: u32,
    /// ...once the window holds at least this many calls.
    pub min_calls: u32,
    /// The error-rate window.
    pub window_ms: u64,
    /// How long it stays open before one half-open probe.
    pub cool_down_ms: u64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            consecutive_failures: 5,
            error_rate_percent: 50,
            min_calls: 20,
            window_ms: 30_000,
            cool_down_ms: 10_000,
        }
    }
}

/// An alias: one provider + model, or weighted variants (A/B).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AliasConfig {
    /// The provider (without variants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The provider's model id (without variants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Weighted variants, sticky per subject.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<VariantConfig>,
    /// Alias used while this alias's provider breaker is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

impl AliasConfig {
    /// One provider and model.
    pub fn new(provider: &str, model: &str) -> Self {
        Self {
            provider: Some(provider.into()),
            model: Some(model.into()),
            ..Self::default()
        }
    }
}

/// One A/B variant of an alias.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantConfig {
    /// Name in usage records.
    pub name: String,
    /// The provider.
    pub provider: String,
    /// The provider's model id.
    pub model: String,
    /// Relative weight.
    pub weight: u32,
}

/// Budgets and caps of a tier; absent limits are not enforced.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierConfig {
    /// Tokens (in + out) per minute.
    #[serde(default)]
    pub tokens_per_minute: Option<u32>,
    /// Tokens (in + out) per day.
    #[serde(default)]
    pub tokens_per_day: Option<u32>,
    /// Calls per minute (cache hits included).
    #[serde(default)]
    pub requests_per_minute: Option<u32>,
    /// Largest prompt, in estimated tokens (chars / 4).
    #[serde(default)]
    pub max_prompt_tokens: Option<u32>,
}

impl Config {
    /// The providers, with the implicit `builtin` one added.
    pub(crate) fn effective_providers(&self) -> BTreeMap<String, ProviderConfig> {
        let mut providers = self.providers.clone();
        providers
            .entry("builtin".into())
            .or_insert_with(|| ProviderConfig::Builtin(BuiltinConfig::default()));
        providers
    }

    /// The aliases, with `chat` and `embed` on `builtin` when none is set.
    pub(crate) fn effective_aliases(&self) -> BTreeMap<String, AliasConfig> {
        if !self.aliases.is_empty() {
            return self.aliases.clone();
        }
        BTreeMap::from([
            ("chat".into(), AliasConfig::new("builtin", "builtin-chat")),
            ("embed".into(), AliasConfig::new("builtin", "builtin-embed")),
        ])
    }

    /// Every problem of the config at once.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        let providers = self.effective_providers();
        for (name, provider) in &providers {
            check_provider(name, provider, &mut problems);
        }
        let aliases = self.effective_aliases();
        for (name, alias) in &aliases {
            check_alias(name, alias, Some(&providers), Some(&aliases), &mut problems);
        }
        for (name, tier) in &self.tiers {
            let zero = [
                tier.tokens_per_minute,
                tier.tokens_per_day,
                tier.requests_per_minute,
                tier.max_prompt_tokens,
            ]
            .contains(&Some(0));
            if zero {
                problems.push(format!("tier {name}: limits must be at least 1"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(problems))
        }
    }
}

fn check_provider(name: &str, provider: &ProviderConfig, problems: &mut Vec<String>) {
    if let ProviderConfig::Openai(openai) = provider {
        let https = openai.base_url.starts_with("https://");
        if !https && !openai.base_url.starts_with("http://") {
            problems.push(format!(
                "provider {name}: base_url must start with https:// or http://"
            ));
        } else if openai.base_url.parse::<hyper::Uri>().is_err() {
            problems.push(format!("provider {name}: base_url is not a URL"));
        }
        if openai.ca_file.is_some() && !https {
            problems.push(format!(
                "provider {name}: ca_file applies to https:// base URLs only"
            ));
        }
        if openai.api_key.is_some() && openai.api_key_env.is_some() {
            problems.push(format!(
                "provider {name}: set api_key or api_key_env, not both"
            ));
        }
        for (header, value) in &openai.headers {
            if hyper::header::HeaderName::from_bytes(header.as_bytes()).is_err()
                || hyper::header::HeaderValue::from_str(value).is_err()
            {
                problems.push(format!("provider {name}: invalid header {header:?}"));
            }
        }
    }
    if let ProviderConfig::Builtin(builtin) = provider
        && !(1..=4096).contains(&builtin.dimensions)
    {
        problems.push(format!("provider {name}: dimensions must be 1..=4096"));
    }
    let r = provider.resilience();
    if r.connect_timeout_ms == 0 || r.first_token_timeout_ms == 0 || r.total_timeout_ms == 0 {
        problems.push(format!("provider {name}: timeouts must be at least 1 ms"));
    }
    if r.max_concurrent == 0 {
        problems.push(format!(
            "provider {name}: max_concurrent must be at least 1"
        ));
    }
    if r.breaker.consecutive_failures == 0 || r.breaker.cool_down_ms == 0 {
        problems.push(format!(
            "provider {name}: breaker consecutive_failures and cool_down_ms must be at least 1"
        ));
    }
    if r.breaker.error_rate_percent == 0 || r.breaker.error_rate_percent > 100 {
        problems.push(format!(
            "provider {name}: error_rate_percent must be 1..=100"
        ));
    }
}

/// Checks one alias against the providers and the other aliases. `None`
/// for either means "not known here" (a manifest checked without the
/// node's config): those checks are left to the node.
pub(crate) fn check_alias(
    name: &str,
    alias: &AliasConfig,
    providers: Option<&BTreeMap<String, ProviderConfig>>,
    aliases: Option<&BTreeMap<String, AliasConfig>>,
    problems: &mut Vec<String>,
) {
    let single = alias.provider.is_some() || alias.model.is_some();
    match (single, alias.variants.is_empty()) {
        (true, false) => problems.push(format!(
            "alias {name}: set provider + model or variants, not both"
        )),
        (false, true) => problems.push(format!("alias {name}: needs provider + model or variants")),
        (true, true) => {
            if alias.provider.is_none() || alias.model.is_none() {
                problems.push(format!("alias {name}: needs both provider and model"));
            }
        }
        (false, false) => {
            if alias.variants.iter().all(|v| v.weight == 0) {
                problems.push(format!("alias {name}: variant weights are all zero"));
            }
        }
    }
    let used = alias
        .provider
        .iter()
        .chain(alias.variants.iter().map(|v| &v.provider));
    if let Some(providers) = providers {
        for provider in used {
            if !providers.contains_key(provider) {
                problems.push(format!(
                    "alias {name}: unknown provider {provider} (this node has: {})",
                    providers.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
    let mut names = std::collections::HashSet::new();
    for variant in &alias.variants {
        if variant.name.is_empty() || !names.insert(variant.name.as_str()) {
            problems.push(format!(
                "alias {name}: variant names must be non-empty and distinct ({:?})",
                variant.name
            ));
        }
    }
    if let (Some(fallback), Some(aliases)) = (&alias.fallback, aliases) {
        match aliases.get(fallback) {
            None => problems.push(format!("alias {name}: unknown fallback alias {fallback}")),
            Some(f) if f.fallback.is_some() => problems.push(format!(
                "alias {name}: fallback {fallback} has a fallback itself (one hop only)"
            )),
            Some(_) if fallback == name => {
                problems.push(format!("alias {name}: is its own fallback"));
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Doc {
        model: Config,
    }

    fn parse(text: &str) -> Result<Config, toml::de::Error> {
        toml::from_str::<Doc>(text).map(|d| d.model)
    }

    #[test]
    fn parses_the_documented_shape() {
        let config = parse(
            r#"
[model.providers.local]
type = "openai"
base_url = "http://127.0.0.1:8000/v1"
api_key = "sk-s3cret"
headers = { "x-extra" = "1" }
[model.providers.local.resilience]
connect_timeout_ms = 100
[model.aliases]
chat = { provider = "local", model = "llama-3.1-8b-instruct" }
ab = { variants = [{ name = "a", provider = "local", model = "m1", weight = 1 }] }
[model.tiers.default]
tokens_per_minute = 1000
"#,
        )
        .unwrap();
        config.validate().unwrap();
        let ProviderConfig::Openai(local) = &config.providers["local"] else {
            panic!("openai expected");
        };
        assert_eq!(local.resilience.connect_timeout_ms, 100);
        assert_eq!(local.resilience.max_retries, 2);
        assert!(!format!("{config:?}").contains("s3cret"));
        assert!(config.effective_providers().contains_key("builtin"));
        assert_eq!(config.warm_up_interval(), Some(DEFAULT_WARM_UP_INTERVAL));
        let off = parse("[model]\nwarm_up_interval_secs = 0\n").unwrap();
        assert_eq!(off.warm_up_interval(), None);
        let often = parse("[model]\nwarm_up_interval_secs = 60\n").unwrap();
        assert_eq!(
            often.warm_up_interval(),
            Some(std::time::Duration::from_secs(60))
        );
    }

    #[test]
    fn rejects_unknown_keys_and_reports_every_problem() {
        assert!(parse("[model]\nproviderz = {}\n").is_err());
        assert!(
            parse("[model.providers.x]\ntype = \"openai\"\nbase_url = \"http://h\"\nurl = 1\n")
                .is_err()
        );
        assert!(parse("[model.providers.x]\ntype = \"anthropic\"\n").is_err());
        let config = parse(
            r#"
[model.providers.x]
type = "openai"
base_url = "ftp://api.example.com/v1"
[model.providers.y]
type = "openai"
base_url = "http://api.example.com/v1"
ca_file = "ca.pem"
[model.providers.z]
type = "openai"
base_url = "https://api.example.com/v1"
[model.aliases]
a = { provider = "nope", model = "m", fallback = "zz" }
b = { variants = [] }
"#,
        )
        .unwrap();
        let ConfigError(problems) = config.validate().unwrap_err();
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("must start with https://"))
        );
        assert!(problems.iter().any(|p| p.contains("ca_file applies")));
        assert!(
            !problems.iter().any(|p| p.starts_with("provider z")),
            "https is fine: {problems:?}"
        );
    }
}

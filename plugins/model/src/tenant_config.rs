//! A tenant's own model settings, as its manifest's `[model]` section
//! gives them and the registry stores them: the part of [`TenantPolicy`]
//! the tenant chooses (the tier comes from its contract), plus the prompts
//! a warm-up prefetches.
//!
//! ```toml
//! [model]
//! cache_ttl_secs = 600
//! [model.aliases]
//! chat = { provider = "local", model = "llama-3.2-3b" }
//! ab = { variants = [
//!   { name = "v1", provider = "local", model = "m-1", weight = 90 },
//!   { name = "v2", provider = "local", model = "m-2", weight = 10 },
//! ] }
//! [model.semantic_cache.chat]
//! min_similarity = 0.92
//! [[model.warm_up]]
//! alias = "chat"
//! prompt = "What are your opening hours?"
//! seed = 1                              # or temperature = 0 (the default)
//! ```
//!
//! Checked twice: its shape where the node is not known (the manifest,
//! the registry: [`TenantModelConfig::problems`] with `None`), and against
//! the node's providers and aliases when the admin API accepts it
//! ([`TenantModelConfig::validate`]), so a tenant never names a provider
//! the node does not have.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{AliasConfig, Config, check_alias};
use crate::policy::{SemanticConfig, TenantPolicy};
use crate::{CompletionRequest, ConfigError, Message};

/// Most warm-up prompts per tenant: a warm-up runs them one by one.
pub const MAX_WARM_UP_PROMPTS: usize = 32;
/// Largest warm-up prompt (and system message), in bytes.
pub const MAX_WARM_UP_PROMPT_BYTES: usize = 16 * 1024;

/// The manifest's `[model]` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantModelConfig {
    /// Aliases of this tenant, over the node's: provider + model, or
    /// weighted variants for A/B.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub aliases: BTreeMap<String, AliasConfig>,
    /// How long deterministic answers stay cached (0: never); the
    /// platform default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_ttl_secs: Option<u64>,
    /// Semantic cache, opt-in per alias.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub semantic_cache: BTreeMap<String, SemanticConfig>,
    /// Prompts prefetched into the cache when a version is activated and
    /// on the node's warm-up schedule, so the first real callers hit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warm_up: Vec<WarmUpPrompt>,
}

/// One prompt a warm-up prefetches. It is cached under the same key as a
/// guest's call with the same alias, messages and parameters, so the
/// parameters here must be the ones the function sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarmUpPrompt {
    /// The alias called.
    pub alias: String,
    /// The user message.
    pub prompt: String,
    /// An optional system message sent before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Sampling temperature; without a seed it must be 0 (only
    /// deterministic answers are cached). Absent: 0 unless a seed is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Sampling seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Cap on output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
}

impl WarmUpPrompt {
    /// The completion request this prompt stands for.
    pub fn request(&self) -> CompletionRequest {
        let mut messages = Vec::with_capacity(2);
        if let Some(system) = &self.system {
            messages.push(Message::system(system));
        }
        messages.push(Message::user(&self.prompt));
        let mut request = CompletionRequest::new(&self.alias, messages);
        request.temperature = match (self.temperature, self.seed) {
            (None, None) => Some(0.0),
            (t, _) => t,
        };
        request.seed = self.seed;
        request.max_tokens = self.max_tokens;
        request
    }
}

impl TenantModelConfig {
    /// The policy of a tenant with these settings on model tier `tier`.
    pub fn policy(&self, tier: Option<String>) -> TenantPolicy {
        let default = TenantPolicy::default();
        TenantPolicy {
            tier,
            aliases: self.aliases.clone(),
            cache_ttl_secs: self.cache_ttl_secs.unwrap_or(default.cache_ttl_secs),
            semantic_cache: self.semantic_cache.clone(),
        }
    }

    /// The warm-up prompts as requests.
    pub fn warm_up_requests(&self) -> Vec<CompletionRequest> {
        self.warm_up.iter().map(WarmUpPrompt::request).collect()
    }

    /// Every problem at once. With the node's `config`, aliases are also
    /// checked against its providers and aliases (fallbacks, warm-up and
    /// semantic-cache aliases); without it, only what the section alone
    /// can tell.
    pub fn problems(&self, config: Option<&Config>) -> Vec<String> {
        let mut problems = Vec::new();
        let providers = config.map(Config::effective_providers);
        let aliases = config.map(|c| {
            let mut all = c.effective_aliases();
            all.extend(self.aliases.clone());
            all
        });
        for (name, alias) in &self.aliases {
            if name.is_empty() || name.len() > 64 {
                problems.push(format!("alias {name:?}: names are 1 to 64 bytes"));
            }
            check_alias(
                name,
                alias,
                providers.as_ref(),
                aliases.as_ref(),
                &mut problems,
            );
        }
        let known = |alias: &str| match &aliases {
            Some(all) => all.contains_key(alias),
            None => true,
        };
        if let Some(ttl) = self.cache_ttl_secs
            && ttl > warden_plugin_cache::MAX_TTL.as_secs()
        {
            problems.push("cache_ttl_secs must be at most 30 days".to_string());
        }
        for (alias, semantic) in &self.semantic_cache {
            if !known(alias) {
                problems.push(format!("semantic_cache.{alias}: unknown alias {alias}"));
            }
            if !(semantic.min_similarity > 0.0 && semantic.min_similarity <= 1.0) {
                problems.push(format!(
                    "semantic_cache.{alias}: min_similarity must be in (0, 1]"
                ));
            }
            if semantic.max_entries == 0 {
                problems.push(format!(
                    "semantic_cache.{alias}: max_entries must be at least 1"
                ));
            }
        }
        if self.warm_up.len() > MAX_WARM_UP_PROMPTS {
            problems.push(format!(
                "warm_up: at most {MAX_WARM_UP_PROMPTS} prompts ({} given)",
                self.warm_up.len()
            ));
        }
        for (i, prompt) in self.warm_up.iter().enumerate() {
            check_warm_up(i, prompt, &known, &mut problems);
        }
        problems
    }

    /// Checks the section against the node's config: every problem at once.
    pub fn validate(&self, config: &Config) -> Result<(), ConfigError> {
        let problems = self.problems(Some(config));
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(problems))
        }
    }
}

fn check_warm_up(
    i: usize,
    prompt: &WarmUpPrompt,
    known: &dyn Fn(&str) -> bool,
    problems: &mut Vec<String>,
) {
    let at = format!("warm_up[{i}]");
    if !known(&prompt.alias) {
        problems.push(format!("{at}: unknown alias {}", prompt.alias));
    }
    if prompt.prompt.trim().is_empty() {
        problems.push(format!("{at}: prompt is empty"));
    }
    let long = prompt.prompt.len() > MAX_WARM_UP_PROMPT_BYTES
        || prompt
            .system
            .as_ref()
            .is_some_and(|s| s.len() > MAX_WARM_UP_PROMPT_BYTES);
    if long {
        problems.push(format!(
            "{at}: prompt and system are at most {MAX_WARM_UP_PROMPT_BYTES} bytes"
        ));
    }
    if !prompt.request().is_deterministic() {
        problems.push(format!(
            "{at}: only deterministic prompts are cached: set temperature = 0 or a seed"
        ));
    }
    if prompt
        .temperature
        .is_some_and(|t| !(0.0..=2.0).contains(&t))
    {
        problems.push(format!("{at}: temperature must be within 0..=2"));
    }
    if prompt.max_tokens == Some(0) {
        problems.push(format!("{at}: max_tokens must be at least 1"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> TenantModelConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn the_documented_section_parses_round_trips_and_becomes_a_policy() {
        let section = parse(
            r#"
cache_ttl_secs = 600
[aliases]
chat = { provider = "builtin", model = "small" }
ab = { variants = [
  { name = "v1", provider = "builtin", model = "m-1", weight = 90 },
  { name = "v2", provider = "builtin", model = "m-2", weight = 10 },
] }
[semantic_cache.chat]
min_similarity = 0.92
[[warm_up]]
alias = "chat"
prompt = "opening hours?"
[[warm_up]]
alias = "ab"
prompt = "hello"
seed = 3
"#,
        );
        assert_eq!(section.validate(&Config::default()), Ok(()));
        let json = serde_json::to_string(&section).unwrap();
        let back: TenantModelConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, section);
        let policy = section.policy(Some("pro".into()));
        assert_eq!(policy.tier.as_deref(), Some("pro"));
        assert_eq!(policy.cache_ttl_secs, 600);
        assert_eq!(policy.aliases["ab"].variants.len(), 2);
        assert_eq!(policy.semantic_cache["chat"].max_entries, 1000);
        let requests = section.warm_up_requests();
        assert_eq!(
            requests[0].temperature,
            Some(0.0),
            "temperature 0 by default"
        );
        assert_eq!((requests[1].temperature, requests[1].seed), (None, Some(3)));
        assert!(requests.iter().all(CompletionRequest::is_deterministic));
        assert_eq!(
            TenantModelConfig::default().policy(None),
            TenantPolicy::default()
        );
    }

    #[test]
    fn unknown_providers_are_found_only_with_the_node_config() {
        let section = parse(
            r#"
[aliases]
chat = { provider = "openai-prod", model = "gpt" }
[[warm_up]]
alias = "nope"
prompt = "x"
"#,
        );
        assert!(section.problems(None).is_empty());
        let problems = section.problems(Some(&Config::default()));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].contains("unknown provider openai-prod"),
            "{problems:?}"
        );
        assert!(problems[0].contains("builtin"), "names what the node has");
        assert!(problems[1].contains("unknown alias nope"), "{problems:?}");
    }

    #[test]
    fn every_shape_problem_is_reported() {
        let section = parse(
            r#"
cache_ttl_secs = 99999999
[aliases]
a = { provider = "builtin" }
b = { variants = [
  { name = "x", provider = "builtin", model = "m", weight = 0 },
  { name = "x", provider = "builtin", model = "n", weight = 0 },
] }
[semantic_cache.a]
min_similarity = 0.0
max_entries = 0
[[warm_up]]
alias = "a"
prompt = " "
temperature = 0.7
max_tokens = 0
"#,
        );
        let problems = section.problems(None);
        // a: needs model; b: zero weights, duplicate name; ttl; two
        // semantic; warm-up: empty, not deterministic, max_tokens.
        assert_eq!(problems.len(), 9, "{problems:#?}");
        assert!(toml::from_str::<TenantModelConfig>("ttl = 1").is_err());
    }
}

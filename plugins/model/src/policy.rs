//! A tenant's model policy, and resolving an alias to provider, model and
//! A/B variant for one call.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use warden_plugin_core::Tenant;

use crate::config::{AliasConfig, Config, VariantConfig, check_alias};
use crate::{ConfigError, ModelError};

/// What the host knows about one tenant's model use (from its manifest and
/// tier), handed to [`crate::ModelService::set_policy`].
///
/// ```toml
/// tier = "pro"
/// cache_ttl_secs = 600
/// [aliases]
/// chat = { provider = "local", model = "llama-3.2-3b" }
/// [semantic_cache.chat]
/// min_similarity = 0.92
/// max_entries = 1000
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantPolicy {
    /// The tier whose budgets apply (`default` when absent).
    #[serde(default)]
    pub tier: Option<String>,
    /// Aliases that replace (or add to) the node's for this tenant.
    #[serde(default)]
    pub aliases: BTreeMap<String, AliasConfig>,
    /// How long deterministic completions and embeddings stay cached; 0
    /// turns caching off for the tenant.
    #[serde(default = "default_ttl")]
    pub cache_ttl_secs: u64,
    /// Semantic cache, opt-in per alias.
    #[serde(default)]
    pub semantic_cache: BTreeMap<String, SemanticConfig>,
}

impl Default for TenantPolicy {
    fn default() -> Self {
        Self {
            tier: None,
            aliases: BTreeMap::new(),
            cache_ttl_secs: default_ttl(),
            semantic_cache: BTreeMap::new(),
        }
    }
}

fn default_ttl() -> u64 {
    300
}

/// A semantic cache of one alias.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SemanticConfig {
    /// Cosine similarity (0 < s <= 1) from which a cached prompt's answer
    /// serves a new prompt.
    #[serde(default = "default_similarity")]
    pub min_similarity: f32,
    /// Prompts remembered per tenant and alias (oldest dropped first).
    #[serde(default = "default_entries")]
    pub max_entries: usize,
}

fn default_similarity() -> f32 {
    0.9
}
fn default_entries() -> usize {
    1000
}

impl TenantPolicy {
    /// Checks the policy against the node's config: every problem at once.
    pub fn validate(&self, config: &Config) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        let providers = config.effective_providers();
        let mut aliases = config.effective_aliases();
        aliases.extend(self.aliases.clone());
        for (name, alias) in &self.aliases {
            check_alias(name, alias, Some(&providers), Some(&aliases), &mut problems);
        }
        if let Some(tier) = &self.tier
            && !config.tiers.contains_key(tier)
        {
            problems.push(format!("unknown tier {tier}"));
        }
        if self.cache_ttl_secs > warden_plugin_cache::MAX_TTL.as_secs() {
            problems.push("cache_ttl_secs must be at most 30 days".to_string());
        }
        for (alias, semantic) in &self.semantic_cache {
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
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(problems))
        }
    }
}

/// Where one call goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// The alias the caller named.
    pub alias: String,
    /// The provider's name in config.
    pub provider: String,
    /// The provider's model id.
    pub model: String,
    /// The A/B variant, when the alias has variants.
    pub variant: Option<String>,
}

/// The alias's definition for `tenant`: its own override, else the node's.
pub(crate) fn alias_config<'a>(
    config: &'a BTreeMap<String, AliasConfig>,
    policy: &'a TenantPolicy,
    alias: &str,
) -> Result<&'a AliasConfig, ModelError> {
    policy
        .aliases
        .get(alias)
        .or_else(|| config.get(alias))
        .ok_or_else(|| ModelError::InvalidRequest(format!("unknown model alias {alias:?}")))
}

/// Resolves `alias` to a target; variants are chosen by [`pick_variant`].
pub(crate) fn resolve(
    alias_name: &str,
    alias: &AliasConfig,
    tenant: &Tenant,
    stickiness: &str,
) -> Result<Target, ModelError> {
    if let (Some(provider), Some(model)) = (&alias.provider, &alias.model) {
        return Ok(Target {
            alias: alias_name.into(),
            provider: provider.clone(),
            model: model.clone(),
            variant: None,
        });
    }
    let variant = pick_variant(&alias.variants, tenant, alias_name, stickiness)
        .ok_or_else(|| ModelError::Internal(format!("alias {alias_name} has no variant")))?;
    Ok(Target {
        alias: alias_name.into(),
        provider: variant.provider.clone(),
        model: variant.model.clone(),
        variant: Some(variant.name.clone()),
    })
}

/// The variant for `subject`: a hash of tenant, alias and subject placed on
/// the cumulative weights. Sticky (same inputs, same variant) and, over many
/// subjects, split by the weights; changing a weight moves only the
/// subjects near the boundary it shifts.
pub fn pick_variant<'a>(
    variants: &'a [VariantConfig],
    tenant: &Tenant,
    alias: &str,
    subject: &str,
) -> Option<&'a VariantConfig> {
    let total: u64 = variants.iter().map(|v| u64::from(v.weight)).sum();
    if total == 0 {
        return None;
    }
    let mut hasher = Sha256::new();
    for part in [tenant.as_str(), alias, subject] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let mut point = u64::from_be_bytes(first) % total;
    for variant in variants {
        let weight = u64::from(variant.weight);
        if point < weight {
            return Some(variant);
        }
        point -= weight;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_is_checked_against_the_node_config() {
        let config = Config::default();
        assert_eq!(TenantPolicy::default().validate(&config), Ok(()));
        let bad = TenantPolicy {
            tier: Some("gold".into()),
            cache_ttl_secs: 365 * 24 * 3600,
            aliases: BTreeMap::from([("chat".into(), AliasConfig::new("nope", "m"))]),
            semantic_cache: BTreeMap::from([(
                "chat".into(),
                SemanticConfig {
                    min_similarity: 1.5,
                    max_entries: 0,
                },
            )]),
        };
        let ConfigError(problems) = bad.validate(&config).unwrap_err();
        assert_eq!(problems.len(), 5, "{problems:?}");
    }

    #[test]
    fn variants_follow_their_weights_and_skip_zero_weights() {
        let tenant = Tenant::new("t").unwrap();
        let v = |name: &str, weight| VariantConfig {
            name: name.into(),
            provider: "p".into(),
            model: "m".into(),
            weight,
        };
        let variants = [v("never", 0), v("always", 3)];
        for i in 0..100 {
            let picked = pick_variant(&variants, &tenant, "a", &i.to_string()).unwrap();
            assert_eq!(picked.name, "always");
        }
        assert!(pick_variant(&[v("x", 0)], &tenant, "a", "s").is_none());
    }
}

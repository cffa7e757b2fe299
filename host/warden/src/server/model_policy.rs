//! Each tenant's model policy, applied by the reloader.
//!
//! A tenant's contract tier selects the model budgets of the same name
//! (`[model.tiers.<tier>]`), so `tier = "pro"` in a manifest buys the pro
//! token budgets; a contract tier with no model tier of its name gets the
//! `default` model tier. Aliases, A/B variants, the cache TTL and semantic
//! caching come from the tenant's own `[model]` section (stored on its
//! registry record); without one the tenant uses the node's aliases.

use crate::config::HostConfig;
use warden_plugin_model::{ModelService, Tenant, TenantModelConfig, TenantPolicy};

/// The policy of a tenant on contract tier `tier` with its `[model]`
/// section `section`.
pub fn policy_for(
    config: &HostConfig,
    tier: &str,
    section: Option<&TenantModelConfig>,
) -> TenantPolicy {
    let tier = config
        .model
        .tiers
        .contains_key(tier)
        .then(|| tier.to_string());
    match section {
        Some(section) => section.policy(tier),
        None => TenantPolicy {
            tier,
            ..TenantPolicy::default()
        },
    }
}

/// Sets `tenant`'s policy on `service`. The admin API checked the section
/// against this node's config; should it still be refused (a node whose
/// providers differ from the writer's), the tenant keeps its tier's budgets
/// on the node's aliases and the refusal is logged: never fail open on
/// budgets.
pub fn apply(
    service: &ModelService,
    config: &HostConfig,
    tenant: &Tenant,
    tier: &str,
    section: Option<&TenantModelConfig>,
) {
    let Err(e) = service.set_policy(tenant, policy_for(config, tier, section)) else {
        return;
    };
    tracing::error!(tenant = %tenant, error = %e, "tenant model policy refused; using the node's aliases");
    if let Err(e) = service.set_policy(tenant, policy_for(config, tier, None)) {
        tracing::error!(tenant = %tenant, error = %e, "model tier refused; using the default");
        service.remove_policy(tenant);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contract_tier_picks_the_model_tier_of_its_name() {
        let config = HostConfig {
            model: toml::from_str("[tiers.pro]\nrequests_per_minute = 5").expect("model"),
            ..HostConfig::default()
        };
        assert_eq!(
            policy_for(&config, "pro", None).tier.as_deref(),
            Some("pro")
        );
        assert_eq!(policy_for(&config, "gold", None).tier, None);
        assert_eq!(policy_for(&config, "pro", None).cache_ttl_secs, 300);
    }

    #[test]
    fn the_tenants_section_gives_aliases_and_ttl_under_its_tier() {
        let config = HostConfig {
            model: toml::from_str("[tiers.pro]\nrequests_per_minute = 5").expect("model"),
            ..HostConfig::default()
        };
        let section: TenantModelConfig = toml::from_str(
            "cache_ttl_secs = 7\n[aliases]\nchat = { provider = \"builtin\", model = \"x\" }",
        )
        .expect("section");
        let policy = policy_for(&config, "pro", Some(&section));
        assert_eq!(policy.tier.as_deref(), Some("pro"));
        assert_eq!(policy.cache_ttl_secs, 7);
        assert_eq!(policy.aliases["chat"].model.as_deref(), Some("x"));
    }
}

//! Each tenant's model policy, applied by the reloader: a tenant's
//! contract tier selects the model budgets of the same name
//! (`[model.tiers.<tier>]`), so `tier = "pro"` in a manifest buys the pro
//! token budgets. A contract tier with no model tier of its name gets the
//! `default` model tier. Per-tenant aliases and semantic caching
//! (`TenantPolicy`'s other fields) are not in the registry yet.

use crate::config::HostConfig;
use warden_plugin_model::{ModelService, Tenant, TenantPolicy};

/// The policy of a tenant on contract tier `tier`.
pub fn policy_for(config: &HostConfig, tier: &str) -> TenantPolicy {
    TenantPolicy {
        tier: config
            .model
            .tiers
            .contains_key(tier)
            .then(|| tier.to_string()),
        ..TenantPolicy::default()
    }
}

/// Sets `tenant`'s policy on `service`; a refusal (which the config's
/// validation should have made impossible) is logged and the tenant keeps
/// the default policy.
pub fn apply(service: &ModelService, config: &HostConfig, tenant: &Tenant, tier: &str) {
    if let Err(e) = service.set_policy(tenant, policy_for(config, tier)) {
        tracing::error!(tenant = %tenant, error = %e, "model policy refused; using the default");
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
        assert_eq!(policy_for(&config, "pro").tier.as_deref(), Some("pro"));
        assert_eq!(policy_for(&config, "gold").tier, None);
        assert_eq!(policy_for(&config, "pro").cache_ttl_secs, 300);
    }
}

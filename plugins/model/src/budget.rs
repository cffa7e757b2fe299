//! Token and request budgets on the rate-limit plugin's [`RateLimiter`],
//! so with the Redis limiter they hold across every node.
//!
//! Buckets per tenant: `model:rpm` (calls), `model:tpm` and `model:tpd`
//! (tokens). Before a provider call the prompt's estimated tokens
//! (chars / 4) are taken; after it, what the provider really charged
//! beyond the estimate is taken too ("settling"). GCRA cannot go into
//! debt, so a settlement larger than what is left drains the bucket to
//! zero instead; and it cannot refund, so an over-estimate stays spent.

use std::sync::Arc;
use std::time::Duration;

use warden_plugin_core::Tenant;
use warden_plugin_rate_limit::{FailMode, Quota, RateLimitError, RateLimiter};

use crate::ModelError;
use crate::config::TierConfig;

const MINUTE: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// The estimate of a prompt's tokens: ceil(chars / 4).
pub(crate) fn estimate_tokens(chars: usize) -> u32 {
    u32::try_from(chars.div_ceil(4)).unwrap_or(u32::MAX)
}

pub(crate) struct Budgets {
    limiter: Arc<dyn RateLimiter>,
    fail_mode: FailMode,
}

impl Budgets {
    pub(crate) fn new(limiter: Arc<dyn RateLimiter>, fail_mode: FailMode) -> Self {
        Self { limiter, fail_mode }
    }

    /// Counts one call against `requests_per_minute`.
    pub(crate) async fn admit_call(
        &self,
        tenant: &Tenant,
        tier: &TierConfig,
    ) -> Result<(), ModelError> {
        if let Some(rpm) = tier.requests_per_minute {
            self.take(tenant, "model:rpm", Quota::new(rpm, MINUTE), 1)
                .await?;
        }
        Ok(())
    }

    /// Takes `estimate` tokens before a provider call.
    pub(crate) async fn reserve(
        &self,
        tenant: &Tenant,
        tier: &TierConfig,
        estimate: u32,
    ) -> Result<(), ModelError> {
        for (key, quota) in token_quotas(tier) {
            self.take(tenant, key, quota, estimate).await?;
        }
        Ok(())
    }

    /// Takes what the call cost beyond `estimate`, draining at worst.
    pub(crate) async fn settle(
        &self,
        tenant: &Tenant,
        tier: &TierConfig,
        estimate: u32,
        actual: u32,
    ) {
        let extra = actual.saturating_sub(estimate);
        if extra == 0 {
            return;
        }
        for (key, quota) in token_quotas(tier) {
            let cost = extra.min(quota.burst);
            match self.limiter.check(tenant, key, &quota, cost).await {
                Ok(d) if !d.allowed && d.remaining > 0 => {
                    let _ = self.limiter.check(tenant, key, &quota, d.remaining).await;
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%tenant, %error, key, "model budget not settled"),
            }
        }
    }

    async fn take(
        &self,
        tenant: &Tenant,
        key: &str,
        quota: Quota,
        cost: u32,
    ) -> Result<(), ModelError> {
        let result = self.limiter.check(tenant, key, &quota, cost).await;
        match self.fail_mode.apply(&quota, result) {
            Ok(d) if d.allowed => Ok(()),
            Ok(d) => Err(ModelError::BudgetExhausted {
                retry_after: d.retry_after,
            }),
            Err(RateLimitError::CostExceedsBurst { cost, burst }) => {
                Err(ModelError::ContentTooLarge(format!(
                    "{cost} estimated tokens exceed the budget of {burst} ({key})"
                )))
            }
            Err(error) => Err(ModelError::Internal(format!(
                "budget check failed: {error}"
            ))),
        }
    }
}

fn token_quotas(tier: &TierConfig) -> impl Iterator<Item = (&'static str, Quota)> {
    let tpm = tier
        .tokens_per_minute
        .map(|n| ("model:tpm", Quota::new(n, MINUTE)));
    let tpd = tier
        .tokens_per_day
        .map(|n| ("model:tpd", Quota::new(n, DAY)));
    tpm.into_iter().chain(tpd)
}

//! Step: tier limits. A tenant's contract tier as the gateway enforces it:
//! a concurrency bound (taken by admission) and a GCRA rate limit shared by
//! every node through the rate-limit backend, with the tier's fail mode
//! when that backend is down.

use super::GatewayError;
use crate::config::Tier;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use warden_plugin_core::Tenant;
use warden_plugin_rate_limit::FailMode;
use warden_plugin_rate_limit::{Quota, RateLimitError, RateLimiter, headers};

/// The tier key the gateway uses in a tenant's rate-limit namespace.
pub const GATEWAY_KEY: &str = "gw:requests";

/// What the gateway enforces for one tenant.
#[derive(Debug)]
pub struct TenantPolicy {
    /// Tier name, for the `RateLimit-Policy` header.
    pub tier: String,
    /// Requests per second with burst; `None` when the tier is unlimited.
    pub quota: Option<Quota>,
    /// Behaviour when the limiter backend is unreachable.
    pub on_unavailable: FailMode,
    /// In-flight requests of this tenant; shared across route reloads.
    pub slots: Arc<Semaphore>,
}

/// Rate-limit headers to put on the response.
#[derive(Debug, Clone, Default)]
pub struct RateHeaders {
    /// `RateLimit-Policy` value.
    pub policy: Option<String>,
    /// `RateLimit` value.
    pub state: Option<String>,
}

impl RateHeaders {
    /// Puts the headers on a response.
    pub fn apply(self, headers: &mut http::HeaderMap) {
        for (name, value) in [("ratelimit-policy", self.policy), ("ratelimit", self.state)] {
            if let Some(value) = value.and_then(|v| http::HeaderValue::from_str(&v).ok()) {
                headers.insert(name, value);
            }
        }
    }
}

impl TenantPolicy {
    /// The policy of `tier`, using `slots` for concurrency.
    pub fn new(tier_name: &str, tier: &Tier, slots: Arc<Semaphore>) -> Self {
        let quota = (tier.rate > 0)
            .then(|| Quota::new(tier.rate, Duration::from_secs(1)).with_burst(tier.burst.max(1)));
        Self {
            tier: tier_name.to_string(),
            quota,
            on_unavailable: tier.on_limiter_unavailable,
            slots,
        }
    }

    /// Takes one of the tenant's concurrency slots, or sheds.
    pub fn admit(&self) -> Result<OwnedSemaphorePermit, GatewayError> {
        self.slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| GatewayError::TenantOverloaded)
    }

    /// Consumes one request from the tenant's rate, returning the headers
    /// to send, or the refusal.
    pub async fn check_rate(
        &self,
        limiter: &dyn RateLimiter,
        tenant: &Tenant,
        headers_out: &mut RateHeaders,
    ) -> Result<(), GatewayError> {
        let Some(quota) = &self.quota else {
            return Ok(());
        };
        headers_out.policy = Some(headers::policy(&self.tier, quota));
        match limiter.check(tenant, GATEWAY_KEY, quota, 1).await {
            Ok(decision) => {
                headers_out.state = Some(headers::ratelimit(&self.tier, &decision));
                match headers::retry_after(&decision) {
                    Some(retry_after) => Err(GatewayError::RateLimited(retry_after)),
                    None => Ok(()),
                }
            }
            Err(RateLimitError::Unavailable(reason)) => match self.on_unavailable {
                FailMode::Open => {
                    tracing::warn!(tenant = %tenant, %reason, "rate limiter unavailable; failing open");
                    Ok(())
                }
                FailMode::Closed => Err(GatewayError::LimiterUnavailable),
            },
            Err(e) => {
                tracing::error!(tenant = %tenant, error = %e, "rate limiter failed; failing open");
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_plugin_rate_limit::MemoryLimiter;

    fn policy(rate: u32, burst: u32) -> TenantPolicy {
        let tier = Tier {
            rate,
            burst,
            ..Tier::default()
        };
        TenantPolicy::new("pro", &tier, Arc::new(Semaphore::new(1)))
    }

    #[tokio::test]
    async fn over_the_rate_is_refused_with_retry_after_and_headers() {
        let limiter = MemoryLimiter::new();
        let tenant = Tenant::new("acme").expect("tenant");
        let policy = policy(1, 2);
        for _ in 0..2 {
            let mut headers = RateHeaders::default();
            policy
                .check_rate(&limiter, &tenant, &mut headers)
                .await
                .expect("within burst");
            assert!(headers.policy.as_deref().is_some_and(|p| p.contains("pro")));
            assert!(headers.state.is_some());
        }
        let mut headers = RateHeaders::default();
        let refused = policy.check_rate(&limiter, &tenant, &mut headers).await;
        assert!(
            matches!(refused, Err(GatewayError::RateLimited(_))),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn an_unlimited_tier_sets_no_headers() {
        let limiter = MemoryLimiter::new();
        let tenant = Tenant::new("acme").expect("tenant");
        let mut headers = RateHeaders::default();
        policy(0, 0)
            .check_rate(&limiter, &tenant, &mut headers)
            .await
            .expect("unlimited");
        assert!(headers.policy.is_none() && headers.state.is_none());
    }
}

//! A tenant's contract tier as the gateway enforces it: a concurrency bound
//! (shed, never queue) and a GCRA rate limit shared by every node through
//! the rate-limit backend, with the tier's choice when that backend is down.

use super::GatewayError;
use crate::config::{FailPolicy, Tier};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use warden_plugin_core::Tenant;
use warden_plugin_ratelimit::{Quota, RateLimitError, RateLimiter, headers};

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
    pub on_unavailable: FailPolicy,
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
                FailPolicy::Open => {
                    tracing::warn!(tenant = %tenant, %reason, "rate limiter unavailable; failing open");
                    Ok(())
                }
                FailPolicy::Closed => Err(GatewayError::LimiterUnavailable),
            },
            Err(e) => {
                tracing::error!(tenant = %tenant, error = %e, "rate limiter failed; failing open");
                Ok(())
            }
        }
    }
}

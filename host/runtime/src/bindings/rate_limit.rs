//! `warden:platform/rate-limit` on the [`warden_plugin_rate_limit::RateLimiter`]
//! backend. Guest keys live in their own namespace (`fn:` prefix) so a
//! guest can never drain the gateway's tier bucket of its tenant.

use std::sync::Arc;
use std::time::Duration;
use warden_plugin_core::Tenant;
use warden_plugin_rate_limit::{RateLimitError, RateLimiter};
use warden_world::rate_limit::{self as wit, Decision, Error, Quota};
use wasmtime::component::{HasData, Linker};

/// The node's rate limiter (the gateway's tier limits share it).
pub struct RateLimitCtx {
    limiter: Arc<dyn RateLimiter>,
}

impl std::fmt::Debug for RateLimitCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimitCtx").finish_non_exhaustive()
    }
}

impl RateLimitCtx {
    /// The context over `limiter`.
    pub fn new(limiter: Arc<dyn RateLimiter>) -> Self {
        Self { limiter }
    }

    /// The limiter, for the gateway's tier limits.
    pub fn limiter(&self) -> &Arc<dyn RateLimiter> {
        &self.limiter
    }
}

/// One request's view of the rate limiter: the limiter and the calling
/// tenant.
pub struct RateLimitView<'a> {
    ctx: &'a RateLimitCtx,
    tenant: &'a Tenant,
}

impl<'a> RateLimitView<'a> {
    /// `tenant`'s view of `ctx`.
    pub fn new(ctx: &'a RateLimitCtx, tenant: &'a Tenant) -> Self {
        Self { ctx, tenant }
    }
}

struct RateLimitBinding;
impl HasData for RateLimitBinding {
    type Data<'a> = RateLimitView<'a>;
}

/// Adds `warden:platform/rate-limit` to `linker`, reaching the view through
/// `view`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> RateLimitView<'_>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, RateLimitBinding>(linker, view)
}

/// Prefix of guest-chosen keys; the gateway uses `gw:`.
pub const GUEST_KEY_PREFIX: &str = "fn:";

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl wit::Host for RateLimitView<'_> {
    async fn check(
        &mut self,
        key: String,
        quota: Quota,
        cost: u32,
    ) -> wasmtime::Result<Result<Decision, Error>> {
        if quota.count == 0 || quota.period_ms == 0 || quota.burst == 0 {
            return Ok(Err(Error::InvalidQuota(
                "count, period-ms and burst must all be > 0".into(),
            )));
        }
        if key.is_empty() {
            return Ok(Err(Error::InvalidKey("key must not be empty".into())));
        }
        let plugin_quota = warden_plugin_rate_limit::Quota::new(
            quota.count,
            Duration::from_millis(quota.period_ms),
        )
        .with_burst(quota.burst);
        let scoped = format!("{GUEST_KEY_PREFIX}{key}");
        let result = self
            .ctx
            .limiter
            .check(self.tenant, &scoped, &plugin_quota, cost)
            .await;
        Ok(match result {
            Ok(d) => Ok(Decision {
                allowed: d.allowed,
                limit: d.limit,
                remaining: d.remaining,
                retry_after_ms: millis(d.retry_after),
                reset_after_ms: millis(d.reset_after),
            }),
            Err(RateLimitError::Key(e)) => Err(Error::InvalidKey(e.to_string())),
            Err(
                e @ (RateLimitError::InvalidQuota(_) | RateLimitError::CostExceedsBurst { .. }),
            ) => Err(Error::InvalidQuota(e.to_string())),
            Err(RateLimitError::Unavailable(reason)) => Err(Error::Unavailable(reason)),
            Err(e @ RateLimitError::Backend(_)) => Err(Error::Internal(e.to_string())),
        })
    }
}

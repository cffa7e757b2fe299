//! `warden:platform/rate-limit` on the [`warden_plugin_ratelimit::RateLimiter`]
//! backend. Guest keys live in their own namespace (`fn:` prefix) so a
//! guest can never drain the gateway's tier bucket of its tenant.

use crate::runtime::bindings::rate_limit::{Decision, Error, Host, Quota};
use crate::runtime::state::RequestState;
use std::time::Duration;
use warden_plugin_ratelimit::RateLimitError;

/// Prefix of guest-chosen keys; the gateway uses `gw:`.
pub const GUEST_KEY_PREFIX: &str = "fn:";

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Host for RequestState {
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
        let plugin_quota = warden_plugin_ratelimit::Quota::new(
            quota.count,
            Duration::from_millis(quota.period_ms),
        )
        .with_burst(quota.burst);
        let caps = self.caps.clone();
        let scoped = format!("{GUEST_KEY_PREFIX}{key}");
        let result = caps
            .ratelimit
            .check(&self.tenant, &scoped, &plugin_quota, cost)
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

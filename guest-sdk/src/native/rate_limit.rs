//! The in-memory rate limiter: the host's GCRA, per thread.
//!
//! The quota rules and the GCRA step are the plugin's own
//! (`warden_plugin_core`), so a quota or cost the host refuses is refused
//! here too, and decisions match the host's to the nanosecond.

use std::time::{Duration, Instant};

use warden_plugin_core::gcra;

use super::{check_key, with};
use crate::rate_limit::{Decision, Error, Quota};

pub fn check(key: &str, quota: &Quota, cost: u32) -> Result<Decision, Error> {
    check_key(key).map_err(Error::InvalidKey)?;
    // As the host builds it from the WIT quota: the period in whole ms.
    let rules =
        warden_plugin_core::Quota::new(quota.count(), Duration::from_millis(quota.period_ms()))
            .with_burst(quota.burst());
    rules
        .validate(cost)
        .map_err(|err| Error::InvalidQuota(err.to_string()))?;
    with(|s| {
        let epoch = *s.epoch.get_or_insert_with(Instant::now);
        let now = u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let stored = s.buckets.get(key).copied();
        let step = gcra::step(stored, now, rules.interval_nanos(), rules.burst, cost);
        if let Some(tat) = step.new_tat {
            s.buckets.insert(key.to_owned(), tat);
        }
        Ok(to_sdk(step.decision))
    })
}

/// The plugin's decision as the SDK's (same fields, the SDK's serializes).
fn to_sdk(d: warden_plugin_core::Decision) -> Decision {
    Decision {
        allowed: d.allowed,
        limit: d.limit,
        remaining: d.remaining,
        retry_after: d.retry_after,
        reset_after: d.reset_after,
    }
}

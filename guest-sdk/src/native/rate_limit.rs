//! The in-memory rate limiter: the host's GCRA, per thread.

use std::time::{Duration, Instant};

use super::{check_key, with};
use crate::rate_limit::{Decision, Error, Quota};

/// Longest period the host accepts: 366 days.
const MAX_PERIOD_MS: u64 = 366 * 24 * 60 * 60 * 1000;

pub fn check(key: &str, quota: &Quota, cost: u32) -> Result<Decision, Error> {
    check_key(key).map_err(Error::InvalidKey)?;
    let period_ms = quota.period_ms();
    if quota.count() == 0 || quota.burst() == 0 || period_ms == 0 || period_ms > MAX_PERIOD_MS {
        return Err(Error::InvalidQuota(format!(
            "count and burst must be at least 1 and the period 1 ms ..= 366 days, got {quota:?}"
        )));
    }
    let interval = period_ms.saturating_mul(1_000_000) / u64::from(quota.count());
    with(|s| {
        let epoch = *s.epoch.get_or_insert_with(Instant::now);
        let now = u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let stored = s.buckets.get(key).copied();
        let (decision, new_tat) = step(stored, now, interval, quota.burst(), cost);
        if let Some(tat) = new_tat {
            s.buckets.insert(key.to_owned(), tat);
        }
        Ok(decision)
    })
}

/// One GCRA step in nanoseconds, as the host's plugin computes it: the
/// decision and, if allowed, the new theoretical arrival time.
fn step(
    tat: Option<u64>,
    now: u64,
    interval: u64,
    burst: u32,
    cost: u32,
) -> (Decision, Option<u64>) {
    let tolerance = interval.saturating_mul(u64::from(burst));
    let tat = tat.unwrap_or(now).max(now);
    let new_tat = tat.saturating_add(interval.saturating_mul(u64::from(cost)));
    let allow_at = new_tat.saturating_sub(tolerance);
    let remaining = |tat: u64| {
        u32::try_from(tolerance.saturating_sub(tat - now) / interval.max(1)).unwrap_or(u32::MAX)
    };
    if now < allow_at {
        let decision = Decision {
            allowed: false,
            limit: burst,
            remaining: remaining(tat),
            retry_after: Duration::from_nanos(allow_at - now),
            reset_after: Duration::from_nanos(tat - now),
        };
        return (decision, None);
    }
    let decision = Decision {
        allowed: true,
        limit: burst,
        remaining: remaining(new_tat),
        retry_after: Duration::ZERO,
        reset_after: Duration::from_nanos(new_tat - now),
    };
    (decision, Some(new_tat))
}

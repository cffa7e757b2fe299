//! In-process GCRA: a sharded map from (tenant, key) to TAT.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use async_trait::async_trait;
use warden_plugin_core::gcra::step;
use warden_plugin_core::{Tenant, check_key};

use crate::{Decision, Quota, RateLimitError, RateLimiter};

/// Independent locks, so checks of unrelated keys do not contend.
const SHARDS: usize = 32;
/// A shard is swept of idle buckets when it grows past this many keys (and
/// then past twice its size after the last sweep): amortised O(1).
const SWEEP_FLOOR: usize = 1024;

type BucketKey = (Tenant, Box<str>);

#[derive(Default)]
struct Shard {
    /// Stored TAT per key, in nanoseconds since `MemoryLimiter::epoch`.
    tats: HashMap<BucketKey, u64>,
    sweep_at: usize,
}

/// GCRA over an in-process map: the embedded backend, for one node.
///
/// A bucket whose TAT is in the past is full, exactly as if it were absent,
/// so sweeping those entries loses nothing; memory stays proportional to
/// the keys active within their quota's window.
pub struct MemoryLimiter {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    epoch: Instant,
}

impl Default for MemoryLimiter {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryLimiter {
    /// An empty limiter.
    pub fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
            epoch: Instant::now(),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// One check at time `now` (nanoseconds since `epoch`).
    fn check_at(&self, tenant: &Tenant, key: &str, quota: &Quota, cost: u32, now: u64) -> Decision {
        let bucket: BucketKey = (tenant.clone(), key.into());
        let index = usize::try_from(self.hasher.hash_one(&bucket) % SHARDS as u64).unwrap_or(0);
        let mut shard = lock(&self.shards[index]);
        let step = step(
            shard.tats.get(&bucket).copied(),
            now,
            quota.interval_nanos(),
            quota.burst,
            cost,
        );
        if let Some(new_tat) = step.new_tat.filter(|tat| *tat > now) {
            shard.tats.insert(bucket, new_tat);
            if shard.tats.len() > shard.sweep_at.max(SWEEP_FLOOR) {
                shard.tats.retain(|_, tat| *tat > now);
                shard.sweep_at = shard.tats.len() * 2;
            }
        }
        step.decision
    }
}

fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    // No user code runs under the lock; a poisoned shard is still consistent.
    shard
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[async_trait]
impl RateLimiter for MemoryLimiter {
    async fn check(
        &self,
        tenant: &Tenant,
        key: &str,
        quota: &Quota,
        cost: u32,
    ) -> Result<Decision, RateLimitError> {
        check_key(key)?;
        quota.validate(cost)?;
        Ok(self.check_at(tenant, key, quota, cost, self.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_buckets_are_swept() {
        let limiter = MemoryLimiter::new();
        let tenant = Tenant::new("t").unwrap();
        let quota = Quota::per_second(1000);
        let first = SHARDS * SWEEP_FLOOR;
        for i in 0..first {
            limiter.check_at(&tenant, &format!("old{i}"), &quota, 1, 0);
        }
        // Ten seconds later every old bucket is full again. Three times as
        // many new keys make every shard at least double, which sweeps it.
        let later = 10_000_000_000;
        for i in 0..first * 3 {
            limiter.check_at(&tenant, &format!("new{i}"), &quota, 1, later);
        }
        let old_left: usize = limiter
            .shards
            .iter()
            .map(|s| {
                lock(s)
                    .tats
                    .keys()
                    .filter(|(_, k)| k.starts_with("old"))
                    .count()
            })
            .sum();
        assert_eq!(old_left, 0);
    }
}

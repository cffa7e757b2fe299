//! GCRA on Redis: one Lua script, atomic, on the server's clock.

use std::time::Duration;

use async_trait::async_trait;
use redis::Script;
use warden_plugin_core::redis::{RedisHandle, scoped_key, to_backend_error};
use warden_plugin_core::{BackendError, Tenant, check_key};

use crate::{Decision, Quota, RateLimitError, RateLimiter};

/// Key space of buckets (`warden:{t}:rl:<key>`).
const SPACE: &str = "rl";

/// The GCRA step of [`warden_plugin_core::gcra::step`], in microseconds, on
/// the server's clock.
///
/// One script, so read-decide-write is atomic without WATCH retries, and
/// `TIME` makes every node use the same clock (node clock skew cannot
/// loosen the limit). Since Redis 5 scripts replicate their effects, so the
/// non-deterministic `TIME` before a write is allowed; the call to
/// `replicate_commands` only matters on older servers. The stored TAT
/// expires when the bucket would be full anyway, so idle keys cost nothing.
///
/// KEYS[1] bucket; ARGV interval (µs), burst, cost.
/// Returns {allowed, remaining, retry_after_us, reset_after_us}.
const GCRA_LUA: &str = r#"
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tolerance = interval * burst
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval * cost
local allow_at = new_tat - tolerance
if now < allow_at then
  return {0, math.floor((tolerance - (tat - now)) / interval), allow_at - now, tat - now}
end
local ttl_ms = math.ceil((new_tat - now) / 1000)
if ttl_ms > 0 then
  redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl_ms)
end
return {1, math.floor((tolerance - (new_tat - now)) / interval), 0, new_tat - now}
"#;

/// Buckets in Redis, shared by all nodes: one global limit per key.
pub(crate) struct RedisLimiter {
    redis: RedisHandle,
    script: Script,
}

impl RedisLimiter {
    pub(crate) fn new(redis: RedisHandle) -> Self {
        Self {
            redis,
            script: Script::new(GCRA_LUA),
        }
    }
}

#[async_trait]
impl RateLimiter for RedisLimiter {
    async fn check(
        &self,
        tenant: &Tenant,
        key: &str,
        quota: &Quota,
        cost: u32,
    ) -> Result<Decision, RateLimitError> {
        check_key(key)?;
        quota.validate(cost)?;
        let bucket = scoped_key(tenant, SPACE, key);
        // Whole microseconds keep the script's arithmetic exact in doubles.
        let interval_us = (quota.interval_nanos() / 1_000).max(1);
        let script = &self.script;
        let (allowed, remaining, retry_us, reset_us): (i64, i64, i64, i64) = self
            .redis
            .run(|mut conn| async move {
                script
                    .key(bucket)
                    .arg(interval_us)
                    .arg(quota.burst)
                    .arg(cost)
                    .invoke_async(&mut conn)
                    .await
            })
            .await
            .map_err(to_backend_error)?;
        let micros = |us: i64| Duration::from_micros(u64::try_from(us).unwrap_or(0));
        let remaining = u32::try_from(remaining).map_err(|_| {
            BackendError::failed(format!("gcra script returned remaining {remaining}"))
        })?;
        Ok(Decision {
            allowed: allowed == 1,
            limit: quota.burst,
            remaining,
            retry_after: micros(retry_us),
            reset_after: micros(reset_us),
        })
    }
}

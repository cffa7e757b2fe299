//! Warden's rate-limit capability: check-and-consume by tenant, key and cost.
//!
//! The algorithm is GCRA (generic cell rate algorithm): per key one stored
//! number, the "theoretical arrival time" (TAT). It behaves like a token
//! bucket that refills continuously, with exact `remaining`, `retry_after`
//! and `reset_after` for the IETF `RateLimit` / `RateLimit-Policy` headers
//! and `Retry-After` (see [`headers`]).
//!
//! Backends, chosen by [`Config`]'s `type` tag:
//!
//! - `memory`: a hand-rolled GCRA over a sharded in-process map. Not
//!   `governor`: its keyed limiter fixes one quota per limiter, while here
//!   every call brings its own quota (tiers, per-route limits) and a cost;
//!   the whole algorithm is [`warden_plugin_core::gcra`] plus a map, about
//!   50 lines.
//! - `redis`: one Lua script that reads the server clock (`TIME`), so the
//!   decision is atomic and all nodes share one clock and one limit.
//!
//! When Redis cannot answer within its budget the call fails fast with
//! [`RateLimitError::Unavailable`]; whether that lets traffic through is the
//! caller's choice, see [`FailMode`].

#![forbid(unsafe_code)]
// Tests may unwrap: a panic is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod config;
mod error;
mod fail;
pub mod headers;
mod memory;
mod redis;

use async_trait::async_trait;
pub use warden_plugin_core::Tenant;

pub use config::{Config, MemoryConfig, RedisConfig, build};
pub use error::RateLimitError;
pub use fail::FailMode;
pub use memory::MemoryLimiter;
/// The quota and decision types, defined with the GCRA step in
/// plugin-core so the SDK's native stand-in shares them.
pub use warden_plugin_core::{Decision, Quota, QuotaError};

/// A tenant-scoped GCRA rate limiter.
#[async_trait]
pub trait RateLimiter: Send + Sync + 'static {
    /// Consumes `cost` units from the bucket of (`tenant`, `key`) under
    /// `quota`, if they are available, and says so.
    ///
    /// A denied call consumes nothing. `cost = 0` only reports the state.
    /// A key used with different quotas shares one bucket; callers that want
    /// separate limits use separate keys.
    async fn check(
        &self,
        tenant: &Tenant,
        key: &str,
        quota: &Quota,
        cost: u32,
    ) -> Result<Decision, RateLimitError>;
}

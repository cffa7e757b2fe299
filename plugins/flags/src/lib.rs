//! Warden's feature-flag capability: flags and variants for the calling
//! tenant, with targeting rules and deterministic percentage rollouts.
//!
//! A flag ([`FlagDefinition`]) has variants with weights, optional rules
//! ("attribute `country` is one of `NL`, `BE` → variant `on`") and an on/off
//! switch. Evaluation ([`FlagDefinition::evaluate`]) is pure and the same on
//! every backend and node: the rollout bucket is a SHA-256 of flag name and
//! subject, so a user sees the same variant everywhere, every time, until
//! the weights change.
//!
//! Backends, chosen by [`Config`]'s `type` tag:
//!
//! - `memory`: definitions from the host config, per tenant, held in
//!   memory; `put` / `remove` change them until restart.
//! - `redis`: one hash per tenant, `warden:{<tenant>}:flags`, field = flag
//!   name, value = the definition as JSON; shared by all nodes and managed
//!   through `put` / `remove` (e.g. from the admin API).
//!
//! Kept modest on purpose: no segments, no scheduling, no per-node cache
//! of Redis definitions (one `HGET` per evaluation).

#![forbid(unsafe_code)]
// Tests may unwrap: a panic is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod config;
mod definition;
mod error;
mod evaluate;
mod memory;
mod redis;

use async_trait::async_trait;
pub use warden_plugin_core::Tenant;

pub use config::{Config, MemoryConfig, RedisConfig, build};
pub use definition::{FlagDefinition, Rule, VariantDef};
pub use error::FlagError;
pub use evaluate::{EvalContext, Variant, bucket};
pub use memory::MemoryFlags;

/// Per-tenant flag definitions, and their evaluation.
#[async_trait]
pub trait FlagStore: Send + Sync + 'static {
    /// The definition of `flag` for `tenant`, if any.
    async fn definition(
        &self,
        tenant: &Tenant,
        flag: &str,
    ) -> Result<Option<FlagDefinition>, FlagError>;

    /// Creates or replaces `flag` (validated first).
    async fn put(
        &self,
        tenant: &Tenant,
        flag: &str,
        definition: FlagDefinition,
    ) -> Result<(), FlagError>;

    /// Removes `flag`; `true` if it existed.
    async fn remove(&self, tenant: &Tenant, flag: &str) -> Result<bool, FlagError>;

    /// The variant `context` gets for `flag`: `None` when the flag does not
    /// exist, is off without an off variant, or has no variant for it.
    async fn evaluate(
        &self,
        tenant: &Tenant,
        flag: &str,
        context: &EvalContext,
    ) -> Result<Option<Variant>, FlagError> {
        Ok(self
            .definition(tenant, flag)
            .await?
            .and_then(|definition| definition.evaluate(flag, context)))
    }
}

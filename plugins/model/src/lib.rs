//! Warden's model capability: `complete`, `stream` and `embed` for tenants,
//! by model alias, through configured providers.
//!
//! The host binds WIT `model` to [`ModelService`] and passes the calling
//! [`Tenant`] and a [`CallContext`] with every call. Around each provider
//! call the service applies, in order:
//!
//! 1. checks: the request's shape, the prompt size cap of the tenant's
//!    tier ([`ModelError::ContentTooLarge`]), its request budget;
//! 2. resolution: alias (tenant override, else node) -> provider + model,
//!    or an A/B variant sticky per tenant, alias and subject;
//! 3. cache (deterministic requests only: temperature 0 or a seed): the
//!    exact key, then, if the tenant opted in for the alias, the semantic
//!    index; misses load under the cache plugin's single flight;
//! 4. token budget: the estimate (chars / 4) reserved on the
//!    [`RateLimiter`](warden_plugin_rate_limit::RateLimiter), settled with
//!    the real usage after;
//! 5. resilience per provider: circuit breaker, bulkhead, timeouts
//!    (connect, first token, total), retries with full jitter under a
//!    retry budget, only for idempotent requests and never after a chunk
//!    was streamed; the alias's fallback while the breaker is open;
//! 6. one [`UsageRecord`] per call to the [`UsageSink`].
//!
//! Providers ([`Provider`]): `openai` (any OpenAI-compatible HTTP API,
//! over `https://` or `http://`) and `builtin` (deterministic, in process,
//! the default). See README.md for the config and defaults.

#![forbid(unsafe_code)]
// Tests may unwrap: a panic is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod breaker;
mod budget;
mod cache_keys;
mod config;
mod endpoint;
mod error;
mod policy;
mod provider;
mod retry;
mod semantic;
mod service;
mod tenant_config;
mod types;
mod usage;

pub use warden_plugin_core::Tenant;

pub use breaker::BreakerState;
pub use config::{
    AliasConfig, BreakerConfig, BuiltinConfig, Config, DEFAULT_WARM_UP_INTERVAL, OpenAiConfig,
    ProviderConfig, ResilienceConfig, Secret, TierConfig, VariantConfig,
};
pub use error::{ConfigError, ModelError, TimeoutStage};
pub use policy::{SemanticConfig, Target, TenantPolicy, pick_variant};
pub use provider::{
    BuiltinProvider, ChunkSource, Deadlines, OpenAiProvider, Provider, ProviderCompletion,
    ProviderEmbeddings, ProviderError, ProviderEvent, cosine, embed_text,
};
pub use service::{Dependencies, ModelService, ModelStream, WarmUpReport, build};
pub use tenant_config::{
    MAX_WARM_UP_PROMPT_BYTES, MAX_WARM_UP_PROMPTS, TenantModelConfig, WarmUpPrompt,
};
pub use types::{
    CallContext, Completion, CompletionRequest, Embeddings, Message, Role, Served, StreamEvent,
    Usage,
};
pub use usage::{MemorySink, NoopSink, Operation, UsageRecord, UsageSink};

//! Services built through the public `build`, on a fake provider.

use std::collections::BTreeMap;
use std::sync::Arc;

use warden_plugin_cache::{LeaseTable, MemoryCache};
use warden_plugin_model::{
    AliasConfig, CallContext, CompletionRequest, Config, Dependencies, MemorySink, ModelError,
    ModelService, ModelStream, OpenAiConfig, ProviderConfig, ResilienceConfig, Secret, StreamEvent,
    Tenant, build,
};
use warden_plugin_rate_limit::{MemoryLimiter, RateLimiter};

pub fn tenant() -> Tenant {
    Tenant::new("acme").unwrap()
}

pub fn ctx() -> CallContext {
    CallContext::new("quote", Some("user-1"))
}

/// Defaults, with backoffs short enough for tests and a roomy budget.
pub fn fast() -> ResilienceConfig {
    ResilienceConfig {
        retry_base_ms: 5,
        retry_max_backoff_ms: 20,
        retry_budget_min: 100,
        ..ResilienceConfig::default()
    }
}

/// `chat` and `embed` on the fake at `base_url`; `small` on the builtin.
pub fn openai(base_url: &str, resilience: ResilienceConfig) -> Config {
    Config {
        providers: BTreeMap::from([(
            "fake".to_string(),
            ProviderConfig::Openai(OpenAiConfig {
                base_url: base_url.to_string(),
                api_key_env: None,
                api_key: Some(Secret::new("sk-test")),
                headers: BTreeMap::from([("x-extra".to_string(), "1".to_string())]),
                ca_file: None,
                resilience,
            }),
        )]),
        aliases: BTreeMap::from([
            ("chat".to_string(), AliasConfig::new("fake", "fake-model")),
            ("embed".to_string(), AliasConfig::new("fake", "fake-embed")),
            (
                "small".to_string(),
                AliasConfig::new("builtin", "builtin-small"),
            ),
        ]),
        ..Config::default()
    }
}

pub struct Harness {
    pub service: ModelService,
    pub usage: Arc<MemorySink>,
}

pub async fn harness(config: &Config) -> Harness {
    harness_with(config, Arc::new(MemoryLimiter::new())).await
}

pub async fn harness_with(config: &Config, limiter: Arc<dyn RateLimiter>) -> Harness {
    let usage = Arc::new(MemorySink::default());
    let service = build(
        config,
        Dependencies {
            limiter,
            usage: usage.clone(),
            ..deps()
        },
    )
    .await
    .unwrap();
    Harness { service, usage }
}

/// In-memory cache, leases and limiter; usage records dropped.
pub fn deps() -> Dependencies {
    Dependencies {
        cache: Arc::new(MemoryCache::new(16 * 1024 * 1024, 1024 * 1024)),
        leases: Arc::new(LeaseTable::default()),
        limiter: Arc::new(MemoryLimiter::new()),
        usage: Arc::new(MemorySink::default()),
    }
}

/// Temperature 0: cacheable.
pub fn deterministic(alias: &str, text: &str) -> CompletionRequest {
    CompletionRequest {
        temperature: Some(0.0),
        ..CompletionRequest::user(alias, text)
    }
}

/// Drains a stream: its chunks, and its last item (End or Err).
pub async fn drain(
    mut stream: ModelStream,
) -> (Vec<String>, Option<Result<StreamEvent, ModelError>>) {
    let mut chunks = Vec::new();
    let mut last = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(StreamEvent::Chunk(text)) => chunks.push(text),
            other => last = Some(other),
        }
    }
    (chunks, last)
}

pub const CHAT: &str = "/v1/chat/completions";
pub const EMBEDDINGS: &str = "/v1/embeddings";

//! Builds the capability contexts from the host config: every backend is
//! built, and every failure is reported together, not just the first.

use crate::config::HostConfig;
use std::sync::Arc;
use warden_plugin_model::{NoopSink, UsageSink};
use warden_runtime::Capabilities;
use warden_runtime::bindings::model::ModelCtx;
use warden_runtime::bindings::rate_limit::RateLimitCtx;
use warden_runtime::bindings::{cache::CacheCtx, flags::FlagsCtx, kv::KvCtx};

/// Builds every capability backend, dropping model usage records (tests
/// and tools that have no metrics); see [`build_capabilities_with`].
pub async fn build_capabilities(config: &HostConfig) -> anyhow::Result<Capabilities> {
    build_capabilities_with(config, Arc::new(NoopSink)).await
}

/// Builds every capability backend; kv defaults to a redb file in the data
/// dir. The model service is built last, on the node's cache, its lease
/// table and its rate limiter (budgets hold across nodes when that is
/// Redis), with its usage records going to `usage`.
pub async fn build_capabilities_with(
    config: &HostConfig,
    usage: Arc<dyn UsageSink>,
) -> anyhow::Result<Capabilities> {
    let kv_config = config.kv.clone().unwrap_or_else(|| {
        warden_plugin_kv::Config::Redb(warden_plugin_kv::RedbConfig::in_dir(&config.data_dir))
    });
    let (cache, rate_limit, kv, flags) = tokio::join!(
        warden_plugin_cache::build(&config.cache),
        warden_plugin_rate_limit::build(&config.rate_limit),
        warden_plugin_kv::build(&kv_config),
        warden_plugin_flags::build(&config.flags),
    );
    let mut problems = Vec::new();
    let mut note = |section: &str, e: &dyn std::fmt::Display| {
        problems.push(format!("[{section}]: {e}"));
    };
    if let Err(e) = &cache {
        note("cache", e);
    }
    if let Err(e) = &rate_limit {
        note("rate_limit", e);
    }
    if let Err(e) = &kv {
        note("kv", e);
    }
    if let Err(e) = &flags {
        note("flags", e);
    }
    let (cache, rate_limit) = match (cache, rate_limit) {
        (Ok(cache), Ok(rate_limit)) => (CacheCtx::new(cache), RateLimitCtx::new(rate_limit)),
        // The model service needs both; its own config is still checked.
        _ => {
            if let Err(e) = config.model.validate() {
                problems.push(format!("[model]: {e}"));
            }
            return Err(failed(&problems));
        }
    };
    let model = warden_plugin_model::build(
        &config.model,
        warden_plugin_model::Dependencies {
            cache: cache.cache().clone(),
            leases: cache.leases().clone(),
            limiter: rate_limit.limiter().clone(),
            usage,
        },
    )
    .await;
    if let Err(e) = &model {
        problems.push(format!("[model]: {e}"));
    }
    match (kv, flags, model) {
        (Ok(kv), Ok(flags), Ok(model)) => Ok(Capabilities {
            cache,
            rate_limit,
            kv: KvCtx::new(kv),
            flags: FlagsCtx::new(flags),
            model: ModelCtx::new(Arc::new(model)),
        }),
        _ => Err(failed(&problems)),
    }
}

fn failed(problems: &[String]) -> anyhow::Error {
    anyhow::anyhow!(
        "cannot build the capability backends:\n  - {}",
        problems.join("\n  - ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_failing_backend_is_reported_at_once() {
        let bad = "type = \"redis\"\nurl = \"ftp://nowhere\"";
        let dir = tempfile::tempdir().expect("tempdir");
        let config = HostConfig {
            data_dir: dir.path().to_path_buf(),
            cache: toml::from_str(bad).expect("cache"),
            rate_limit: toml::from_str(bad).expect("rate limit"),
            ..HostConfig::default()
        };
        let err = build_capabilities(&config).await.expect_err("two bad URLs");
        let text = err.to_string();
        assert!(text.contains("[cache]"), "{text}");
        assert!(text.contains("[rate_limit]"), "{text}");
        assert!(!text.contains("[kv]"), "kv is fine: {text}");
        assert!(!text.contains("[model]"), "model is fine: {text}");
    }

    #[tokio::test]
    async fn embedded_defaults_build() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = HostConfig {
            data_dir: dir.path().to_path_buf(),
            ..HostConfig::default()
        };
        build_capabilities(&config)
            .await
            .expect("embedded backends");
    }

    #[tokio::test]
    async fn a_bad_model_section_is_reported_with_the_others() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = HostConfig {
            data_dir: dir.path().to_path_buf(),
            cache: toml::from_str("type = \"redis\"\nurl = \"ftp://nowhere\"").expect("cache"),
            model: toml::from_str("[aliases]\nchat = { provider = \"nope\", model = \"m\" }")
                .expect("model"),
            ..HostConfig::default()
        };
        let text = build_capabilities(&config)
            .await
            .expect_err("bad cache and model")
            .to_string();
        assert!(text.contains("[cache]"), "{text}");
        assert!(text.contains("[model]") && text.contains("nope"), "{text}");
    }
}

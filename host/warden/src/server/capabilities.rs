//! Builds the capability contexts from the host config: every backend is
//! built, and every failure is reported together, not just the first.

use crate::config::HostConfig;
use warden_runtime::Capabilities;
use warden_runtime::bindings::rate_limit::RateLimitCtx;
use warden_runtime::bindings::{cache::CacheCtx, flags::FlagsCtx, kv::KvCtx};

/// Builds every capability backend; kv defaults to a redb file in the data
/// dir.
pub async fn build_capabilities(config: &HostConfig) -> anyhow::Result<Capabilities> {
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
    match (cache, rate_limit, kv, flags) {
        (Ok(cache), Ok(rate_limit), Ok(kv), Ok(flags)) => Ok(Capabilities {
            cache: CacheCtx::new(cache),
            rate_limit: RateLimitCtx::new(rate_limit),
            kv: KvCtx::new(kv),
            flags: FlagsCtx::new(flags),
        }),
        _ => anyhow::bail!(
            "cannot build the capability backends:\n  - {}",
            problems.join("\n  - ")
        ),
    }
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
}

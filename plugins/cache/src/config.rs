//! Backend selection from host config.
//!
//! ```toml
//! [cache]
//! type = "memory"
//! max_bytes = 67108864        # optional, default 64 MiB
//! max_value_bytes = 1048576   # optional, default 1 MiB
//! ```
//!
//! ```toml
//! [cache]
//! type = "redis"
//! url = "redis://127.0.0.1:6379/"
//! timeout_ms = 200            # optional: budget of one Redis call
//! max_value_bytes = 1048576   # optional
//! l1_max_bytes = 16777216     # optional, default 16 MiB; 0 turns the L1 off
//! l1_ttl_ms = 1000            # optional: cross-node staleness bound of the L1
//! ```

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use warden_plugin_core::RedisUrl;
use warden_plugin_core::redis::{RedisHandle, RedisSettings, default_timeout_ms};

use crate::limits::DEFAULT_MAX_VALUE_BYTES;
use crate::memory::MemoryCache;
use crate::redis::RedisCache;
use crate::tiered::TieredCache;
use crate::{Cache, CacheError};

/// Which cache backend to run, with its settings. Unknown keys are errors,
/// so a typo in an operator's config fails at start-up, not silently.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Config {
    /// In-process only.
    Memory(MemoryConfig),
    /// Redis shared by all nodes, with an optional in-process L1.
    Redis(RedisConfig),
}

impl Default for Config {
    /// In-process: a node with no services still has a cache.
    fn default() -> Self {
        Self::Memory(MemoryConfig::default())
    }
}

/// Settings of the `memory` backend.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryConfig {
    /// Budget of the whole cache, in bytes (keys + values + overhead).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// Largest value accepted, in bytes.
    #[serde(default = "default_max_value_bytes")]
    pub max_value_bytes: usize,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            max_bytes: default_max_bytes(),
            max_value_bytes: default_max_value_bytes(),
        }
    }
}

/// Settings of the `redis` backend.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://` URL (may hold credentials; `Debug` masks them).
    pub url: RedisUrl,
    /// Budget of one Redis call, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Largest value accepted, in bytes.
    #[serde(default = "default_max_value_bytes")]
    pub max_value_bytes: usize,
    /// Budget of the in-process L1, in bytes; 0 disables it.
    #[serde(default = "default_l1_max_bytes")]
    pub l1_max_bytes: u64,
    /// Longest time an entry stays in the L1, in milliseconds: the bound on
    /// how stale a read can be after another node wrote or deleted the key.
    #[serde(default = "default_l1_ttl_ms")]
    pub l1_ttl_ms: u64,
}

fn default_max_bytes() -> u64 {
    64 * 1024 * 1024
}
fn default_max_value_bytes() -> usize {
    DEFAULT_MAX_VALUE_BYTES
}
fn default_l1_max_bytes() -> u64 {
    16 * 1024 * 1024
}
fn default_l1_ttl_ms() -> u64 {
    1000
}

/// Builds the configured backend. With Redis, an unreachable server is not
/// an error here (calls report [`CacheError::Unavailable`] until it is back);
/// a malformed URL is.
pub async fn build(config: &Config) -> Result<Arc<dyn Cache>, CacheError> {
    match config {
        Config::Memory(memory) => Ok(Arc::new(MemoryCache::new(
            memory.max_bytes,
            memory.max_value_bytes,
        ))),
        Config::Redis(redis) => {
            let settings = RedisSettings::new(redis.url.clone(), redis.timeout_ms);
            let l2 = RedisCache::new(
                RedisHandle::connect(&settings).await?,
                redis.max_value_bytes,
            );
            if redis.l1_max_bytes == 0 || redis.l1_ttl_ms == 0 {
                return Ok(Arc::new(l2));
            }
            let l1 = MemoryCache::new(redis.l1_max_bytes, redis.max_value_bytes);
            Ok(Arc::new(TieredCache::new(
                l1,
                l2,
                Duration::from_millis(redis.l1_ttl_ms),
                redis.max_value_bytes,
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Doc {
        cache: Config,
    }

    fn parse(text: &str) -> Result<Config, toml::de::Error> {
        toml::from_str::<Doc>(text).map(|doc| doc.cache)
    }

    #[test]
    fn parses_each_backend_with_defaults() {
        let memory = parse("[cache]\ntype = \"memory\"\nmax_bytes = 1024\n").unwrap();
        assert!(matches!(
            memory,
            Config::Memory(MemoryConfig {
                max_bytes: 1024,
                ..
            })
        ));
        let redis = parse("[cache]\ntype = \"redis\"\nurl = \"redis://:s3cret@h/\"\n").unwrap();
        let Config::Redis(redis) = redis else {
            panic!("expected redis")
        };
        assert_eq!(redis.timeout_ms, 200);
        assert_eq!(redis.l1_ttl_ms, 1000);
        // The URL is there for the client; its password never in `Debug`.
        assert_eq!(redis.url.expose(), "redis://:s3cret@h/");
        assert!(!format!("{redis:?}").contains("s3cret"));
    }

    #[test]
    fn rejects_unknown_keys_and_types() {
        assert!(parse("[cache]\ntype = \"memory\"\nmax_entries = 5\n").is_err());
        assert!(parse("[cache]\ntype = \"redis\"\nurl = \"redis://h/\"\nurll = 1\n").is_err());
        assert!(parse("[cache]\ntype = \"memcached\"\n").is_err());
        assert!(parse("[cache]\nmax_bytes = 5\n").is_err());
    }
}

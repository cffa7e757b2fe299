//! Backend selection from host config.
//!
//! ```toml
//! [rate_limit]
//! type = "memory"
//! ```
//!
//! ```toml
//! [rate_limit]
//! type = "redis"
//! url = "redis://127.0.0.1:6379/"
//! timeout_ms = 200   # optional: past this a check is `Unavailable`
//! ```
//!
//! Quotas are not configured here: each call brings its own, so the host
//! can derive them from tenant tiers and routes.

use std::sync::Arc;

use serde::Deserialize;
use warden_plugin_core::redis::RedisHandle;

use crate::memory::MemoryLimiter;
use crate::redis::RedisLimiter;
use crate::{RateLimitError, RateLimiter};

/// Which limiter backend to run. Unknown keys are errors.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Config {
    /// In-process GCRA: limits are per node.
    Memory(MemoryConfig),
    /// GCRA in Redis: limits are global across nodes.
    Redis(RedisConfig),
}

impl Default for Config {
    fn default() -> Self {
        Self::Memory(MemoryConfig {})
    }
}

/// Settings of the `memory` backend (none yet; the table keeps room).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryConfig {}

/// Settings of the `redis` backend: `url` and `timeout_ms`.
pub use warden_plugin_core::redis::RedisConfig;

/// Builds the configured limiter. An unreachable Redis is not an error here
/// (checks report `Unavailable` until it is back); a malformed URL is.
pub async fn build(config: &Config) -> Result<Arc<dyn RateLimiter>, RateLimitError> {
    match config {
        Config::Memory(MemoryConfig {}) => Ok(Arc::new(MemoryLimiter::new())),
        Config::Redis(redis) => {
            let settings = redis.settings();
            Ok(Arc::new(RedisLimiter::new(
                RedisHandle::connect(&settings).await?,
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Doc {
        rate_limit: Config,
    }

    fn parse(text: &str) -> Result<Config, toml::de::Error> {
        toml::from_str::<Doc>(text).map(|doc| doc.rate_limit)
    }

    #[test]
    fn parses_and_rejects_unknown_keys() {
        assert!(matches!(
            parse("[rate_limit]\ntype = \"memory\"\n"),
            Ok(Config::Memory(_))
        ));
        let Ok(Config::Redis(redis)) =
            parse("[rate_limit]\ntype = \"redis\"\nurl = \"redis://h/\"\ntimeout_ms = 50\n")
        else {
            panic!("expected redis");
        };
        assert_eq!(redis.timeout_ms, 50);
        assert!(parse("[rate_limit]\ntype = \"memory\"\nrate = 5\n").is_err());
        assert!(parse("[rate_limit]\ntype = \"redis\"\n").is_err());
        assert!(parse("[rate_limit]\ntype = \"governor\"\n").is_err());
    }
}

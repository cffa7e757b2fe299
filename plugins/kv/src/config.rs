//! Backend selection from host config.
//!
//! ```toml
//! [kv]
//! type = "redb"
//! path = "/var/lib/warden/kv.redb"
//! max_value_bytes = 1048576   # optional, default 1 MiB
//! ```
//!
//! ```toml
//! [kv]
//! type = "redis"
//! url = "redis://127.0.0.1:6379/"
//! timeout_ms = 200            # optional
//! max_value_bytes = 1048576   # optional
//! ```
//!
//! ```toml
//! [kv]
//! type = "memory"             # not durable: tests and throwaway nodes
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use warden_plugin_core::RedisUrl;
use warden_plugin_core::redis::{RedisHandle, RedisSettings, default_timeout_ms};

use crate::memory::MemoryKv;
use crate::redb::RedbKv;
use crate::redis::RedisKv;
use crate::{DEFAULT_MAX_VALUE_BYTES, KvError, KvStore};

/// Which kv backend to run. Unknown keys are errors.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Config {
    /// In-process map; lost on exit.
    Memory(MemoryConfig),
    /// Embedded, durable redb file.
    Redb(RedbConfig),
    /// Redis shared by all nodes.
    Redis(RedisConfig),
}

/// Settings of the `memory` backend.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryConfig {
    /// Largest value accepted, in bytes.
    #[serde(default = "default_max_value_bytes")]
    pub max_value_bytes: usize,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            max_value_bytes: default_max_value_bytes(),
        }
    }
}

/// Settings of the `redb` backend.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedbConfig {
    /// The database file; parent directories are created. A relative path
    /// is relative to the working directory: hosts resolve it against
    /// their data dir first. One process may open a file at a time.
    pub path: PathBuf,
    /// Largest value accepted, in bytes.
    #[serde(default = "default_max_value_bytes")]
    pub max_value_bytes: usize,
}

impl RedbConfig {
    /// The default file `kv.redb` in `data_dir`.
    pub fn in_dir(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join("kv.redb"),
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
    /// Budget of one call, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Largest value accepted, in bytes.
    #[serde(default = "default_max_value_bytes")]
    pub max_value_bytes: usize,
}

fn default_max_value_bytes() -> usize {
    DEFAULT_MAX_VALUE_BYTES
}

/// Builds the configured store. Opening a redb file that is corrupt or
/// held by another process is an error; an unreachable Redis is not (calls
/// report `Unavailable` until it is back).
pub async fn build(config: &Config) -> Result<Arc<dyn KvStore>, KvError> {
    match config {
        Config::Memory(memory) => Ok(Arc::new(MemoryKv::new(memory.max_value_bytes))),
        Config::Redb(redb) => Ok(Arc::new(
            RedbKv::open(&redb.path, redb.max_value_bytes).await?,
        )),
        Config::Redis(redis) => {
            let settings = RedisSettings::new(redis.url.clone(), redis.timeout_ms);
            let handle = RedisHandle::connect(&settings).await?;
            Ok(Arc::new(RedisKv::new(handle, redis.max_value_bytes)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Doc {
        kv: Config,
    }

    fn parse(text: &str) -> Result<Config, toml::de::Error> {
        toml::from_str::<Doc>(text).map(|doc| doc.kv)
    }

    #[test]
    fn parses_each_backend_and_rejects_unknown_keys() {
        let Ok(Config::Redb(redb)) = parse("[kv]\ntype = \"redb\"\npath = \"/d/kv.redb\"\n") else {
            panic!("expected redb");
        };
        assert_eq!(redb.path, PathBuf::from("/d/kv.redb"));
        assert_eq!(redb.max_value_bytes, DEFAULT_MAX_VALUE_BYTES);
        assert!(matches!(
            parse("[kv]\ntype = \"memory\"\n"),
            Ok(Config::Memory(_))
        ));
        assert!(matches!(
            parse("[kv]\ntype = \"redis\"\nurl = \"redis://h/\"\n"),
            Ok(Config::Redis(_))
        ));
        assert!(parse("[kv]\ntype = \"redb\"\n").is_err());
        assert!(parse("[kv]\ntype = \"redb\"\npath = \"x\"\ndurability = \"none\"\n").is_err());
        assert!(parse("[kv]\ntype = \"sled\"\n").is_err());
    }
}

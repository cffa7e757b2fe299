//! Backend selection from host config.
//!
//! ```toml
//! [flags]
//! type = "memory"
//!
//! [flags.tenants.acme.new-checkout]
//! variants = [{ name = "on", weight = 10 }, { name = "off", weight = 90 }]
//! rules = [{ attribute = "country", values = ["NL"], variant = "on" }]
//!
//! [flags.tenants.acme.banner]
//! enabled = false
//! variants = [{ name = "blue", value = "#00f", weight = 1 }]
//! ```
//!
//! ```toml
//! [flags]
//! type = "redis"
//! url = "redis://127.0.0.1:6379/"
//! timeout_ms = 200   # optional
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use warden_plugin_core::Tenant;
use warden_plugin_core::redis::RedisHandle;

use crate::memory::MemoryFlags;
use crate::redis::RedisFlags;
use crate::{FlagDefinition, FlagError, FlagStore};

/// Which flags backend to run. Unknown keys are errors.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Config {
    /// Definitions from this config, in memory.
    Memory(MemoryConfig),
    /// Definitions in Redis, shared by all nodes.
    Redis(RedisConfig),
}

impl Default for Config {
    fn default() -> Self {
        Self::Memory(MemoryConfig::default())
    }
}

/// Settings of the `memory` backend: the flags of each tenant.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryConfig {
    /// tenant → flag name → definition.
    #[serde(default)]
    pub tenants: BTreeMap<Tenant, BTreeMap<String, FlagDefinition>>,
}

/// Settings of the `redis` backend: `url` and `timeout_ms`.
pub use warden_plugin_core::redis::RedisConfig;

/// Builds the configured store; with `memory`, every configured flag is
/// validated and all problems are reported together.
pub async fn build(config: &Config) -> Result<Arc<dyn FlagStore>, FlagError> {
    match config {
        Config::Memory(memory) => {
            let flags = memory.tenants.iter().flat_map(|(tenant, flags)| {
                flags
                    .iter()
                    .map(|(name, definition)| (tenant.clone(), name.clone(), definition.clone()))
            });
            Ok(Arc::new(MemoryFlags::with_flags(flags)?))
        }
        Config::Redis(redis) => {
            let settings = redis.settings();
            Ok(Arc::new(RedisFlags::new(
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
        flags: Config,
    }

    fn parse(text: &str) -> Result<Config, toml::de::Error> {
        toml::from_str::<Doc>(text).map(|doc| doc.flags)
    }

    #[test]
    fn parses_the_documented_example() {
        let text = r##"
            [flags]
            type = "memory"

            [flags.tenants.acme.new-checkout]
            variants = [{ name = "on", weight = 10 }, { name = "off", weight = 90 }]
            rules = [{ attribute = "country", values = ["NL"], variant = "on" }]

            [flags.tenants.acme.banner]
            enabled = false
            variants = [{ name = "blue", value = "#00f", weight = 1 }]
        "##;
        let Config::Memory(memory) = parse(text).unwrap() else {
            panic!("expected memory");
        };
        let acme = &memory.tenants[&Tenant::new("acme").unwrap()];
        assert_eq!(acme.len(), 2);
        assert!(!acme["banner"].enabled);
    }

    #[test]
    fn rejects_bad_tenants_unknown_keys_and_types() {
        assert!(
            parse("[flags]\ntype = \"memory\"\n[flags.tenants.Bad_Tenant.f]\nvariants = []\n")
                .is_err()
        );
        assert!(parse("[flags]\ntype = \"memory\"\nflags = 1\n").is_err());
        assert!(parse("[flags]\ntype = \"redis\"\nurl = \"redis://h/\"\nttl = 1\n").is_err());
        assert!(parse("[flags]\ntype = \"launchdarkly\"\n").is_err());
    }

    #[tokio::test]
    async fn build_reports_every_invalid_flag() {
        let text = r#"
            [flags]
            type = "memory"
            [flags.tenants.a.one]
            variants = []
            [flags.tenants.b.two]
            variants = [{ name = "x" }]
            off_variant = "y"
        "#;
        let Err(FlagError::InvalidDefinition(text)) = build(&parse(text).unwrap()).await else {
            panic!("expected invalid");
        };
        assert!(text.contains("a/one") && text.contains("b/two"), "{text}");
    }
}

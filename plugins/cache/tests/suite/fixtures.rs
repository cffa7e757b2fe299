//! One way to build each backend, all through the public `build(config)`.

use std::sync::Arc;

use warden_plugin_cache::{Cache, Config, MemoryConfig, RedisConfig, build};
use warden_plugin_testing::RedisServer;

/// Value cap every fixture uses, so the contract can test it.
pub const MAX_VALUE: usize = 1024;

/// A backend plus whatever must outlive it (its Redis server).
pub struct Fixture {
    pub cache: Arc<dyn Cache>,
    pub _server: Option<RedisServer>,
}

pub async fn memory() -> Fixture {
    let config = Config::Memory(MemoryConfig {
        max_bytes: 1024 * 1024,
        max_value_bytes: MAX_VALUE,
    });
    Fixture {
        cache: build(&config).await.unwrap(),
        _server: None,
    }
}

pub fn redis_config(server: &RedisServer, l1_max_bytes: u64, l1_ttl_ms: u64) -> Config {
    Config::Redis(RedisConfig {
        url: server.url().into(),
        timeout_ms: 200,
        max_value_bytes: MAX_VALUE,
        l1_max_bytes,
        l1_ttl_ms,
    })
}

/// Redis alone (L1 off).
pub async fn redis() -> Fixture {
    let server = RedisServer::start();
    let cache = build(&redis_config(&server, 0, 0)).await.unwrap();
    Fixture {
        cache,
        _server: Some(server),
    }
}

/// Redis with the in-process L1 in front.
pub async fn redis_tiered() -> Fixture {
    let server = RedisServer::start();
    let cache = build(&redis_config(&server, 1024 * 1024, 1000))
        .await
        .unwrap();
    Fixture {
        cache,
        _server: Some(server),
    }
}

/// Runs one contract case against every backend, as `<case>::<backend>`.
macro_rules! contract {
    ($case:ident) => {
        mod $case {
            #[tokio::test]
            async fn memory() {
                let fixture = crate::fixtures::memory().await;
                super::$case(&*fixture.cache).await;
            }

            #[tokio::test]
            async fn redis() {
                let fixture = crate::fixtures::redis().await;
                super::$case(&*fixture.cache).await;
            }

            #[tokio::test]
            async fn redis_tiered() {
                let fixture = crate::fixtures::redis_tiered().await;
                super::$case(&*fixture.cache).await;
            }
        }
    };
}
pub(crate) use contract;

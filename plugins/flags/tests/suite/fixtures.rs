//! One way to build each backend, through the public `build(config)`.

use std::sync::Arc;

use warden_plugin_flags::{Config, FlagStore, MemoryConfig, RedisConfig, build};
use warden_plugin_testing::RedisServer;

/// A backend plus whatever must outlive it (its Redis server).
pub struct Fixture {
    pub flags: Arc<dyn FlagStore>,
    pub _server: Option<RedisServer>,
}

pub async fn memory() -> Fixture {
    Fixture {
        flags: build(&Config::Memory(MemoryConfig::default()))
            .await
            .unwrap(),
        _server: None,
    }
}

pub fn redis_config(server: &RedisServer) -> Config {
    Config::Redis(RedisConfig {
        url: server.url().into(),
        timeout_ms: 500,
    })
}

pub async fn redis() -> Fixture {
    let server = RedisServer::start();
    Fixture {
        flags: build(&redis_config(&server)).await.unwrap(),
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
                super::$case(&*fixture.flags).await;
            }

            #[tokio::test]
            async fn redis() {
                let fixture = crate::fixtures::redis().await;
                super::$case(&*fixture.flags).await;
            }
        }
    };
}
pub(crate) use contract;

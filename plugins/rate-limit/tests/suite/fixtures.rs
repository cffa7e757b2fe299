//! One way to build each backend, through the public `build(config)`.

use std::sync::Arc;

use warden_plugin_rate_limit::{Config, MemoryConfig, RateLimiter, RedisConfig, build};
use warden_plugin_testing::RedisServer;

/// A backend plus whatever must outlive it (its Redis server).
pub struct Fixture {
    pub limiter: Arc<dyn RateLimiter>,
    pub _server: Option<RedisServer>,
}

pub async fn memory() -> Fixture {
    Fixture {
        limiter: build(&Config::Memory(MemoryConfig {})).await.unwrap(),
        _server: None,
    }
}

pub fn redis_config(server: &RedisServer) -> Config {
    Config::Redis(RedisConfig {
        url: server.url().into(),
        timeout_ms: 200,
    })
}

pub async fn redis() -> Fixture {
    let server = RedisServer::start();
    Fixture {
        limiter: build(&redis_config(&server)).await.unwrap(),
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
                super::$case(&*fixture.limiter).await;
            }

            #[tokio::test]
            async fn redis() {
                let fixture = crate::fixtures::redis().await;
                super::$case(&*fixture.limiter).await;
            }
        }
    };
}
pub(crate) use contract;

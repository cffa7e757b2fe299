//! One way to build each backend, through the public `build(config)`.

use std::sync::Arc;

use warden_plugin_kv::{Config, KvStore, MemoryConfig, RedbConfig, RedisConfig, build};
use warden_plugin_testing::RedisServer;

/// Value cap every fixture uses, so the contract can test it.
pub const MAX_VALUE: usize = 4096;

/// A backend plus whatever must outlive it (temp dir, Redis server).
pub struct Fixture {
    pub kv: Arc<dyn KvStore>,
    pub _dir: Option<tempfile::TempDir>,
    pub _server: Option<RedisServer>,
}

pub async fn memory() -> Fixture {
    let config = Config::Memory(MemoryConfig {
        max_value_bytes: MAX_VALUE,
    });
    Fixture {
        kv: build(&config).await.unwrap(),
        _dir: None,
        _server: None,
    }
}

pub async fn redb() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::Redb(RedbConfig {
        path: dir.path().join("data/kv.redb"),
        max_value_bytes: MAX_VALUE,
    });
    Fixture {
        kv: build(&config).await.unwrap(),
        _dir: Some(dir),
        _server: None,
    }
}

pub fn redis_config(server: &RedisServer) -> Config {
    Config::Redis(RedisConfig {
        url: server.url().into(),
        timeout_ms: 500,
        max_value_bytes: MAX_VALUE,
    })
}

pub async fn redis() -> Fixture {
    let server = RedisServer::start();
    Fixture {
        kv: build(&redis_config(&server)).await.unwrap(),
        _dir: None,
        _server: Some(server),
    }
}

/// Runs one contract case against every backend, as `<case>::<backend>`.
macro_rules! contract {
    ($case:ident) => {
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() {
                let fixture = crate::fixtures::memory().await;
                super::$case(fixture.kv.clone()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn redb() {
                let fixture = crate::fixtures::redb().await;
                super::$case(fixture.kv.clone()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn redis() {
                let fixture = crate::fixtures::redis().await;
                super::$case(fixture.kv.clone()).await;
            }
        }
    };
}
pub(crate) use contract;

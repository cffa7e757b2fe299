//! What every store backend promises, run against each (`<case>::<backend>`):
//! key stores (memory; kv over memory, redb and a real redis-server) and
//! replay stores (memory; Redis; kv over memory, redb and Redis).

use std::sync::Arc;

use warden_plugin_auth::replay::{KvReplayStore, MemoryReplayStore, RedisReplayStore, ReplayStore};
use warden_plugin_auth::{KeyStore, KvKeyStore, MemoryKeyStore};
use warden_plugin_core::redis::{RedisHandle, RedisSettings};
use warden_plugin_kv::{Config as KvConfig, KvStore, MemoryKv, RedisConfig as KvRedisConfig};
use warden_plugin_testing::RedisServer;

use crate::fixtures::{NOW, tenant};

pub async fn redis_kv(server: &RedisServer) -> Arc<dyn KvStore> {
    warden_plugin_kv::build(&KvConfig::Redis(KvRedisConfig {
        url: server.url().into(),
        timeout_ms: 500,
        max_value_bytes: 1 << 20,
    }))
    .await
    .unwrap()
}

/// A redb-backed kv store in a temp dir (kept alive by the returned guard).
pub async fn redb_kv() -> (Arc<dyn KvStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let kv = warden_plugin_kv::build(&KvConfig::Redb(warden_plugin_kv::RedbConfig::in_dir(
        dir.path(),
    )))
    .await
    .unwrap();
    (kv, dir)
}

pub async fn redis_handle(server: &RedisServer) -> RedisHandle {
    RedisHandle::connect(&RedisSettings::new(server.url().into(), 500))
        .await
        .unwrap()
}

macro_rules! key_store_contract {
    ($case:ident) => {
        mod $case {
            use super::*;

            #[tokio::test]
            async fn memory() {
                super::$case(&MemoryKeyStore::default()).await;
            }

            #[tokio::test]
            async fn kv_memory() {
                super::$case(&KvKeyStore::new(Arc::new(MemoryKv::new(1 << 20)))).await;
            }

            #[tokio::test]
            async fn kv_redb() {
                let (kv, _dir) = redb_kv().await;
                super::$case(&KvKeyStore::new(kv)).await;
            }

            #[tokio::test]
            async fn kv_redis() {
                let server = RedisServer::start();
                super::$case(&KvKeyStore::new(redis_kv(&server).await)).await;
            }
        }
    };
}

macro_rules! replay_contract {
    ($case:ident) => {
        mod $case {
            use super::*;

            #[tokio::test]
            async fn memory() {
                super::$case(&MemoryReplayStore::default()).await;
            }

            #[tokio::test]
            async fn redis() {
                let server = RedisServer::start();
                super::$case(&RedisReplayStore::new(redis_handle(&server).await)).await;
            }

            #[tokio::test]
            async fn kv_memory() {
                super::$case(&KvReplayStore::new(Arc::new(MemoryKv::new(1 << 20)))).await;
            }

            #[tokio::test]
            async fn kv_redb() {
                let (kv, _dir) = redb_kv().await;
                super::$case(&KvReplayStore::new(kv)).await;
            }

            #[tokio::test]
            async fn kv_redis() {
                let server = RedisServer::start();
                super::$case(&KvReplayStore::new(redis_kv(&server).await)).await;
            }
        }
    };
}

async fn key_sets_are_compare_and_swapped(store: &dyn KeyStore) {
    let (a, b) = (tenant("a"), tenant("b"));
    assert_eq!(store.load(&a).await.unwrap(), None);
    assert!(store.replace(&a, None, b"one".to_vec()).await.unwrap());
    assert!(!store.replace(&a, None, b"two".to_vec()).await.unwrap());
    assert!(
        !store
            .replace(&a, Some(b"zero"), b"two".to_vec())
            .await
            .unwrap()
    );
    assert!(
        store
            .replace(&a, Some(b"one"), b"two".to_vec())
            .await
            .unwrap()
    );
    assert_eq!(store.load(&a).await.unwrap().as_deref(), Some(&b"two"[..]));
    assert_eq!(store.load(&b).await.unwrap(), None);
}
key_store_contract!(key_sets_are_compare_and_swapped);

/// Expiry relative to the wall clock, since Redis expires on its own clock.
fn real_now() -> u64 {
    warden_plugin_auth::unix_now()
}

async fn a_jti_is_accepted_once_per_tenant(store: &dyn ReplayStore) {
    let (a, b) = (tenant("a"), tenant("b"));
    let now = real_now();
    assert!(store.first_use(&a, "jti-1", now + 60, now).await.unwrap());
    assert!(!store.first_use(&a, "jti-1", now + 60, now).await.unwrap());
    assert!(
        !store
            .first_use(&a, "jti-1", now + 60, now + 1)
            .await
            .unwrap()
    );
    assert!(store.first_use(&b, "jti-1", now + 60, now).await.unwrap());
    assert!(store.first_use(&a, "jti-2", now + 60, now).await.unwrap());
    // Ids are opaque: separators and huge ids are just bytes.
    let odd = format!("{}:{{x}}*", "j".repeat(5000));
    assert!(store.first_use(&a, &odd, now + 60, now).await.unwrap());
    assert!(!store.first_use(&a, &odd, now + 60, now).await.unwrap());
}
replay_contract!(a_jti_is_accepted_once_per_tenant);

#[tokio::test]
async fn an_expired_jti_may_be_used_again_memory_and_kv() {
    let a = tenant("a");
    for store in [
        Arc::new(MemoryReplayStore::default()) as Arc<dyn ReplayStore>,
        Arc::new(KvReplayStore::new(Arc::new(MemoryKv::new(1 << 20)))),
    ] {
        assert!(store.first_use(&a, "j", NOW + 10, NOW).await.unwrap());
        assert!(!store.first_use(&a, "j", NOW + 10, NOW + 9).await.unwrap());
        assert!(store.first_use(&a, "j", NOW + 100, NOW + 10).await.unwrap());
        assert!(!store.first_use(&a, "j", NOW + 100, NOW + 11).await.unwrap());
    }
}

#[tokio::test]
async fn redis_forgets_a_jti_when_its_token_expires() {
    let server = RedisServer::start();
    let store = RedisReplayStore::new(redis_handle(&server).await);
    let a = tenant("a");
    let now = real_now();
    assert!(store.first_use(&a, "j", now + 1, now).await.unwrap());
    assert!(!store.first_use(&a, "j", now + 1, now).await.unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert!(
        store
            .first_use(&a, "j", now + 60, real_now())
            .await
            .unwrap()
    );
}

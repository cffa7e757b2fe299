//! Behaviour only a shared backend has: several nodes, key layout, outages.

use std::time::{Duration, Instant};

use warden_plugin_cache::{Bytes, CacheError, Tenant, build};
use warden_plugin_testing::RedisServer;

use crate::fixtures::redis_config;

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn two_nodes_share_entries() {
    let server = RedisServer::start();
    let node_a = build(&redis_config(&server, 0, 0)).await.unwrap();
    let node_b = build(&redis_config(&server, 0, 0)).await.unwrap();
    let t = Tenant::new("acme").unwrap();
    node_a
        .set(&t, "k", Bytes::from_static(b"v"), MINUTE)
        .await
        .unwrap();
    assert_eq!(node_b.get(&t, "k").await.unwrap().unwrap(), "v");
    node_b.delete(&t, "k").await.unwrap();
    assert_eq!(node_a.get(&t, "k").await.unwrap(), None);
}

#[tokio::test]
async fn l1_staleness_is_bounded_by_l1_ttl() {
    let server = RedisServer::start();
    let node_a = build(&redis_config(&server, 1024 * 1024, 100))
        .await
        .unwrap();
    let node_b = build(&redis_config(&server, 0, 0)).await.unwrap();
    let t = Tenant::new("acme").unwrap();
    node_a
        .set(&t, "k", Bytes::from_static(b"old"), MINUTE)
        .await
        .unwrap();
    assert_eq!(node_a.get(&t, "k").await.unwrap().unwrap(), "old");
    node_b
        .set(&t, "k", Bytes::from_static(b"new"), MINUTE)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(node_a.get(&t, "k").await.unwrap().unwrap(), "new");
}

#[tokio::test]
async fn keys_carry_the_tenant_hash_tag_and_a_ttl() {
    let server = RedisServer::start();
    let cache = build(&redis_config(&server, 0, 0)).await.unwrap();
    let t = Tenant::new("acme").unwrap();
    cache
        .set(&t, "k{x}*", Bytes::from_static(b"v"), MINUTE)
        .await
        .unwrap();

    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<Vec<u8>> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(keys, vec![b"warden:{acme}:cache:k{x}*".to_vec()]);
    let pttl: i64 = redis::cmd("PTTL")
        .arg(&keys[0])
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(pttl > 0 && pttl <= 60_000, "{pttl}");
}

#[tokio::test]
async fn outage_is_unavailable_quickly_and_heals_without_restart() {
    let mut server = RedisServer::start();
    let cache = build(&redis_config(&server, 0, 0)).await.unwrap();
    let t = Tenant::new("acme").unwrap();
    cache
        .set(&t, "k", Bytes::from_static(b"v"), MINUTE)
        .await
        .unwrap();

    server.kill();
    let started = Instant::now();
    let err = cache.get(&t, "k").await.unwrap_err();
    assert!(matches!(err, CacheError::Unavailable(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    server.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match cache
            .set(&t, "k", Bytes::from_static(b"again"), MINUTE)
            .await
        {
            Ok(()) => break,
            Err(CacheError::Unavailable(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(err) => panic!("did not recover: {err:?}"),
        }
    }
    assert_eq!(cache.get(&t, "k").await.unwrap().unwrap(), "again");
}

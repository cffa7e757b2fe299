//! Nodes sharing one Redis, the key layout, and outages.

use std::time::{Duration, Instant};

use warden_plugin_kv::{CasOutcome, KvError, Tenant, build};
use warden_plugin_testing::RedisServer;

use crate::fixtures::redis_config;

#[tokio::test]
async fn two_nodes_see_each_others_writes() {
    let server = RedisServer::start();
    let node_a = build(&redis_config(&server)).await.unwrap();
    let node_b = build(&redis_config(&server)).await.unwrap();
    let t = Tenant::new("acme").unwrap();
    node_a.set(&t, "k", b"from a".to_vec()).await.unwrap();
    assert_eq!(node_b.get(&t, "k").await.unwrap().unwrap(), b"from a");
    let outcome = node_b
        .compare_and_swap(&t, "k", Some(b"from a"), b"from b".to_vec())
        .await
        .unwrap();
    assert_eq!(outcome, CasOutcome::Swapped);
    assert_eq!(node_a.get(&t, "k").await.unwrap().unwrap(), b"from b");
    node_a.increment(&t, "n", 1).await.unwrap();
    assert_eq!(node_b.increment(&t, "n", 1).await.unwrap(), 2);
    assert_eq!(
        node_b.list(&t, "", None, 10).await.unwrap().keys,
        ["k", "n"]
    );
    assert!(node_b.delete(&t, "k").await.unwrap());
    assert_eq!(node_a.get(&t, "k").await.unwrap(), None);
    assert_eq!(node_a.list(&t, "", None, 10).await.unwrap().keys, ["n"]);
}

#[tokio::test]
async fn keys_carry_the_tenant_hash_tag() {
    let server = RedisServer::start();
    let kv = build(&redis_config(&server)).await.unwrap();
    let t = Tenant::new("acme").unwrap();
    kv.set(&t, "a}{b*", b"v".to_vec()).await.unwrap();

    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut keys: Vec<Vec<u8>> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    keys.sort();
    assert_eq!(
        keys,
        [
            b"warden:{acme}:kv-index".to_vec(),
            b"warden:{acme}:kv:a}{b*".to_vec()
        ]
    );
}

#[tokio::test]
async fn outage_is_unavailable_quickly_and_heals_without_restart() {
    let mut server = RedisServer::start();
    let kv = build(&redis_config(&server)).await.unwrap();
    let t = Tenant::new("acme").unwrap();
    kv.set(&t, "k", b"v".to_vec()).await.unwrap();

    server.kill();
    let started = Instant::now();
    let err = kv.set(&t, "k", b"lost".to_vec()).await.unwrap_err();
    assert!(matches!(err, KvError::Unavailable(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    server.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match kv.set(&t, "k", b"back".to_vec()).await {
            Ok(()) => break,
            Err(KvError::Unavailable(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(err) => panic!("did not recover: {err:?}"),
        }
    }
    assert_eq!(kv.get(&t, "k").await.unwrap().unwrap(), b"back");
}

//! One global limit across nodes, key layout, and behaviour during outages.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use warden_plugin_rate_limit::{FailMode, Quota, RateLimitError, Tenant, build};
use warden_plugin_testing::RedisServer;

use crate::fixtures::redis_config;

const HOUR: Duration = Duration::from_secs(3600);

#[tokio::test]
async fn two_nodes_enforce_one_global_limit() {
    let server = RedisServer::start();
    let node_a = build(&redis_config(&server)).await.unwrap();
    let node_b = build(&redis_config(&server)).await.unwrap();
    let t = Tenant::new("acme").unwrap();
    let quota = Quota::new(10, HOUR);
    let mut allowed = 0;
    for i in 0..20 {
        let node = if i % 2 == 0 { &node_a } else { &node_b };
        allowed += u32::from(node.check(&t, "api", &quota, 1).await.unwrap().allowed);
    }
    assert_eq!(allowed, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_checks_from_two_nodes_never_overshoot() {
    let server = RedisServer::start();
    let nodes = [
        build(&redis_config(&server)).await.unwrap(),
        build(&redis_config(&server)).await.unwrap(),
    ];
    let quota = Quota::new(25, HOUR);
    let mut tasks = JoinSet::new();
    for i in 0..100 {
        let node = Arc::clone(&nodes[i % 2]);
        tasks.spawn(async move {
            let t = Tenant::new("acme").unwrap();
            node.check(&t, "api", &quota, 1).await.unwrap().allowed
        });
    }
    let mut allowed = 0;
    while let Some(result) = tasks.join_next().await {
        allowed += u32::from(result.unwrap());
    }
    assert_eq!(allowed, 25);
}

#[tokio::test]
async fn bucket_key_carries_the_tenant_hash_tag_and_expires() {
    let server = RedisServer::start();
    let limiter = build(&redis_config(&server)).await.unwrap();
    let t = Tenant::new("acme").unwrap();
    limiter
        .check(&t, "k*", &Quota::per_second(10), 1)
        .await
        .unwrap();

    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<Vec<u8>> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(keys, vec![b"warden:{acme}:rl:k*".to_vec()]);
    let pttl: i64 = redis::cmd("PTTL")
        .arg(&keys[0])
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(pttl > 0 && pttl <= 1000, "{pttl}");
}

#[tokio::test]
async fn outage_is_unavailable_quickly_and_heals_without_restart() {
    let mut server = RedisServer::start();
    let limiter = build(&redis_config(&server)).await.unwrap();
    let t = Tenant::new("acme").unwrap();
    let quota = Quota::new(100, HOUR);
    assert!(limiter.check(&t, "k", &quota, 1).await.unwrap().allowed);

    server.kill();
    for _ in 0..3 {
        let started = Instant::now();
        let result = limiter.check(&t, "k", &quota, 1).await;
        // Bounded by the 200 ms budget plus scheduling slack on a busy box.
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert!(
            matches!(result, Err(RateLimitError::Unavailable(_))),
            "{result:?}"
        );
        assert!(FailMode::Open.apply(&quota, result).unwrap().allowed);
    }
    let result = limiter.check(&t, "k", &quota, 1).await;
    assert!(!FailMode::Closed.apply(&quota, result).unwrap().allowed);

    server.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    let decision = loop {
        match limiter.check(&t, "k", &quota, 1).await {
            Ok(decision) => break decision,
            Err(RateLimitError::Unavailable(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(err) => panic!("did not recover: {err:?}"),
        }
    };
    assert!(decision.allowed);
}

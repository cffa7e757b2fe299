//! Two Warden nodes sharing one Redis: one global rate limit, and each sees
//! the other's kv writes and cache entries.

use crate::common::{TestNode, component};
use http::{Method, StatusCode};
use warden::config::{HostConfig, Tier};
use warden_test_components as guests;

fn shared_redis(c: &mut HostConfig, url: &str) {
    c.rate_limit =
        toml::from_str(&format!("type = \"redis\"\nurl = \"{url}\"")).expect("ratelimit");
    c.kv = Some(toml::from_str(&format!("type = \"redis\"\nurl = \"{url}\"")).expect("kv"));
    c.cache = toml::from_str(&format!(
        "type = \"redis\"\nurl = \"{url}\"\nl1_max_bytes = 0"
    ))
    .expect("cache");
    c.tiers.insert(
        "shared".into(),
        Tier {
            rate: 1,
            burst: 5,
            ..Tier::default()
        },
    );
}

async fn setup(node: &TestNode) {
    let r = node
        .admin(Method::PUT, "/v1/tenants/acme", r#"{"tier":"shared"}"#)
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    node.deploy("acme", "hello", &["/hello"], &component(guests::WASI_HELLO))
        .await;
    node.deploy(
        "acme",
        "probe",
        &["/kv", "/cache"],
        &component(guests::KV_PROBE),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_one_rate_limit_and_one_kv() {
    let redis = warden_plugin_testing::RedisServer::start();
    let url = redis.url();
    let a = TestNode::start_with(|c| shared_redis(c, &url)).await;
    let b = TestNode::start_with(|c| shared_redis(c, &url)).await;
    setup(&a).await;
    setup(&b).await;

    let mut allowed = 0;
    for i in 0..20 {
        let node = if i % 2 == 0 { &a } else { &b };
        if node.get("acme.localhost", "/hello").await.status == StatusCode::OK {
            allowed += 1;
        }
    }
    // Burst 5 plus at most a refill or two during the loop; two separate
    // buckets would have allowed 10 or more.
    assert!(
        (5..=7).contains(&allowed),
        "allowed {allowed} across two nodes"
    );

    // Let the bucket refill for the four requests below.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let r = a
        .call(Method::PUT, "acme.localhost", "/kv?key=shared", "from-a")
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = b.get("acme.localhost", "/kv?key=shared").await;
    assert_eq!(r.text(), "from-a", "node b sees node a's write");
    let r = b
        .call(
            Method::PUT,
            "acme.localhost",
            "/cache?key=c&ttl_ms=60000",
            "cached-by-b",
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert_eq!(
        a.get("acme.localhost", "/cache?key=c").await.text(),
        "cached-by-b"
    );
    a.shutdown().await;
    b.shutdown().await;
}

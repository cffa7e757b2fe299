//! Contract tiers at the gateway: rate limits with IETF headers, per-tenant
//! and node-wide concurrency bounds that shed instead of queueing, and the
//! per-tier choice when the shared rate limiter is down.

use crate::common::{TestNode, component};
use http::{Method, StatusCode};
use warden::config::{FailMode, Tier};
use warden_test_components as guests;

fn tier(rate: u32, burst: u32, max_concurrent: usize, on_unavailable: FailMode) -> Tier {
    Tier {
        rate,
        burst,
        max_concurrent,
        on_limiter_unavailable: on_unavailable,
        ..Tier::default()
    }
}

async fn put_tenant(node: &TestNode, tenant: &str, tier: &str) {
    let r = node
        .admin(
            Method::PUT,
            &format!("/v1/tenants/{tenant}"),
            format!(r#"{{"tier":"{tier}"}}"#),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text());
}

#[tokio::test]
async fn over_the_tier_rate_answers_429_with_ratelimit_headers() {
    let node = TestNode::start_with(|c| {
        c.tiers
            .insert("small".into(), tier(1, 2, 10, FailMode::Open));
    })
    .await;
    put_tenant(&node, "acme", "small").await;
    node.deploy("acme", "hello", &["/hello"], &component(guests::WASI_HELLO))
        .await;
    let first = node.get("acme.localhost", "/hello").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(
        first
            .headers
            .get("ratelimit-policy")
            .map(|v| v.to_str().expect("ascii")),
        Some(r#""small";q=1;w=1"#)
    );
    assert!(first.headers.contains_key("ratelimit"));
    let _second = node.get("acme.localhost", "/hello").await;
    let third = node.get("acme.localhost", "/hello").await;
    assert_eq!(
        third.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        third.text()
    );
    assert_eq!(third.error_code(), "rate_limited");
    let retry: u64 = third.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(retry >= 1);
    assert!(third.headers.contains_key("ratelimit-policy"));

    let r = node
        .admin(Method::PUT, "/v1/tenants/globex", r#"{"tier":"gold"}"#)
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "unknown tiers are refused"
    );
    assert_eq!(r.error_code(), "unknown_tier");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_at_its_limit_is_shed_without_slowing_its_neighbour() {
    let node = TestNode::start_with(|c| {
        c.tiers
            .insert("narrow".into(), tier(0, 0, 2, FailMode::Open));
    })
    .await;
    put_tenant(&node, "slow", "narrow").await;
    node.deploy("slow", "sleepy", &["/sleep"], &component(guests::SLEEPY))
        .await;
    node.deploy("fast", "hello", &["/hello"], &component(guests::WASI_HELLO))
        .await;

    let slow = async {
        let calls = (0..4).map(|_| node.get("slow.localhost", "/sleep?ms=1500"));
        let replies = futures_util::future::join_all(calls).await;
        (replies, std::time::Instant::now())
    };
    let fast = async {
        // Let the slow requests take their slots first.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(node.get("fast.localhost", "/hello").await.status);
        }
        (statuses, std::time::Instant::now())
    };
    let ((slow_replies, slow_done), (fast_statuses, fast_done)) = tokio::join!(slow, fast);
    let ok = slow_replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    let shed: Vec<_> = slow_replies
        .iter()
        .filter(|r| r.status == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert_eq!(ok, 2, "two slots for the slow tenant");
    assert_eq!(shed.len(), 2, "the rest shed, not queued");
    for r in shed {
        assert_eq!(r.error_code(), "tenant_overloaded");
        assert!(r.headers.contains_key("retry-after"));
    }
    assert!(
        fast_statuses.iter().all(|s| *s == StatusCode::OK),
        "{fast_statuses:?}"
    );
    assert!(
        fast_done < slow_done,
        "the fast tenant finished while the slow one was still busy"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_wide_bound_sheds_with_503() {
    let node = TestNode::start_with(|c| c.pool.max_inflight = 2).await;
    node.deploy("acme", "sleepy", &["/sleep"], &component(guests::SLEEPY))
        .await;
    let calls = (0..3).map(|_| node.get("acme.localhost", "/sleep?ms=800"));
    let replies = futures_util::future::join_all(calls).await;
    let shed: Vec<_> = replies
        .iter()
        .filter(|r| r.status == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert_eq!(
        shed.len(),
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(shed[0].error_code(), "overloaded");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_redis_is_down_tiers_fail_open_or_closed_and_recover() {
    let mut redis = warden_plugin_testing::RedisServer::start();
    let url = redis.url();
    let node = TestNode::start_with(|c| {
        c.rate_limit = toml::from_str(&format!(
            "type = \"redis\"\nurl = \"{url}\"\ntimeout_ms = 200"
        ))
        .expect("config");
        c.tiers
            .insert("lenient".into(), tier(1000, 1000, 10, FailMode::Open));
        c.tiers
            .insert("strict".into(), tier(1000, 1000, 10, FailMode::Closed));
    })
    .await;
    put_tenant(&node, "open", "lenient").await;
    put_tenant(&node, "closed", "strict").await;
    let hello = component(guests::WASI_HELLO);
    node.deploy("open", "hello", &["/hello"], &hello).await;
    node.deploy("closed", "hello", &["/hello"], &hello).await;
    assert_eq!(
        node.get("closed.localhost", "/hello").await.status,
        StatusCode::OK
    );

    redis.kill();
    let r = node.get("open.localhost", "/hello").await;
    assert_eq!(r.status, StatusCode::OK, "fail open serves: {}", r.text());
    let r = node.get("closed.localhost", "/hello").await;
    assert_eq!(
        r.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "fail closed refuses: {}",
        r.text()
    );
    assert_eq!(r.error_code(), "rate_limiter_unavailable");

    redis.restart();
    let mut recovered = false;
    for _ in 0..50 {
        if node.get("closed.localhost", "/hello").await.status == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        recovered,
        "the strict tier serves again once Redis is back, without a restart"
    );
    let r = node.get("closed.localhost", "/hello").await;
    assert!(
        r.headers.contains_key("ratelimit"),
        "limits are enforced again"
    );
    node.shutdown().await;
}

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

/// Two nodes sharing one Redis (kv, hence keys and replay ids) and one KEK
/// directory: a key created through node a verifies on node b, and a
/// single-use token used on node a is refused as a replay on node b.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_use_token_replayed_on_another_node_is_refused() {
    use warden::api::{MintToken, NewKeyRequest, PutFunction, PutTenant, RoutePolicy};
    let redis = warden_plugin_testing::RedisServer::start();
    let url = redis.url();
    let kek_dir = tempfile::tempdir().expect("kek dir");
    let shared = |c: &mut HostConfig| {
        c.kv = Some(toml::from_str(&format!("type = \"redis\"\nurl = \"{url}\"")).expect("kv"));
        let mut auth = warden_plugin_auth::Config::embedded(kek_dir.path());
        auth.key_snapshot_ttl_ms = 0;
        c.auth = Some(auth);
    };
    let a = TestNode::start_with(shared).await;
    let b = TestNode::start_with(shared).await;
    let tenant = PutTenant {
        auth: Some(warden::api::TenantAuthConfig {
            issuer: Some("https://acme.test/".into()),
            audiences: vec!["acme-api".into()],
            ..Default::default()
        }),
        ..PutTenant::default()
    };
    let function = PutFunction {
        routes: vec!["/once".into()],
        auth: Some(RoutePolicy {
            single_use: true,
            ..RoutePolicy::default()
        }),
        ..PutFunction::default()
    };
    let component = bytes::Bytes::from(component(guests::AUTH_PROBE));
    for node in [&a, &b] {
        let api = node.api();
        api.put_tenant("acme", &tenant).await.expect("tenant");
        api.put_function("acme", "once", &function)
            .await
            .expect("function");
        let uploaded = api
            .upload("acme", "once", component.clone())
            .await
            .expect("upload");
        api.activate("acme", "once", &uploaded.version.digest)
            .await
            .expect("activate");
    }
    a.api()
        .create_key("acme", &NewKeyRequest::default())
        .await
        .expect("key on a");
    assert_eq!(b.api().keys("acme").await.expect("keys on b").len(), 1);
    let mint = MintToken {
        subject: "alice".into(),
        ttl_s: Some(120),
        ..MintToken::default()
    };
    let token = b
        .api()
        .mint_token("acme", &mint)
        .await
        .expect("minted on b")
        .token;
    let bearer = format!("Bearer {token}");
    let headers = [("authorization", bearer.as_str())];
    let first = a
        .call_with(Method::GET, "acme.localhost", "/once", "", &headers)
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    let replay = b
        .call_with(Method::GET, "acme.localhost", "/once", "", &headers)
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "{}", replay.text());
    assert!(replay.text().contains("replayed"), "{}", replay.text());
    a.shutdown().await;
    b.shutdown().await;
}

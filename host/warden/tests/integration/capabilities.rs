//! Capabilities through WIT, as a guest sees them: tenant isolation for any
//! key string, node-wide single flight on cache misses, kv semantics,
//! flags and the guest's own rate limits.

use crate::common::{TestNode, component};
use bytes::Bytes;
use http::{Method, StatusCode};
use warden_test_components as guests;

/// Percent-encodes every byte that is not unreserved.
fn enc(key: &str) -> String {
    key.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn hostile_keys() -> Vec<String> {
    vec![
        "plain".into(),
        "{b}".into(),
        "}{".into(),
        "b}:kv:x".into(),
        "warden:{b}:kv:plain".into(),
        ":".into(),
        "*".into(),
        "a*b?c[d]".into(),
        "nul\0byte".into(),
        "../../etc".into(),
        "k".repeat(1024),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_cannot_reach_each_others_keys_with_any_key_string() {
    let node = TestNode::start().await;
    let probe = component(guests::KV_PROBE);
    node.deploy("a", "probe", &["/kv", "/cache"], &probe).await;
    node.deploy("b", "probe", &["/kv", "/cache"], &probe).await;

    for key in hostile_keys() {
        let q = enc(&key);
        for cap in ["kv", "cache"] {
            let put_path = if cap == "kv" {
                format!("/kv?key={q}")
            } else {
                format!("/cache?key={q}&ttl_ms=60000")
            };
            let get_path = format!("/{cap}?key={q}");
            let r = node
                .call(Method::PUT, "a.localhost", &put_path, "value-of-a")
                .await;
            assert_eq!(
                r.status,
                StatusCode::NO_CONTENT,
                "{cap} put {key:?}: {}",
                r.text()
            );
            let r = node.get("b.localhost", &get_path).await;
            assert_eq!(
                r.status,
                StatusCode::NOT_FOUND,
                "{cap}: b read a's {key:?}: {}",
                r.text()
            );
            let r = node
                .call(Method::PUT, "b.localhost", &put_path, "value-of-b")
                .await;
            assert_eq!(r.status, StatusCode::NO_CONTENT);
            let r = node.get("a.localhost", &get_path).await;
            assert_eq!(r.text(), "value-of-a", "{cap}: b overwrote a's {key:?}");
        }
    }
    // A listing of everything in b shows only b's keys.
    let r = node.get("b.localhost", "/kv/list?prefix=&limit=1000").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let keys = r.json()["keys"].as_array().expect("keys").len();
    assert_eq!(keys, hostile_keys().len(), "{}", r.text());
    // Keys over the cap are refused, not truncated into someone else's.
    let r = node
        .call(
            Method::PUT,
            "a.localhost",
            &format!("/kv?key={}", "x".repeat(1025)),
            "v",
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error_code(), "invalid-key");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_miss_storm_on_one_key_runs_the_loader_once() {
    let node = TestNode::start_with(|c| {
        c.pool.instances = 256;
        c.pool.max_inflight = 200;
    })
    .await;
    node.deploy("acme", "fill", &["/fill"], &component(guests::CACHE_FILL))
        .await;
    node.deploy("acme", "probe", &["/kv"], &component(guests::KV_PROBE))
        .await;

    let calls = (0..100).map(|_| node.get("acme.localhost", "/fill?key=hot&sleep_ms=300"));
    let replies = futures_util::future::join_all(calls).await;
    let mut loaded = 0;
    for r in &replies {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["value"], "value-1", "everyone sees the one load");
        if r.json()["loaded"] == true {
            loaded += 1;
        }
    }
    assert_eq!(loaded, 1, "exactly one request ran the loader");
    let count = node.get("acme.localhost", "/kv?key=loads%3Ahot").await;
    assert_eq!(count.text(), "1", "the loader's side effect happened once");
    node.shutdown().await;
}

#[tokio::test]
async fn kv_counts_swaps_and_pages_through_wit() {
    let node = TestNode::start().await;
    node.deploy("acme", "probe", &["/kv"], &component(guests::KV_PROBE))
        .await;
    let h = "acme.localhost";
    for delta in [5, -2] {
        node.call(
            Method::POST,
            h,
            &format!("/kv/incr?key=n&delta={delta}"),
            Bytes::new(),
        )
        .await;
    }
    assert_eq!(node.get(h, "/kv?key=n").await.text(), "3");
    let r = node.call(Method::PUT, h, "/kv?key=text", "abc").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = node
        .call(Method::POST, h, "/kv/incr?key=text&delta=1", Bytes::new())
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error_code(), "not-an-integer");

    let cas = |expected: &str, new: &str| {
        node.call(
            Method::POST,
            h,
            "/kv/cas?key=c",
            format!(r#"{{"expected":{expected},"new":"{new}"}}"#),
        )
    };
    assert_eq!(cas("null", "v1").await.json()["swapped"], true);
    assert_eq!(
        cas("null", "v2").await.json()["swapped"],
        false,
        "absent expected but present"
    );
    assert_eq!(cas("\"v1\"", "v2").await.json()["swapped"], true);
    assert_eq!(node.get(h, "/kv?key=c").await.text(), "v2");

    for i in 0..25 {
        node.call(Method::PUT, h, &format!("/kv?key=page%2F{i:02}"), "x")
            .await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/kv/list?prefix=page%2F&limit=10&cursor={}", enc(c)),
            None => "/kv/list?prefix=page%2F&limit=10".to_string(),
        };
        let page = node.get(h, &path).await.json();
        seen.extend(
            page["keys"]
                .as_array()
                .expect("keys")
                .iter()
                .map(|k| k.as_str().expect("str").to_string()),
        );
        match page["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let expected: Vec<String> = (0..25).map(|i| format!("page/{i:02}")).collect();
    assert_eq!(seen, expected, "pages neither repeat nor skip, in order");
    let r = node
        .get(h, "/kv/list?prefix=&limit=10&cursor=not-a-cursor")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    node.shutdown().await;
}

#[tokio::test]
async fn flags_come_from_host_config_for_the_calling_tenant() {
    let node = TestNode::start_with(|c| {
        c.flags = toml::from_str(
            r#"
type = "memory"
[tenants.acme.new-checkout]
variants = [{ name = "on", weight = 100 }, { name = "off", weight = 0 }]
"#,
        )
        .expect("flags config");
    })
    .await;
    let probe = component(guests::FLAGS_PROBE);
    node.deploy("acme", "flags", &["/flag"], &probe).await;
    node.deploy("globex", "flags", &["/flag"], &probe).await;
    let r = node
        .get("acme.localhost", "/flag?name=new-checkout&subject=u1")
        .await;
    assert_eq!(r.json()["variant"]["name"], "on", "{}", r.text());
    let r = node
        .get("globex.localhost", "/flag?name=new-checkout&subject=u1")
        .await;
    assert_eq!(
        r.json()["variant"],
        serde_json::Value::Null,
        "acme's flags are not globex's"
    );
    node.shutdown().await;
}

#[tokio::test]
async fn guests_rate_limit_their_own_keys() {
    let node = TestNode::start().await;
    node.deploy("acme", "rl", &["/rl"], &component(guests::RL_PROBE))
        .await;
    let check = || {
        node.call(
            Method::POST,
            "acme.localhost",
            "/rl?key=login%3Aalice&count=1&period_ms=60000&burst=2&cost=1",
            Bytes::new(),
        )
    };
    assert_eq!(check().await.json()["allowed"], true);
    assert_eq!(check().await.json()["allowed"], true);
    let denied = check().await.json();
    assert_eq!(denied["allowed"], false, "{denied}");
    assert!(denied["retry_after_ms"].as_u64().expect("retry") > 0);
    let r = node
        .call(
            Method::POST,
            "acme.localhost",
            "/rl?key=k&count=0&period_ms=1000&burst=1&cost=1",
            Bytes::new(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_platforms_kv_prefix_is_not_the_guests() {
    let node = TestNode::start().await;
    node.deploy("acme", "probe", &["/kv"], &component(guests::KV_PROBE))
        .await;
    let h = "acme.localhost";
    let put = node
        .call(Method::PUT, h, "/kv?key=__warden/auth/keys", "forged")
        .await;
    assert_eq!(put.status, StatusCode::BAD_REQUEST, "{}", put.text());
    let get = node.get(h, "/kv?key=__warden/auth/keys").await;
    assert_eq!(get.status, StatusCode::BAD_REQUEST, "{}", get.text());
    let list = node.get(h, "/kv/list?prefix=__warden/").await;
    assert_eq!(list.status, StatusCode::BAD_REQUEST, "{}", list.text());
    let own = node.call(Method::PUT, h, "/kv?key=warden-ok", "v").await;
    assert!(own.status.is_success(), "{}", own.text());
    node.shutdown().await;
}

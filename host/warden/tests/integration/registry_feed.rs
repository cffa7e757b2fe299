//! The registry seam: a write made directly through the store (as another
//! node, or a shared registry, would make it) is served through the change
//! feed; and compiled components of superseded versions are dropped.

use crate::common::{TestNode, component};
use http::StatusCode;
use std::time::Duration;
use warden::registry::{FunctionSpec, TenantSpec, digest_of};
use warden_test_components as guests;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_made_directly_through_the_store_is_served() {
    let node = TestNode::start().await;
    let warden = node.warden.as_ref().expect("running");
    let bytes = component(guests::WASI_HELLO);
    let digest = digest_of(&bytes);
    warden.blobs().put(&digest, &bytes).expect("blob");
    let store = warden.store();
    store
        .put_tenant("direct", &TenantSpec::default())
        .await
        .expect("tenant");
    store
        .put_function("direct", "hello", &FunctionSpec::with_routes(&["/hi"]))
        .await
        .expect("function");
    store
        .add_version("direct", "hello", &digest, bytes.len() as u64)
        .await
        .expect("version");
    store
        .activate("direct", "hello", &digest)
        .await
        .expect("activate");

    // No admin call was made: only the feed tells the node.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let r = node.get("direct.localhost", "/hi").await;
        if r.status == StatusCode::OK {
            assert_eq!(r.text(), "Hello, wasi!\n");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never served: {} {}",
            r.status,
            r.text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        warden.settled().await,
        "the node applied the store's revision"
    );
    node.shutdown().await;
}

/// `bytes` with a custom section appended: a distinct, equally valid
/// component (a different sha256, the same behaviour).
fn variant(bytes: &[u8], i: u32) -> Vec<u8> {
    let name = b"warden-test-variant";
    let payload = i.to_le_bytes();
    let size = 1 + name.len() + payload.len();
    let mut out = bytes.to_vec();
    out.push(0); // custom section id
    out.push(u8::try_from(size).expect("small section"));
    out.push(u8::try_from(name.len()).expect("short name"));
    out.extend_from_slice(name);
    out.extend_from_slice(&payload);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_activated_versions_keep_the_prepared_count_bounded() {
    let node = TestNode::start().await;
    let base = component(guests::WASI_HELLO);
    let mut digests = Vec::new();
    for i in 0..200 {
        let digest = node
            .deploy("churn", "hello", &["/hello"], &variant(&base, i))
            .await;
        digests.push(digest);
    }
    digests.sort();
    digests.dedup();
    assert_eq!(digests.len(), 200, "200 distinct versions");
    let r = node.get("churn.localhost", "/hello").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let prepared = node.metric("warden_prepared_components ").await;
    assert!(
        prepared <= 2.0,
        "prepared components should track the routes, not the uploads: {prepared}"
    );
    node.shutdown().await;
}

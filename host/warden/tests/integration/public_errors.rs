//! Public errors say what failed, not how: a guest's trap message, its wasm
//! backtrace and the host's error text go to the function's log line, not
//! to whoever sent the request; the admin token unlocks them on demand.

use crate::common::{Reply, TestNode, component};
use http::{Method, StatusCode};
use std::time::Duration;
use warden_test_components as guests;

/// Words of the panicker's internals that must never reach the public.
const INTERNALS: &[&str] = &[
    "4242",
    "hunter2",
    "charge_card",
    "panicker",
    "backtrace",
    "wasm",
    "/work",
];

/// The access line of `request_id`, as the node wrote it.
async fn access_line(
    lines: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<str>>,
    request_id: &str,
) -> serde_json::Value {
    let wait = async {
        loop {
            let line = lines.recv().await.expect("access log open");
            let json: serde_json::Value = serde_json::from_str(&line).expect("JSON line");
            if json["request_id"] == request_id {
                return json;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("the access line was written")
}

fn request_id(reply: &Reply) -> String {
    reply
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("a request id")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_guest_gets_a_generic_body_and_its_log_line_the_detail() {
    let node = TestNode::start().await;
    node.deploy("acme", "pay", &["/panic"], &component(guests::PANICKER))
        .await;
    let mut lines = node
        .warden
        .as_ref()
        .expect("running")
        .subscribe_access_log();

    let r = node.get("acme.localhost", "/panic").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text());
    assert_eq!(r.error_code(), "guest_trapped");
    assert_eq!(r.json()["error"]["message"], "the function failed");
    assert!(r.json()["error"].get("detail").is_none(), "{}", r.text());
    for word in INTERNALS {
        assert!(!r.text().contains(word), "{word:?} leaked: {}", r.text());
    }

    let line = access_line(&mut lines, &request_id(&r)).await;
    assert_eq!(line["status"], 500);
    let output = line["guest_output"].as_str().unwrap_or_default();
    assert!(
        output.contains("hunter2"),
        "the panic message is logged: {line}"
    );
    let error = line["guest_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("charge_card"),
        "the backtrace, with names from the name section, is logged: {line}"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_token_unlocks_the_detail_and_nothing_else_does() {
    let node = TestNode::start().await;
    node.deploy("acme", "pay", &["/panic"], &component(guests::PANICKER))
        .await;
    let token = node.token.clone();
    let debug = node
        .call_with(
            Method::GET,
            "acme.localhost",
            "/panic",
            "",
            &[("x-warden-debug", token.as_str())],
        )
        .await;
    assert_eq!(debug.error_code(), "guest_trapped");
    let detail = debug.json()["error"]["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(detail.contains("charge_card"), "{}", debug.text());

    let forged = node
        .call_with(
            Method::GET,
            "acme.localhost",
            "/panic",
            "",
            &[("x-warden-debug", "wdn_not-the-token")],
        )
        .await;
    assert!(
        forged.json()["error"].get("detail").is_none(),
        "{}",
        forged.text()
    );
    assert!(!forged.text().contains("charge_card"), "{}", forged.text());
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_side_failure_shows_no_host_figures() {
    let node = TestNode::start().await;
    node.deploy_with_limits(
        "acme",
        "bomb",
        &["/bomb"],
        &component(guests::MEMORY_BOMB),
        serde_json::json!({ "memory_mb": 16 }),
    )
    .await;
    let mut lines = node
        .warden
        .as_ref()
        .expect("running")
        .subscribe_access_log();
    let r = node.get("acme.localhost", "/bomb").await;
    assert_eq!(r.error_code(), "memory_limit_exceeded", "{}", r.text());
    assert_eq!(
        r.json()["error"]["message"],
        "the function ran out of memory"
    );
    assert!(
        !r.text().contains("bytes"),
        "no limit figures: {}",
        r.text()
    );
    assert!(
        !r.text().contains(&(16u64 << 20).to_string()),
        "{}",
        r.text()
    );

    let line = access_line(&mut lines, &request_id(&r)).await;
    let error = line["guest_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("memory limit") && error.contains(&(16u64 << 20).to_string()),
        "the host's detail is logged: {line}"
    );
    node.shutdown().await;
}

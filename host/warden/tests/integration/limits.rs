//! Sandboxed limits: a guest that loops forever or allocates without bound
//! is stopped with a JSON 5xx while a neighbour tenant keeps answering.

use crate::common::{TestNode, component};
use http::StatusCode;
use std::time::{Duration, Instant};
use warden_test_components as guests;

/// Fires `n` neighbour requests while `bad` runs; all must succeed.
async fn neighbour_keeps_answering(node: &TestNode, n: usize) {
    for _ in 0..n {
        let r = node.get("good.localhost", "/hello").await;
        assert_eq!(r.status, StatusCode::OK, "neighbour failed: {}", r.text());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_is_stopped_at_its_cpu_deadline() {
    let node = TestNode::start().await;
    node.deploy("good", "hello", &["/hello"], &component(guests::WASI_HELLO))
        .await;
    node.deploy_with_limits(
        "evil",
        "spin",
        &["/spin"],
        &component(guests::SPIN_LOOP),
        serde_json::json!({ "cpu_ms": 200, "timeout_ms": 20000 }),
    )
    .await;

    let started = Instant::now();
    let (bad, ()) = tokio::join!(
        node.get("evil.localhost", "/spin"),
        neighbour_keeps_answering(&node, 20)
    );
    assert_eq!(bad.status, StatusCode::GATEWAY_TIMEOUT, "{}", bad.text());
    assert_eq!(bad.error_code(), "cpu_budget_exceeded");
    assert!(
        bad.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("CPU budget")
    );
    // Stopped by the CPU budget, not the 20 s wall clock.
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    // The node keeps serving afterwards.
    neighbour_keeps_answering(&node, 3).await;
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wall_clock_deadline_stops_a_guest_too() {
    let node = TestNode::start().await;
    node.deploy_with_limits(
        "evil",
        "spin",
        &["/spin"],
        &component(guests::SPIN_LOOP),
        serde_json::json!({ "cpu_ms": 30000, "timeout_ms": 300 }),
    )
    .await;
    let bad = node.get("evil.localhost", "/spin").await;
    assert_eq!(bad.status, StatusCode::GATEWAY_TIMEOUT, "{}", bad.text());
    assert_eq!(bad.error_code(), "deadline_exceeded");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_bomb_traps_at_its_cap() {
    let node = TestNode::start().await;
    node.deploy("good", "hello", &["/hello"], &component(guests::WASI_HELLO))
        .await;
    node.deploy_with_limits(
        "evil",
        "bomb",
        &["/bomb"],
        &component(guests::MEMORY_BOMB),
        serde_json::json!({ "memory_mb": 32 }),
    )
    .await;
    let (bad, ()) = tokio::join!(
        node.get("evil.localhost", "/bomb"),
        neighbour_keeps_answering(&node, 10)
    );
    assert_eq!(
        bad.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        bad.text()
    );
    assert_eq!(bad.error_code(), "memory_limit_exceeded");
    // Repeated bombs do not leak pool slots or take the node down.
    for _ in 0..5 {
        assert_eq!(
            node.get("evil.localhost", "/bomb").await.status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
    neighbour_keeps_answering(&node, 3).await;
    node.shutdown().await;
}

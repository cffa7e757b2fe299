//! Hostile tenants and clients, one named regression test per hole found:
//! taking another tenant's hosts, ambiguous Host headers, a failed response
//! that looked complete, connections held without requests, route tables
//! that did not scale or disagreed with the router, refused uploads that
//! left artifacts behind, and admin errors that were not JSON.

use crate::common::{TestNode, component};
use bytes::Bytes;
use http::{Method, StatusCode};
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use warden_test_components as guests;

/// Sends `raw` on a fresh connection and reads until the server closes it
/// (or `wait` passes): what came back, and whether the server closed.
fn raw_exchange(addr: SocketAddr, raw: &[u8], wait: Duration) -> (Vec<u8>, bool) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(wait)).expect("timeout");
    stream.write_all(raw).expect("send");
    let mut got = Vec::new();
    let mut buf = [0u8; 64 << 10];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (got, true),
            Err(_) => return (got, false),
        }
    }
}

fn status_of(raw: &[u8]) -> u16 {
    String::from_utf8_lossy(raw)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_cannot_take_names_under_the_base_domain_or_under_another_tenants_host() {
    let node = TestNode::start().await;
    let api = node.api();
    let put = |hosts: &[&str]| warden::api::PutTenant {
        hosts: hosts.iter().map(|h| h.to_string()).collect(),
        tier: None,
        ..Default::default()
    };
    api.put_tenant("neighbour", &put(&["neighbour.example"]))
        .await
        .expect("neighbour");
    let taken = api
        .put_tenant("squatter", &put(&["victim.localhost"]))
        .await
        .expect_err("a tenant's subdomain");
    assert_eq!(taken.code(), Some("reserved_host"), "{taken}");
    let future = api
        .put_tenant("squatter", &put(&["x.neighbour.localhost"]))
        .await
        .expect_err("a possible tenant's subdomain");
    assert_eq!(future.code(), Some("reserved_host"), "{future}");
    let under = api
        .put_tenant("squatter", &put(&["x.neighbour.example"]))
        .await
        .expect_err("under another tenant's custom host");
    assert_eq!(under.code(), Some("conflict"), "{under}");
    assert!(
        api.tenant("squatter").await.is_err(),
        "a refused PUT creates nothing"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_serves_a_subdomain_of_another_only_when_delegated_and_the_delegation_sticks() {
    let node = TestNode::start().await;
    let api = node.api();
    let mut acme = warden::api::PutTenant::with_hosts(&["acme.example"]);
    acme.delegations
        .insert("eu.acme.example".into(), "acme-eu".into());
    api.put_tenant("acme", &acme).await.expect("acme delegates");
    let squat = api
        .put_tenant(
            "squatter",
            &warden::api::PutTenant::with_hosts(&["eu.acme.example"]),
        )
        .await
        .expect_err("delegated to someone else");
    assert_eq!(squat.code(), Some("conflict"), "{squat}");
    api.put_tenant(
        "acme-eu",
        &warden::api::PutTenant::with_hosts(&["eu.acme.example"]),
    )
    .await
    .expect("the delegate takes it");
    node.deploy(
        "acme-eu",
        "hello",
        &["/hello"],
        &component(guests::WASI_HELLO),
    )
    .await;
    let served = node.get("eu.acme.example", "/hello").await;
    assert_eq!(served.status, StatusCode::OK, "{}", served.text());
    let withdraw = api
        .put_tenant(
            "acme",
            &warden::api::PutTenant::with_hosts(&["acme.example"]),
        )
        .await
        .expect_err("a delegation in use");
    assert_eq!(withdraw.code(), Some("conflict"), "{withdraw}");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_host_headers_or_a_non_ascii_host_answer_400() {
    let node = TestNode::start().await;
    node.deploy("acme", "hello", &["/hello"], &component(guests::WASI_HELLO))
        .await;
    let addr = node.addr;
    let (two, _) = tokio::task::spawn_blocking(move || {
        raw_exchange(
            addr,
            b"GET /hello HTTP/1.1\r\nhost: acme.localhost\r\nhost: other.localhost\r\nconnection: close\r\n\r\n",
            Duration::from_secs(5),
        )
    })
    .await
    .expect("exchange");
    assert_eq!(status_of(&two), 400, "{}", String::from_utf8_lossy(&two));
    assert!(String::from_utf8_lossy(&two).contains("duplicate_host"));
    let (non_ascii, _) = tokio::task::spawn_blocking(move || {
        raw_exchange(
            addr,
            b"GET /hello HTTP/1.1\r\nhost: caf\xc3\xa9.localhost\r\nconnection: close\r\n\r\n",
            Duration::from_secs(5),
        )
    })
    .await
    .expect("exchange");
    let text = String::from_utf8_lossy(&non_ascii);
    assert_eq!(status_of(&non_ascii), 400, "{text}");
    assert!(text.contains("invalid_host"), "{text}");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_that_traps_after_the_head_does_not_end_the_response_cleanly() {
    let node = TestNode::start().await;
    node.deploy("acme", "half", &["/half"], &component(guests::HALF_STREAM))
        .await;
    let addr = node.addr;
    let (raw, closed) = tokio::task::spawn_blocking(move || {
        raw_exchange(
            addr,
            b"GET /half HTTP/1.1\r\nhost: acme.localhost\r\n\r\n",
            Duration::from_secs(10),
        )
    })
    .await
    .expect("exchange");
    let text = String::from_utf8_lossy(&raw);
    // Either the head and part of the body, or nothing at all (hyper drops
    // what it buffered when the body fails): never a complete response.
    assert!(raw.is_empty() || status_of(&raw) == 200, "{text}");
    assert!(closed, "the connection is closed, not kept alive");
    assert!(
        !raw.ends_with(b"0\r\n\r\n"),
        "no terminating chunk after a trap: {:?}",
        &text[text.len().saturating_sub(40)..]
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_stream_is_cut_at_the_response_cap_as_a_failure() {
    let node = TestNode::start().await;
    node.deploy_with_limits(
        "acme",
        "endless",
        &["/endless"],
        &component(guests::HALF_STREAM),
        serde_json::json!({ "max_response_kb": 1024 }),
    )
    .await;
    let addr = node.addr;
    let (raw, closed) = tokio::task::spawn_blocking(move || {
        raw_exchange(
            addr,
            b"GET /endless HTTP/1.1\r\nhost: acme.localhost\r\n\r\n",
            Duration::from_secs(20),
        )
    })
    .await
    .expect("exchange");
    assert_eq!(status_of(&raw), 200);
    assert!(closed, "cut by the server");
    assert!(raw.len() < 4 << 20, "about 1 MiB, not more: {}", raw.len());
    assert!(!raw.ends_with(b"0\r\n\r\n"), "no clean end");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_send_nothing_are_closed_and_capped_per_client() {
    let node = TestNode::start_with(|c| {
        c.connections.header_read_timeout_ms = 300;
        c.connections.max_per_client = 3;
    })
    .await;
    let addr = node.addr;
    tokio::task::spawn_blocking(move || {
        // Nothing sent: closed after the header-read timeout.
        let (_, closed) = raw_exchange(addr, b"", Duration::from_secs(5));
        assert!(closed, "an idle new connection is closed");
        // Only an HTTP/2 preface: closed as well.
        let (_, closed) = raw_exchange(
            addr,
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            Duration::from_secs(5),
        );
        assert!(closed, "a preface-only connection is closed");
        // Three held connections; the fourth from this address is refused.
        let held: Vec<TcpStream> = (0..3)
            .map(|_| TcpStream::connect(addr).expect("connect"))
            .collect();
        std::thread::sleep(Duration::from_millis(50));
        let (_, refused) = raw_exchange(addr, b"", Duration::from_millis(200));
        assert!(refused, "over the per-client cap: closed at once");
        drop(held);
    })
    .await
    .expect("raw sockets");
    // Once the held connections are gone, their places come back.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = node.get("nobody.localhost", "/").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_that_the_router_treats_as_one_conflict_and_route_counts_are_capped() {
    let node = TestNode::start().await;
    let api = node.api();
    api.put_tenant("acme", &warden::api::PutTenant::default())
        .await
        .expect("tenant");
    let spec = |routes: Vec<String>| warden::api::PutFunction {
        routes,
        limits: Default::default(),
        ..Default::default()
    };
    api.put_function("acme", "a", &spec(vec!["/dup".into()]))
        .await
        .expect("a");
    let dup = api
        .put_function("acme", "b", &spec(vec!["/dup/".into()]))
        .await
        .expect_err("/dup/ is /dup");
    assert_eq!(dup.code(), Some("conflict"), "{dup}");
    let many: Vec<String> = (0..40_000).map(|i| format!("/r{i}")).collect();
    let started = std::time::Instant::now();
    let capped = api
        .put_function("acme", "c", &spec(many))
        .await
        .expect_err("over the route cap");
    assert_eq!(capped.code(), Some("invalid"), "{capped}");
    assert!(started.elapsed() < Duration::from_secs(30));
    node.shutdown().await;
}

/// Tenant `acme` with a function `f` at `/f` and nothing uploaded yet.
async fn function_without_versions(node: &TestNode) -> warden::api::AdminClient {
    let api = node.api();
    api.put_tenant("acme", &warden::api::PutTenant::default())
        .await
        .expect("tenant");
    api.put_function(
        "acme",
        "f",
        &warden::api::PutFunction {
            routes: vec!["/f".into()],
            limits: Default::default(),
            ..Default::default()
        },
    )
    .await
    .expect("function");
    api
}

fn artifacts_in(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir.join("artifacts"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_uploads_leave_no_compiled_artifact() {
    let node = TestNode::start().await;
    let api = function_without_versions(&node).await;
    for _ in 0..3 {
        let refused = api
            .upload("acme", "f", Bytes::from(component(guests::OTHER_WORLD)))
            .await
            .expect_err("wrong world");
        assert_eq!(refused.code(), Some("missing_export"), "{refused}");
    }
    assert_eq!(artifacts_in(node.data_dir.path()), 0, "nothing cached");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_over_the_compile_time_cap_is_refused_and_not_cached() {
    let node = TestNode::start_with(|c| c.pool.compile_timeout_ms = 1).await;
    let api = function_without_versions(&node).await;
    let refused = api
        .upload("acme", "f", Bytes::from(component(guests::TODO_API)))
        .await
        .expect_err("a 1 ms cap");
    assert_eq!(refused.code(), Some("compile_timeout"), "{refused}");
    // The abandoned compile may still be running: give it time to finish.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(artifacts_in(node.data_dir.path()), 0, "nothing cached");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_rejections_are_json_too() {
    let node = TestNode::start().await;
    let wrong_method = node.admin(Method::PATCH, "/v1/tenants", Bytes::new()).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.error_code(), "method_not_allowed");
    let bad_path = node
        .admin(Method::GET, "/v1/tenants/%FF", Bytes::new())
        .await;
    assert_eq!(
        bad_path.status,
        StatusCode::BAD_REQUEST,
        "{}",
        bad_path.text()
    );
    assert_eq!(bad_path.error_code(), "bad_request");
    let bad_json = node
        .admin(Method::PUT, "/v1/tenants/acme", "{not json")
        .await;
    assert_eq!(bad_json.error_code(), "invalid_json");
    let addr = node.admin_addr;
    let token = node.token.clone();
    let (raw, _) = tokio::task::spawn_blocking(move || {
        let head = format!(
            "POST /v1/tenants/acme/functions/f/versions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\ncontent-length: {}\r\n\r\n",
            80u64 << 20
        );
        raw_exchange(addr, head.as_bytes(), Duration::from_secs(10))
    })
    .await
    .expect("exchange");
    let text = String::from_utf8_lossy(&raw);
    assert_eq!(status_of(&raw), 413, "{text}");
    assert!(text.contains("\"body_too_large\""), "{text}");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_side_resources_count_against_the_guests_memory() {
    let node = TestNode::start().await;
    node.deploy_with_limits(
        "evil",
        "fields",
        &["/fields"],
        &component(guests::FIELDS_BOMB),
        serde_json::json!({ "memory_mb": 16 }),
    )
    .await;
    let r = node.get("evil.localhost", "/fields").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text());
    assert_eq!(r.error_code(), "memory_limit_exceeded");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_keeps_the_memory_caps_in_flight_under_the_node_budget() {
    let node = TestNode::start_with(|c| c.pool.memory_budget_mb = 200).await;
    node.deploy_with_limits(
        "acme",
        "sleepy",
        &["/sleep"],
        &component(guests::SLEEPY),
        serde_json::json!({ "memory_mb": 128 }),
    )
    .await;
    let (first, second) = tokio::join!(node.get("acme.localhost", "/sleep?ms=1500"), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        node.get("acme.localhost", "/sleep?ms=1").await
    });
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert_eq!(
        second.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        second.text()
    );
    assert_eq!(second.error_code(), "memory_budget_exhausted");
    assert!(second.headers.contains_key("retry-after"));
    let after = node.get("acme.localhost", "/sleep?ms=1").await;
    assert_eq!(after.status, StatusCode::OK, "the budget comes back");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_burning_cpu_in_host_calls_hit_their_cpu_budget_while_a_neighbour_is_served() {
    let node = TestNode::start().await;
    node.deploy("good", "hello", &["/hello"], &component(guests::WASI_HELLO))
        .await;
    node.deploy_with_limits(
        "evil",
        "random",
        &["/random"],
        &component(guests::RANDOM_LOOP),
        serde_json::json!({ "cpu_ms": 300, "timeout_ms": 20000 }),
    )
    .await;
    let neighbour = async {
        let mut served = 0;
        for _ in 0..20 {
            let r = node.get("good.localhost", "/hello").await;
            assert_eq!(r.status, StatusCode::OK, "the neighbour is served");
            served += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        served
    };
    let (a, b, served) = tokio::join!(
        node.get("evil.localhost", "/random"),
        node.get("evil.localhost", "/random"),
        neighbour
    );
    for r in [&a, &b] {
        assert_eq!(r.error_code(), "cpu_budget_exceeded", "{}", r.text());
    }
    assert_eq!(served, 20);
    // Asking more than a call may is a trap, not host work.
    let huge = node
        .get("evil.localhost", &format!("/random?len={}", 64u64 << 20))
        .await;
    assert_eq!(huge.error_code(), "guest_trapped", "{}", huge.text());
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_looping_over_host_calls_is_stopped_at_its_wall_clock_deadline() {
    let node = TestNode::start().await;
    node.deploy("good", "hello", &["/hello"], &component(guests::WASI_HELLO))
        .await;
    // A CPU budget it cannot reach before its deadline: only the wall clock
    // (checked on every epoch tick and host-call return) can stop it.
    node.deploy_with_limits(
        "evil",
        "random",
        &["/random"],
        &component(guests::RANDOM_LOOP),
        serde_json::json!({ "cpu_ms": 20000, "timeout_ms": 300 }),
    )
    .await;
    let (a, b, hello) = tokio::join!(
        node.get("evil.localhost", "/random"),
        node.get("evil.localhost", "/random"),
        node.get("good.localhost", "/hello"),
    );
    for r in [&a, &b] {
        assert_eq!(r.status, StatusCode::GATEWAY_TIMEOUT, "{}", r.text());
        assert_eq!(r.error_code(), "deadline_exceeded", "{}", r.text());
    }
    assert_eq!(hello.status, StatusCode::OK, "the neighbour is served");
    // The gateway's own answers never wait for guest threads.
    let unknown = node.get("nobody.localhost", "/").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text());
    node.shutdown().await;
}

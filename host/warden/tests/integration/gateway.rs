//! The request path end to end: routing by host and path, the wasi:http
//! compatibility promise, error shapes, body caps, request ids, streaming
//! and the sandbox's lack of ambient authority.

use crate::common::{TestNode, component};
use bytes::Bytes;
use http::{Method, StatusCode};
use warden_test_components as guests;

#[tokio::test]
async fn hello_round_trip_returns_guest_body_and_request_id() {
    let node = TestNode::start().await;
    node.deploy("acme", "hello", &["/hello"], &component(guests::HELLO))
        .await;
    let r = node.get("acme.localhost", "/hello").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("Hello"), "{}", r.text());
    let id = r
        .headers
        .get("x-request-id")
        .expect("request id")
        .to_str()
        .expect("ascii");
    assert_eq!(id.len(), 32, "generated ids are 128-bit hex: {id}");

    let r = node
        .call_with(
            Method::GET,
            "acme.localhost:8080",
            "/hello/sub",
            Bytes::new(),
            &[("x-request-id", "req-42")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers.get("x-request-id").map(|v| v.as_bytes()),
        Some(&b"req-42"[..])
    );
    node.shutdown().await;
}

#[tokio::test]
async fn a_component_built_with_only_the_wasi_crate_runs_unchanged() {
    let node = TestNode::start().await;
    node.deploy("acme", "plain", &["/plain"], &component(guests::WASI_HELLO))
        .await;
    let r = node.get("acme.localhost", "/plain").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.text(), "Hello, wasi!\n");
    node.shutdown().await;
}

#[tokio::test]
async fn two_tenants_with_the_same_path_are_isolated_by_host() {
    let node = TestNode::start().await;
    node.deploy("acme", "f", &["/same"], &component(guests::HELLO))
        .await;
    node.deploy("globex", "f", &["/same"], &component(guests::WASI_HELLO))
        .await;
    let a = node.get("acme.localhost", "/same").await;
    let b = node.get("globex.localhost", "/same").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(b.status, StatusCode::OK);
    assert_ne!(
        a.text(),
        b.text(),
        "each host reaches its own tenant's component"
    );
    assert_eq!(b.text(), "Hello, wasi!\n");
    node.shutdown().await;
}

#[tokio::test]
async fn custom_hosts_reach_their_tenant() {
    let node = TestNode::start().await;
    node.deploy("acme", "f", &["/x"], &component(guests::WASI_HELLO))
        .await;
    let r = node
        .admin(
            Method::PUT,
            "/v1/tenants/acme",
            r#"{"hosts":["api.acme.test"]}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        node.get("api.acme.test:443", "/x").await.status,
        StatusCode::OK
    );
    node.shutdown().await;
}

#[tokio::test]
async fn unknown_hosts_and_routes_get_json_404s() {
    let node = TestNode::start().await;
    node.deploy("acme", "f", &["/hello"], &component(guests::WASI_HELLO))
        .await;
    let r = node.get("nobody.localhost", "/hello").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error_code(), "unknown_host");
    let r = node.get("acme.localhost", "/helloworld").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error_code(), "route_not_found");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("message")
            .contains("/helloworld")
    );
    node.shutdown().await;
}

#[tokio::test]
async fn bodies_over_the_cap_get_413_declared_or_streamed() {
    let node = TestNode::start().await;
    node.deploy_with_limits(
        "acme",
        "echo",
        &["/echo"],
        &component(guests::ECHO),
        serde_json::json!({ "max_body_kb": 1 }),
    )
    .await;
    let small = node
        .call(Method::POST, "acme.localhost", "/echo", vec![b'a'; 512])
        .await;
    assert_eq!(small.status, StatusCode::OK, "{}", small.text());
    assert_eq!(small.body.len(), 512, "echo streams the body back");

    let big = node
        .call(Method::POST, "acme.localhost", "/echo", vec![b'a'; 4096])
        .await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(big.error_code(), "body_too_large");

    // Without content-length (chunked): the cap trips while the body streams.
    // A guest that reads the whole body before answering gets a clean 413...
    node.deploy_with_limits(
        "acme",
        "hello",
        &["/hello"],
        &component(guests::HELLO),
        serde_json::json!({ "max_body_kb": 1 }),
    )
    .await;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let response = client
        .request(chunked_request(node.addr, "/hello"))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // ...and a guest that already started streaming its answer sees the
    // response aborted rather than silently truncated.
    let outcome = match client.request(chunked_request(node.addr, "/echo")).await {
        Ok(response) if response.status() == StatusCode::PAYLOAD_TOO_LARGE => "413",
        Ok(response) => match http_body_util::BodyExt::collect(response.into_body()).await {
            Ok(_) => "complete",
            Err(_) => "aborted",
        },
        Err(_) => "aborted",
    };
    assert_ne!(
        outcome, "complete",
        "an over-cap streamed body must not complete successfully"
    );
    node.shutdown().await;
}

type ChunkStream =
    futures_util::stream::Iter<std::vec::IntoIter<Result<http_body::Frame<Bytes>, std::io::Error>>>;

/// 8 KiB in 1 KiB chunks, with no content-length.
fn chunked_request(
    addr: std::net::SocketAddr,
    path: &str,
) -> http::Request<http_body_util::StreamBody<ChunkStream>> {
    let chunks: Vec<_> = (0..8)
        .map(|_| Ok(http_body::Frame::data(Bytes::from(vec![b'b'; 1024]))))
        .collect();
    http::Request::builder()
        .method(Method::POST)
        .uri(format!("http://{addr}{path}"))
        .header("host", "acme.localhost")
        .body(http_body_util::StreamBody::new(futures_util::stream::iter(
            chunks,
        )))
        .expect("request")
}

#[tokio::test]
async fn guests_see_no_env_no_files_and_their_output_is_captured() {
    let node = TestNode::start().await;
    node.deploy("acme", "stdio", &["/stdio"], &component(guests::STDIO))
        .await;
    let r = node.get("acme.localhost", "/stdio").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(body["env_vars"], 0, "no host env leaks: {body}");
    assert_eq!(body["fs_error"], true, "no preopened directories: {body}");
    node.shutdown().await;
}

#[tokio::test]
async fn the_guest_sees_the_request_id_and_http2_works() {
    let node = TestNode::start().await;
    node.deploy("acme", "echo", &["/echo"], &component(guests::ECHO))
        .await;
    // Resolve every name to the node, so the request carries the tenant in
    // its :authority exactly as a browser would.
    let addr = node.addr;
    let resolver = tower::service_fn(
        move |_name: hyper_util::client::legacy::connect::dns::Name| async move {
            Ok::<_, std::io::Error>(std::iter::once(addr))
        },
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new_with_resolver(resolver);
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(true)
        .build::<_, http_body_util::Full<Bytes>>(connector);
    let req = http::Request::builder()
        .method(Method::POST)
        .uri(format!("http://acme.localhost:{}/echo", addr.port()))
        .header("x-request-id", "h2-req")
        .body(http_body_util::Full::new(Bytes::from_static(b"over h2")))
        .expect("request");
    let response = client.request(req).await.expect("h2 request");
    assert_eq!(response.version(), http::Version::HTTP_2);
    let status = response.status();
    let headers = response.headers().clone();
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("body")
        .to_bytes();
    let r = crate::common::Reply {
        status,
        headers,
        body,
    };
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.text(), "over h2");
    assert_eq!(
        r.headers.get("x-seen-request-id").map(|v| v.as_bytes()),
        Some(&b"h2-req"[..])
    );
    node.shutdown().await;
}

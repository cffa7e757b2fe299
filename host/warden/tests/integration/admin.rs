//! The admin API: auth, upload validation, idempotent uploads, and a
//! restart that keeps deployments without recompiling.

use crate::common::{TestNode, component};
use bytes::Bytes;
use http::{Method, StatusCode};
use warden_test_components as guests;

async fn with_function(node: &TestNode) {
    let r = node
        .admin(Method::PUT, "/v1/tenants/acme", Bytes::new())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = node
        .admin(
            Method::PUT,
            "/v1/tenants/acme/functions/f",
            r#"{"routes":["/f"]}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

/// A component importing an interface the function world does not have.
fn outside_the_world() -> Vec<u8> {
    let mut types = wasm_encoder::ComponentTypeSection::new();
    types.instance(&wasm_encoder::InstanceType::new());
    let mut imports = wasm_encoder::ComponentImportSection::new();
    imports.import(
        "acme:evil/thing@1.0.0",
        wasm_encoder::ComponentTypeRef::Instance(0),
    );
    let mut component = wasm_encoder::Component::new();
    component.section(&types).section(&imports);
    component.finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_importing_sockets_deploys_and_every_socket_call_is_denied() {
    let node = TestNode::start().await;
    node.deploy("acme", "net", &["/net"], &component(guests::SOCKETS))
        .await;
    let r = node.get("acme.localhost", "/net").await;
    // The guest's connect failed, with the WASI error for denied access.
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.text());
    assert_eq!(r.error_code(), "connect_failed", "{}", r.text());
    assert!(
        r.text().to_lowercase().contains("denied") || r.text().contains("ermission"),
        "access denied: {}",
        r.text()
    );
    node.shutdown().await;
}

async fn upload(node: &TestNode, bytes: Vec<u8>) -> crate::common::Reply {
    node.admin(Method::POST, "/v1/tenants/acme/functions/f/versions", bytes)
        .await
}

#[tokio::test]
async fn the_admin_api_requires_the_token() {
    let node = TestNode::start().await;
    let r = node
        .admin_with_token(Method::GET, "/v1/tenants", Bytes::new(), None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error_code(), "unauthorized");
    let r = node
        .admin_with_token(Method::GET, "/v1/tenants", Bytes::new(), Some("wdn_wrong"))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = node.admin(Method::GET, "/v1/tenants", Bytes::new()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), serde_json::json!([]));
    node.shutdown().await;
}

#[tokio::test]
async fn bad_uploads_are_refused_with_the_reason() {
    let node = TestNode::start().await;
    with_function(&node).await;

    let r = upload(&node, b"this is not wasm at all".to_vec()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error_code(), "not_wasm");

    let r = upload(&node, guests::CORE_MODULE.to_vec()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error_code(), "core_module");

    let mut truncated = component(guests::WASI_HELLO);
    truncated.truncate(truncated.len() / 2);
    let r = upload(&node, truncated).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error_code(), "invalid_component");

    let r = upload(&node, component(guests::OTHER_WORLD)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.error_code(), "missing_export", "{}", r.text());
    assert!(
        r.text().contains("wasi:http/incoming-handler"),
        "{}",
        r.text()
    );

    let r = upload(&node, outside_the_world()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.error_code(), "forbidden_import");
    assert!(
        r.text().contains("acme:evil/thing"),
        "names the import: {}",
        r.text()
    );

    // Nothing was recorded for any of them.
    let r = node
        .admin(
            Method::GET,
            "/v1/tenants/acme/functions/f/versions",
            Bytes::new(),
        )
        .await;
    assert_eq!(r.json(), serde_json::json!([]));
    node.shutdown().await;
}

#[tokio::test]
async fn malformed_admin_requests_get_json_errors() {
    let node = TestNode::start().await;
    let r = node
        .admin(Method::PUT, "/v1/tenants/Bad_Name", Bytes::new())
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error_code(), "invalid");
    let r = node
        .admin(Method::PUT, "/v1/tenants/acme", "{not json")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error_code(), "invalid_json");
    let r = node
        .admin(
            Method::PUT,
            "/v1/tenants/ghost/functions/f",
            r#"{"routes":["/f"]}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    with_function(&node).await;
    let r = node
        .admin(
            Method::PUT,
            "/v1/tenants/acme/functions/g",
            r#"{"routes":["/f"]}"#,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "route already served: {}",
        r.text()
    );
    let r = node
        .admin(
            Method::PUT,
            "/v1/tenants/acme/functions/f",
            r#"{"routes":["/f"],"limits":{"memory_mb":999999}}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error_code(), "invalid_limits");
    let r = node
        .admin(
            Method::POST,
            "/v1/tenants/acme/functions/f/activate",
            format!(r#"{{"digest":"{}"}}"#, "0".repeat(64)),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_uploads_of_one_version_are_idempotent() {
    let node = TestNode::start().await;
    with_function(&node).await;
    let bytes = component(guests::HELLO);
    let uploads = (0..6).map(|_| upload(&node, bytes.clone()));
    let replies = futures_util::future::join_all(uploads).await;
    let mut created = 0;
    let mut digests = std::collections::HashSet::new();
    for r in &replies {
        assert!(r.status.is_success(), "{} {}", r.status, r.text());
        if r.status == StatusCode::CREATED {
            created += 1;
        }
        digests.insert(r.json()["digest"].as_str().expect("digest").to_string());
    }
    assert_eq!(created, 1, "exactly one upload creates the version");
    assert_eq!(digests.len(), 1);
    let r = node
        .admin(
            Method::GET,
            "/v1/tenants/acme/functions/f/versions",
            Bytes::new(),
        )
        .await;
    assert_eq!(r.json().as_array().expect("list").len(), 1);
    assert_eq!(
        node.metric("warden_artifact_compilations").await,
        1.0,
        "compiled once"
    );
    node.shutdown().await;
}

#[tokio::test]
async fn a_restart_keeps_deployments_and_does_not_recompile() {
    let node = TestNode::start().await;
    node.deploy("acme", "hello", &["/hello"], &component(guests::WASI_HELLO))
        .await;
    node.deploy("globex", "hello", &["/hello"], &component(guests::HELLO))
        .await;
    assert_eq!(node.metric("warden_artifact_compilations").await, 2.0);
    let before = node.get("acme.localhost", "/hello").await.text();

    let node = node.restart().await;
    let r = node.admin(Method::GET, "/readyz", Bytes::new()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(node.get("acme.localhost", "/hello").await.text(), before);
    assert_eq!(
        node.get("globex.localhost", "/hello").await.status,
        StatusCode::OK
    );
    assert_eq!(
        node.metric("warden_artifact_compilations").await,
        0.0,
        "no recompilation"
    );
    assert_eq!(
        node.metric("warden_artifact_cache_hits").await,
        2.0,
        "both loaded from the cache"
    );
    node.shutdown().await;
}

#[tokio::test]
async fn metrics_count_requests_per_tenant_function_and_class() {
    let node = TestNode::start().await;
    node.deploy("acme", "hello", &["/hello"], &component(guests::WASI_HELLO))
        .await;
    for _ in 0..3 {
        node.get("acme.localhost", "/hello").await;
    }
    node.get("acme.localhost", "/nope").await;
    let r = node.admin(Method::GET, "/metrics", Bytes::new()).await;
    let text = r.text();
    assert!(
        text.contains(r#"warden_requests_total{tenant="acme",function="hello",class="2xx"} 3"#),
        "{text}"
    );
    assert!(
        text.contains("warden_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("warden_pool_instances_in_use"), "{text}");
    assert!(text.contains("warden_access_log_dropped_lines 0"), "{text}");
    node.shutdown().await;
}

#[tokio::test]
async fn deleting_a_tenant_unroutes_it_and_keeps_others() {
    let node = TestNode::start().await;
    node.deploy("acme", "hello", &["/hello"], &component(guests::WASI_HELLO))
        .await;
    node.deploy(
        "globex",
        "hello",
        &["/hello"],
        &component(guests::WASI_HELLO),
    )
    .await;
    let r = node
        .admin(Method::DELETE, "/v1/tenants/acme", Bytes::new())
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = node.get("acme.localhost", "/hello").await;
    assert_eq!(r.error_code(), "unknown_host");
    assert_eq!(
        node.get("globex.localhost", "/hello").await.status,
        StatusCode::OK
    );
    let r = node.admin(Method::GET, "/v1/tenants", Bytes::new()).await;
    let names: Vec<_> = r
        .json()
        .as_array()
        .expect("list")
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(names, vec![serde_json::json!("globex")]);
    let r = node
        .admin(Method::DELETE, "/v1/tenants/acme", Bytes::new())
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    node.shutdown().await;
}

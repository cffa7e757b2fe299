//! The example functions as the README drives them, mounted where a tenant
//! chooses: they route on paths relative to their mount point.

use crate::common::{TestNode, component};
use http::{Method, StatusCode};
use warden_test_components as guests;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_todo_example_serves_crud_under_any_mount_point() {
    let node = TestNode::start().await;
    node.deploy("acme", "todos", &["/tasks"], &component(guests::TODO_API))
        .await;
    let created = node
        .call(
            Method::POST,
            "acme.localhost",
            "/tasks",
            r#"{"title": "buy milk"}"#,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let id = created.json()["id"].clone();
    let id = id
        .as_u64()
        .map(|n| n.to_string())
        .or_else(|| id.as_str().map(str::to_string))
        .expect("an id");
    let fetched = node.get("acme.localhost", &format!("/tasks/{id}")).await;
    assert_eq!(fetched.status, StatusCode::OK, "{}", fetched.text());
    assert_eq!(fetched.json()["title"], "buy milk");
    let listed = node.get("acme.localhost", "/tasks?limit=10").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    assert!(listed.text().contains("buy milk"), "{}", listed.text());
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quote_example_prices_and_answers_json_404s() {
    let node = TestNode::start().await;
    node.deploy("acme", "quote", &["/quote"], &component(guests::QUOTE_API))
        .await;
    let body = r#"{"currency":"EUR","region":"FR","items":[{"sku":"book-1","quantity":2,"unit_price_cents":1250}]}"#;
    let quoted = node
        .call(Method::POST, "acme.localhost", "/quote", body)
        .await;
    assert_eq!(quoted.status, StatusCode::OK, "{}", quoted.text());
    assert!(quoted.json().is_object(), "{}", quoted.text());
    let missing = node.get("acme.localhost", "/quote/nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text());
    assert!(missing.json()["error"].is_object(), "{}", missing.text());
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_gateway_auth_the_guest_sees_no_principal() {
    let node = TestNode::start().await;
    node.deploy(
        "acme",
        "probe",
        &["/whoami"],
        &component(guests::AUTH_PROBE),
    )
    .await;
    let r = node
        .call_with(
            Method::GET,
            "acme.localhost",
            "/whoami?scope=orders:read",
            "",
            &[("authorization", "Bearer not-verified")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let json = r.json();
    assert!(json["principal"].is_null(), "{json}");
    assert_eq!(json["has_scope"], false, "{json}");
    node.shutdown().await;
}

/// `examples/warden-auth.toml` as its comments drive it: public reads,
/// writes only with a `todos:write` token, the subject as `created_by`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_auth_manifest_variant_protects_the_todo_writes() {
    let node = TestNode::start().await;
    let manifest =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/warden-auth.toml");
    warden::cli::deploy(&node.api(), &manifest)
        .await
        .expect("deployed");
    let api = node.api();
    api.create_key("shop", &Default::default())
        .await
        .expect("key");
    let write = r#"{"title": "buy milk"}"#;
    let anonymous = node
        .call(Method::POST, "shop.localhost", "/todos", write)
        .await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        anonymous.text()
    );
    let post_with_scope = async |scope: &str| {
        let request = warden::api::MintToken {
            subject: "alice".into(),
            scopes: vec![scope.to_string()],
            ..Default::default()
        };
        let token = api.mint_token("shop", &request).await.expect("token").token;
        let bearer = format!("Bearer {token}");
        node.call_with(
            Method::POST,
            "shop.localhost",
            "/todos",
            write,
            &[("authorization", &bearer)],
        )
        .await
    };
    let r = post_with_scope("todos:read").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let created = post_with_scope("todos:write").await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["created_by"], "alice", "{}", created.text());
    let listed = node.get("shop.localhost", "/todos?limit=10").await;
    assert_eq!(
        listed.status,
        StatusCode::OK,
        "reads are public: {}",
        listed.text()
    );
    assert!(listed.text().contains("buy milk"), "{}", listed.text());
    node.shutdown().await;
}

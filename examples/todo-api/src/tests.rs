//! The API end to end against the SDK's in-memory kv, cache and rate
//! limiter (one fresh set per test thread), with requests as the gateway
//! forwards them to a function mounted at `/todos`.

use serde_json::{Value, json};
use warden_sdk::auth::Principal;
use warden_sdk::{Method, ROUTE_PREFIX_HEADER, Request, Response, cache, testing};

use super::*;

fn send(req: Request) -> Response {
    router().handle(req.with_header(ROUTE_PREFIX_HEADER, "/todos"))
}

fn call(method: Method, path: &str, body: &str) -> (u16, Value) {
    let response = send(Request::new(method, path).with_body(body));
    (
        response.status(),
        response.body_json().unwrap_or(Value::Null),
    )
}

fn create(title: &str) -> Value {
    let (status, todo) = call(
        Method::Post,
        "/todos",
        &json!({ "title": title }).to_string(),
    );
    assert_eq!(status, 201, "{todo}");
    todo
}

#[test]
fn create_then_read() {
    let response = send(Request::new(Method::Post, "/todos").with_body(r#"{"title": " milk "}"#));
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers().get("location"), Some("/todos/1"));
    assert_eq!(response.headers().get("etag"), Some("\"1\""));
    let todo: Value = response.body_json().unwrap_or(Value::Null);
    assert_eq!(
        (&todo["id"], &todo["title"], &todo["done"], &todo["version"]),
        (&json!(1), &json!("milk"), &json!(false), &json!(1))
    );
    assert_eq!(todo["created_at"], todo["updated_at"]);
    assert_eq!(create("eggs")["id"], 2);

    let (status, read) = call(Method::Get, "/todos/1", "");
    assert_eq!((status, &read), (200, &todo));
    // The read went through the cache.
    assert!(cache::get("todo:1").ok().flatten().is_some());
    let not_modified =
        send(Request::new(Method::Get, "/todos/1").with_header("if-none-match", "\"1\""));
    assert_eq!(not_modified.status(), 304);
    assert_eq!(call(Method::Get, "/todos/99", "").0, 404);
}

#[test]
fn pages_are_exact_and_ordered() {
    for i in 1..=12 {
        create(&format!("todo {i}"));
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = call(Method::Get, &format!("/todos?limit=5&cursor={cursor}"), "");
        assert_eq!(status, 200, "{page}");
        let items = page["items"].as_array().cloned().unwrap_or_default();
        seen.extend(items.iter().map(|t| t["id"].as_u64().unwrap_or(0)));
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(items.len(), 5);
                cursor = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(seen, (1..=12).collect::<Vec<u64>>());
    assert_eq!(call(Method::Get, "/todos?limit=0", "").0, 400);
    assert_eq!(call(Method::Get, "/todos?cursor=zz", "").0, 400);
}

#[test]
fn put_uses_if_match() {
    create("a");
    let put = |etag: &str, body: &str| {
        send(
            Request::new(Method::Put, "/todos/1")
                .with_header("if-match", etag)
                .with_body(body.to_owned()),
        )
    };
    let ok = put("\"1\"", r#"{"title": "b", "done": true}"#);
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers().get("etag"), Some("\"2\""));
    let stale = put("\"1\"", r#"{"title": "c", "done": true}"#);
    assert_eq!(stale.status(), 412);
    // The write invalidated the cache: reads see version 2.
    assert_eq!(call(Method::Get, "/todos/1", "").1["title"], "b");
    // Without if-match the update applies to the latest version.
    let (status, todo) = call(Method::Put, "/todos/1", r#"{"title": "d", "done": false}"#);
    assert_eq!((status, &todo["version"]), (200, &json!(3)));
    let (status, missing) = call(Method::Put, "/todos/1", r#"{"title": "d"}"#);
    assert_eq!(
        (status, &missing["error"]["code"]),
        (400, &json!("invalid_json"))
    );
    assert_eq!(
        call(Method::Put, "/todos/9", r#"{"title": "d", "done": true}"#).0,
        404
    );
}

#[test]
fn patch_changes_only_given_fields() {
    create("a");
    let (status, todo) = call(Method::Patch, "/todos/1", r#"{"done": true}"#);
    assert_eq!(
        (status, &todo["title"], &todo["done"]),
        (200, &json!("a"), &json!(true))
    );
}

#[test]
fn delete_invalidates() {
    create("a");
    assert_eq!(call(Method::Get, "/todos/1", "").0, 200);
    let stale = send(Request::new(Method::Delete, "/todos/1").with_header("if-match", "\"7\""));
    assert_eq!(stale.status(), 412);
    assert_eq!(call(Method::Delete, "/todos/1", "").0, 204);
    assert_eq!(call(Method::Get, "/todos/1", "").0, 404);
    assert_eq!(call(Method::Delete, "/todos/1", "").0, 404);
}

#[test]
fn validation_and_routing_errors() {
    let (status, err) = call(Method::Post, "/todos", r#"{"title": ""}"#);
    assert_eq!(
        (status, &err["error"]["code"]),
        (422, &json!("validation_failed"))
    );
    let long = json!({ "title": "x".repeat(201) }).to_string();
    assert_eq!(call(Method::Post, "/todos", &long).0, 422);
    assert_eq!(
        call(Method::Post, "/todos", r#"{"title": "a", "x": 1}"#).0,
        400
    );
    assert_eq!(call(Method::Post, "/todos", "{").0, 400);
    let huge = json!({ "title": "a", "pad": "x".repeat(16 * 1024) }).to_string();
    assert_eq!(call(Method::Post, "/todos", &huge).0, 413);
    let (status, err) = call(Method::Delete, "/todos", "");
    assert_eq!(
        (status, &err["error"]["code"]),
        (405, &json!("method_not_allowed"))
    );
    let wrong = send(Request::new(Method::Delete, "/todos"));
    assert_eq!(wrong.headers().get("allow"), Some("GET, POST"));
    let wrong = send(Request::new(Method::Post, "/todos/1"));
    assert_eq!(wrong.status(), 405);
    assert_eq!(
        wrong.headers().get("allow"),
        Some("GET, PUT, PATCH, DELETE")
    );
    assert_eq!(call(Method::Get, "/todos/abc", "").0, 404);
    assert_eq!(call(Method::Get, "/todos/1/x", "").0, 404);
    // Failed validation did not burn ids.
    assert_eq!(create("a")["id"], 1);
}

#[test]
fn writes_are_rate_limited_per_client() {
    let post = |client: &str| {
        send(
            Request::new(Method::Post, "/todos")
                .with_header("x-client-id", client)
                .with_body(r#"{"title": "a"}"#),
        )
    };
    // The burst of 40 passes at once; refill (one per 50 ms) cannot keep
    // up with a tight loop for long.
    let statuses: Vec<u16> = (0..40).map(|_| post("greedy").status()).collect();
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let denied = (0..100).map(|_| post("greedy")).find(|r| r.status() != 201);
    let denied = denied.expect("a 429 within 100 more writes");
    assert_eq!(denied.status(), 429);
    assert_eq!(denied.headers().get("retry-after"), Some("1"));
    assert_eq!(post("polite").status(), 201);
    // Reads are not limited.
    assert_eq!(call(Method::Get, "/todos/1", "").0, 200);
}

#[test]
fn a_verified_principal_is_recorded_and_names_the_client() {
    // No principal (the README's curls): no `created_by` at all.
    let anonymous = create("a");
    assert!(anonymous.get("created_by").is_none(), "{anonymous}");

    testing::set_principal(Principal::new("alice", "acme"));
    let mine = create("b");
    assert_eq!(mine["created_by"], "alice");
    let (_, read) = call(Method::Get, "/todos/2", "");
    assert_eq!(read["created_by"], "alice");
    // Updates keep the creator.
    let (_, patched) = call(Method::Patch, "/todos/2", r#"{"done": true}"#);
    assert_eq!(patched["created_by"], "alice");

    // Alice's writes count against her, whatever x-client-id she sends...
    let post = |client: &str| {
        send(
            Request::new(Method::Post, "/todos")
                .with_header("x-client-id", client)
                .with_body(r#"{"title": "a"}"#),
        )
    };
    let denied = (0..200).map(|_| post("one")).find(|r| r.status() != 201);
    assert_eq!(denied.map(|r| r.status()), Some(429));
    // ...so without her, the client id "one" still has its whole bucket.
    testing::clear_principal();
    assert_eq!(post("one").status(), 201);
}

#[test]
fn mounted_at_the_root_the_same_routes_serve_bare_paths() {
    // An empty prefix is a function routed at `/`.
    let at_root = |method: Method, path: &str, body: &str| {
        router().handle(
            Request::new(method, path)
                .with_header(ROUTE_PREFIX_HEADER, "")
                .with_body(body.to_owned()),
        )
    };
    let created = at_root(Method::Post, "/", r#"{"title": "a"}"#);
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers().get("location"), Some("/1"));
    assert_eq!(at_root(Method::Get, "/1", "").status(), 200);
    assert_eq!(at_root(Method::Get, "/todos/1", "").status(), 404);
}

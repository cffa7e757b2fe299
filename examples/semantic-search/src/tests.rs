//! The function against the SDK's native kv and model stand-ins.

use super::router;
use warden_sdk::{Method, Request};

#[test]
fn the_closest_document_comes_first() {
    let docs = r#"[
        {"id": "pasta", "text": "boil the pasta in salted water"},
        {"id": "tyres", "text": "check the tyre pressure of the car"},
        {"id": "bread", "text": "knead the bread dough"}]"#;
    let added = router().handle(Request::new(Method::Post, "/docs").with_body(docs));
    assert_eq!(added.status(), 200);
    let found = router().handle(Request::new(Method::Get, "/?q=pasta+water&k=2"));
    assert_eq!(found.status(), 200);
    let json: serde_json::Value = found.body_json().expect("json");
    let results = json["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["id"], "pasta", "{json}");
    let deleted = router().handle(Request::new(Method::Delete, "/docs/pasta"));
    assert_eq!(deleted.status(), 204);
    let again = router().handle(Request::new(Method::Delete, "/docs/pasta"));
    assert_eq!(again.status(), 404);
}

#[test]
fn bad_input_is_a_400() {
    let bad_id = r#"[{"id": "a b", "text": "x"}]"#;
    let r = router().handle(Request::new(Method::Post, "/docs").with_body(bad_id));
    assert_eq!(r.status(), 400);
    let r = router().handle(Request::new(Method::Get, "/?q=x&k=0"));
    assert_eq!(r.status(), 400);
    let r = router().handle(Request::new(Method::Get, "/"));
    assert_eq!(r.status(), 400);
}

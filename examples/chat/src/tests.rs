//! The handler against the SDK's native model stand-in.

use super::handle;
use warden_sdk::model::Error;
use warden_sdk::{Method, Request, ResponseWriter, testing};

fn run(req: Request) -> warden_sdk::Captured {
    let (out, captured) = ResponseWriter::capture();
    let _ = handle(req, out);
    captured
}

#[test]
fn streams_one_event_per_chunk_then_the_end() {
    testing::set_model_reply(Some(Ok("one two three".into())));
    let captured = run(Request::new(Method::Get, "/?q=count"));
    assert_eq!(captured.status(), Some(200));
    assert_eq!(
        captured.headers().get("content-type"),
        Some("text/event-stream")
    );
    let chunks = captured.chunks();
    // Three words, then the end event: each written on its own.
    assert_eq!(chunks.len(), 4, "{chunks:?}");
    assert_eq!(chunks[0], b"data: {\"text\":\"one\"}\n\n");
    let end = String::from_utf8_lossy(&chunks[3]).into_owned();
    assert!(end.starts_with("event: end\n"), "{end}");
    assert!(end.contains("\"output_tokens\":3"), "{end}");
    assert!(captured.is_finished());
}

#[test]
fn errors_before_the_stream_are_json_responses() {
    testing::set_model_reply(Some(Err(Error::BudgetExhausted {
        retry_after_ms: 3000,
    })));
    let captured = run(Request::new(Method::Get, "/?q=hi"));
    assert_eq!(captured.status(), Some(429));
    assert_eq!(captured.headers().get("retry-after"), Some("3"));
    let missing = run(Request::new(Method::Get, "/"));
    assert_eq!(missing.status(), Some(400));
}

#[test]
fn a_conversation_is_posted_as_json() {
    let body = r#"{"messages": [{"role": "user", "content": "hello"}], "seed": 1}"#;
    let captured = run(Request::new(Method::Post, "/").with_body(body));
    assert_eq!(captured.status(), Some(200));
    let text = String::from_utf8_lossy(&captured.body()).into_owned();
    assert!(text.contains("\"text\":\"echo:\""), "{text}");
    assert!(text.contains("\"text\":\" hello\""), "{text}");
    let bad = run(Request::new(Method::Post, "/").with_body(r#"{"messages": []}"#));
    assert_eq!(bad.status(), Some(400));
}

//! Server-Sent Events framing: data is JSON, so newlines in a chunk cannot
//! end an event early.

use serde_json::json;
use warden_sdk::model::{Error, Usage};

fn event(name: Option<&str>, data: &serde_json::Value) -> String {
    match name {
        Some(name) => format!("event: {name}\ndata: {data}\n\n"),
        None => format!("data: {data}\n\n"),
    }
}

/// One chunk of text.
pub fn chunk(text: &str) -> String {
    event(None, &json!({ "text": text }))
}

/// The end of the answer, with its usage.
pub fn end(finish_reason: &str, usage: &Usage) -> String {
    event(
        Some("end"),
        &json!({ "finish_reason": finish_reason, "usage": usage }),
    )
}

/// A failure after the stream started.
pub fn error(e: &Error) -> String {
    event(
        Some("error"),
        &json!({ "code": e.code(), "message": e.to_string() }),
    )
}

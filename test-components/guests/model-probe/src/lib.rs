//! Drives the `model` capability over HTTP, one call per request, and
//! answers 200 with what the guest saw, so host tests can check typed
//! errors exactly as the guest receives them.
//!
//! | request | answer |
//! | --- | --- |
//! | `POST /complete`, body [`Call`] | `{"ok": {"text", "finish_reason", "usage"}}` |
//! | `POST /stream`, body [`Call`] | `{"ok": {"chunks": [...], "usage"}}` |
//! | `POST /embed?model=A`, body `["text", ...]` | `{"ok": [[f32, ...], ...]}` |
//! | `POST /open-streams?n=N`, body [`Call`] | `{"opened": k, "error": ...}`: opens N streams, never reads them |
//!
//! A model error is `{"error": {"code": "<WIT case>", "retry_after_ms":
//! n | null, "message"}}`. A malformed body is 400.

use serde::Deserialize;
use serde_json::{Value, json};
use warden_sdk::model::{self, Chunk, Request as ModelRequest};
use warden_sdk::{HttpError, Method, Request, Response};

/// The model call a test asks for.
#[derive(Deserialize)]
struct Call {
    #[serde(default = "chat")]
    model: String,
    prompt: String,
    temperature: Option<f32>,
    seed: Option<u64>,
    max_tokens: Option<u32>,
    #[serde(default = "yes")]
    idempotent: bool,
}

fn chat() -> String {
    "chat".into()
}

fn yes() -> bool {
    true
}

impl Call {
    fn request(&self) -> ModelRequest {
        let mut r = ModelRequest::new(&self.model)
            .user(&self.prompt)
            .idempotent(self.idempotent);
        r.temperature = self.temperature;
        r.seed = self.seed;
        r.max_tokens = self.max_tokens;
        r
    }
}

fn error(e: &model::Error) -> Value {
    json!({"error": {"code": e.code(), "retry_after_ms": e.retry_after_ms(), "message": e.to_string()}})
}

fn outcome<T: serde::Serialize>(result: Result<T, model::Error>) -> Response {
    Response::json(
        200,
        &match result {
            Ok(v) => json!({ "ok": v }),
            Err(e) => error(&e),
        },
    )
}

fn stream(call: &Call) -> Result<Value, model::Error> {
    let mut chunks = Vec::new();
    let mut usage = Value::Null;
    for chunk in model::stream(&call.request())? {
        match chunk? {
            Chunk::Text(text) => chunks.push(text),
            Chunk::End { usage: u, .. } => usage = json!(u),
        }
    }
    Ok(json!({ "chunks": chunks, "usage": usage }))
}

fn handle(req: Request) -> Result<Response, HttpError> {
    match (req.path(), req.method()) {
        ("/complete", Method::Post) => {
            let call: Call = req.json()?;
            Ok(outcome(model::complete(&call.request())))
        }
        ("/stream", Method::Post) => {
            let call: Call = req.json()?;
            Ok(outcome(stream(&call)))
        }
        ("/embed", Method::Post) => {
            let inputs: Vec<String> = req.json()?;
            let alias = req.query_param("model").unwrap_or_else(|| "embed".into());
            Ok(outcome(model::embed(&alias, &inputs)))
        }
        ("/open-streams", Method::Post) => {
            let call: Call = req.json()?;
            let n: usize = req
                .query_param("n")
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            let mut open = Vec::new();
            let mut failure = Value::Null;
            for _ in 0..n {
                match model::stream(&call.request()) {
                    Ok(s) => open.push(s),
                    Err(e) => {
                        failure = error(&e)["error"].clone();
                        break;
                    }
                }
            }
            Ok(Response::json(
                200,
                &json!({"opened": open.len(), "error": failure}),
            ))
        }
        _ => Err(HttpError::not_found("no such probe")),
    }
}

warden_sdk::http_handler!(handle);

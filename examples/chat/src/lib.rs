//! A chat function: the model's answer as Server-Sent Events, each chunk
//! written to the client as the model produces it.
//!
//! Run with: `./scripts/up` from the repo root, then
//!
//! ```text
//! curl -N 'http://acme.localhost:8080/chat?q=Tell+me+about+edge+functions'
//! curl -N http://acme.localhost:8080/chat \
//!   -d '{"messages": [{"role": "user", "content": "Hi!"}], "seed": 7, "max_tokens": 20}'
//! ```
//!
//! The answer is `text/event-stream`: one `data: {"text": "..."}` event per
//! chunk, then `event: end` with `{"finish_reason", "usage"}` (tokens, the
//! model that answered, whether it came from the cache). An error before
//! the first chunk is an ordinary JSON error response (429 with
//! `retry-after` when rate limited or over budget, 504 on a timeout, 503
//! when the provider is down); one after it is an `event: error`, then the
//! response is cut (no final chunk, the connection closes), so a client
//! never takes a broken answer for a complete one.
//!
//! The model is the tenant's `chat` alias: the host's builtin
//! deterministic model unless host config points it at a provider
//! (`[model.aliases] chat = { provider = "...", model = "..." }`). A client
//! that hangs up stops the function at its next write, which drops the
//! model stream and cancels the provider call.

mod request;
mod sse;

use warden_sdk::model::{self, Chunk};
use warden_sdk::{Headers, HttpError, Request, ResponseWriter, WriteError};

fn handle(mut req: Request, out: ResponseWriter) -> Result<(), WriteError> {
    let opened = request::parse(&mut req).and_then(|r| Ok::<_, HttpError>(model::stream(&r)?));
    let stream = match opened {
        Ok(stream) => stream,
        Err(e) => {
            out.send(e);
            return Ok(());
        }
    };
    let mut headers = Headers::new();
    headers.insert("content-type", "text/event-stream");
    headers.insert("cache-control", "no-cache");
    let mut body = out.start(200, &headers);
    for chunk in stream {
        let event = match chunk {
            Ok(Chunk::Text(text)) => sse::chunk(&text),
            Ok(Chunk::End {
                finish_reason,
                usage,
            }) => sse::end(&finish_reason, &usage),
            Err(e) => {
                // Tell the client why, then end the response as a
                // failure: a cut body, never a clean end of a broken answer.
                body.write(sse::error(&e))?;
                body.abort();
                return Ok(());
            }
        };
        // A client that went away fails this write: returning drops the
        // stream, which cancels the provider call.
        body.write(event)?;
    }
    body.finish()
}

warden_sdk::http_streaming_handler!(handle);

#[cfg(test)]
mod tests;

//! An OpenAI-compatible HTTP API over hyper-util's pooled client.
//!
//! `https://` and `http://` base URLs, through the plugins' one HTTPS
//! setup (`warden_plugin_core::tls`: rustls on ring, the Mozilla roots
//! compiled in, plus the provider's `ca_file` for a private CA). HTTP/1.1:
//! what every OpenAI-compatible server speaks; connections are pooled and
//! kept alive, so TLS handshakes are paid once per connection.

use std::collections::VecDeque;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::{Request, Response};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use warden_plugin_core::tls::{self, CertificateDer};

use super::sse::{SseParser, parse_usage};
use super::{
    ChunkSource, Deadlines, Provider, ProviderCompletion, ProviderEmbeddings, ProviderError,
    ProviderEvent,
};
use crate::{CompletionRequest, TimeoutStage};

/// Largest JSON answer read (completions, embeddings, error bodies).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// An OpenAI-compatible provider.
pub struct OpenAiProvider {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    base_url: String,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl std::fmt::Debug for OpenAiProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiProvider")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl OpenAiProvider {
    /// A client for `base_url` (`https://host/v1` or `http://host:port/v1`),
    /// sending `api_key` as a bearer token and `headers` with every
    /// request, trusting the built-in roots plus `extra_roots`. Headers
    /// must be valid (config validation checks them); invalid ones are
    /// skipped. Fails only when an extra root is not a usable CA.
    pub fn new(
        base_url: &str,
        api_key: Option<&str>,
        headers: &[(String, String)],
        connect_timeout: Duration,
        extra_roots: &[CertificateDer<'static>],
    ) -> Result<Self, String> {
        let connector = tls::https_connector(tls::client_config(extra_roots)?, connect_timeout);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        let mut all = Vec::new();
        if let Some(key) = api_key
            && let Ok(value) = HeaderValue::from_str(&format!("Bearer {key}"))
        {
            let mut value = value;
            value.set_sensitive(true);
            all.push((AUTHORIZATION, value));
        }
        for (name, value) in headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                all.push((name, value));
            }
        }
        Ok(Self {
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
            headers: all,
        })
    }

    /// Sends `body` to `path`; waits for a 2xx's headers until `first_token`.
    async fn post(
        &self,
        path: &str,
        body: &Value,
        deadlines: Deadlines,
    ) -> Result<Response<Incoming>, ProviderError> {
        let mut request = Request::post(format!("{}{path}", self.base_url))
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| ProviderError::Connect(format!("bad request URL: {e}")))?;
        for (name, value) in &self.headers {
            request.headers_mut().insert(name.clone(), value.clone());
        }
        let response = match tokio::time::timeout_at(
            deadlines.first_token.min(deadlines.total),
            self.client.request(request),
        )
        .await
        {
            Err(_) if deadlines.total <= deadlines.first_token => {
                return Err(ProviderError::Timeout(TimeoutStage::Total));
            }
            Err(_) => return Err(ProviderError::Timeout(TimeoutStage::FirstToken)),
            Ok(Err(error)) => return Err(classify(&error)),
            Ok(Ok(response)) => response,
        };
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let retry_after = retry_after(&response);
        let body = read_json(response.into_body(), deadlines.total)
            .await
            .unwrap_or(Value::Null);
        let message = body["error"]["message"]
            .as_str()
            .unwrap_or("no error message")
            .to_string();
        Err(ProviderError::Status {
            status,
            retry_after,
            message,
        })
    }
}

/// `retry-after-ms` (OpenAI) or `retry-after` in seconds.
fn retry_after<B>(response: &Response<B>) -> Option<Duration> {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    header("retry-after-ms")
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .or_else(|| header("retry-after").map(Duration::from_secs_f64))
}

/// Connect timeouts come back as a connect error wrapping `TimedOut`.
fn classify(error: &hyper_util::client::legacy::Error) -> ProviderError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    let mut timed_out = false;
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            timed_out = true;
        }
        source = e.source();
    }
    let text = chain(error);
    match (error.is_connect(), timed_out) {
        (true, true) => ProviderError::Timeout(TimeoutStage::Connect),
        (true, false) => ProviderError::Connect(text),
        _ => ProviderError::Transport(text),
    }
}

fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

async fn read_json(body: Incoming, deadline: tokio::time::Instant) -> Result<Value, ProviderError> {
    let collected = tokio::time::timeout_at(deadline, Limited::new(body, MAX_BODY).collect())
        .await
        .map_err(|_| ProviderError::Timeout(TimeoutStage::Total))?
        .map_err(|e| ProviderError::Transport(format!("reading the answer: {e}")))?;
    serde_json::from_slice(&collected.to_bytes())
        .map_err(|e| ProviderError::Malformed(format!("answer is not JSON: {e}")))
}

fn chat_body(model: &str, request: &CompletionRequest, stream: bool) -> Value {
    let messages: Vec<Value> = request
        .messages
        .iter()
        .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
        .collect();
    let mut body = json!({"model": model, "messages": messages});
    let fields = [
        ("temperature", request.temperature.map(|t| json!(t))),
        ("top_p", request.top_p.map(|t| json!(t))),
        ("seed", request.seed.map(|s| json!(s))),
        ("max_tokens", request.max_tokens.map(|m| json!(m))),
        (
            "stop",
            (!request.stop.is_empty()).then(|| json!(request.stop)),
        ),
    ];
    for (name, value) in fields {
        if let Some(value) = value {
            body[name] = value;
        }
    }
    if stream {
        body["stream"] = json!(true);
        body["stream_options"] = json!({"include_usage": true});
    }
    body
}

struct SseSource {
    body: Incoming,
    parser: SseParser,
    pending: VecDeque<ProviderEvent>,
}

#[async_trait]
impl ChunkSource for SseSource {
    async fn next(&mut self) -> Result<Option<ProviderEvent>, ProviderError> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(Some(event));
            }
            if self.parser.done {
                return Ok(None);
            }
            match self.body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        self.pending.extend(self.parser.feed(data)?);
                    }
                }
                Some(Err(e)) => {
                    return Err(ProviderError::Transport(format!(
                        "stream cut: {}",
                        chain(&e)
                    )));
                }
                None => {
                    return Err(ProviderError::Transport(
                        "stream ended without [DONE]".into(),
                    ));
                }
            }
        }
    }
}

#[async_trait]
impl Provider for OpenAiProvider {
    async fn complete(
        &self,
        model: &str,
        request: &CompletionRequest,
        deadlines: Deadlines,
    ) -> Result<ProviderCompletion, ProviderError> {
        let response = self
            .post(
                "/chat/completions",
                &chat_body(model, request, false),
                deadlines,
            )
            .await?;
        let body = read_json(response.into_body(), deadlines.total).await?;
        let choice = &body["choices"][0];
        let text = choice["message"]["content"]
            .as_str()
            .ok_or_else(|| ProviderError::Malformed("no choices[0].message.content".into()))?;
        Ok(ProviderCompletion {
            text: text.to_string(),
            finish_reason: choice["finish_reason"]
                .as_str()
                .unwrap_or("stop")
                .to_string(),
            usage: parse_usage(&body["usage"]),
        })
    }

    async fn stream(
        &self,
        model: &str,
        request: &CompletionRequest,
        deadlines: Deadlines,
    ) -> Result<Box<dyn ChunkSource>, ProviderError> {
        let response = self
            .post(
                "/chat/completions",
                &chat_body(model, request, true),
                deadlines,
            )
            .await?;
        Ok(Box::new(SseSource {
            body: response.into_body(),
            parser: SseParser::default(),
            pending: VecDeque::new(),
        }))
    }

    async fn embed(
        &self,
        model: &str,
        inputs: &[String],
        deadlines: Deadlines,
    ) -> Result<ProviderEmbeddings, ProviderError> {
        let response = self
            .post(
                "/embeddings",
                &json!({"model": model, "input": inputs}),
                deadlines,
            )
            .await?;
        let body = read_json(response.into_body(), deadlines.total).await?;
        let mut data: Vec<(u64, Vec<f32>)> = body["data"]
            .as_array()
            .ok_or_else(|| ProviderError::Malformed("no data array".into()))?
            .iter()
            .map(|item| {
                let vector = item["embedding"]
                    .as_array()
                    .map(|v| {
                        v.iter()
                            .filter_map(Value::as_f64)
                            .map(|x| x as f32)
                            .collect()
                    })
                    .unwrap_or_default();
                (item["index"].as_u64().unwrap_or(0), vector)
            })
            .collect();
        if data.len() != inputs.len() {
            return Err(ProviderError::Malformed(format!(
                "{} embeddings for {} inputs",
                data.len(),
                inputs.len()
            )));
        }
        data.sort_by_key(|(i, _)| *i);
        Ok(ProviderEmbeddings {
            vectors: data.into_iter().map(|(_, v)| v).collect(),
            input_tokens: body["usage"]["prompt_tokens"]
                .as_u64()
                .map(|t| u32::try_from(t).unwrap_or(u32::MAX)),
        })
    }
}

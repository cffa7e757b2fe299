//! A fake OpenAI-compatible server: real HTTP/1.1 on `127.0.0.1:0`, real
//! SSE, scripted faults, and counters a test can assert on.
//!
//! It answers `POST /v1/chat/completions` (JSON, or SSE with
//! `"stream": true`, usage in a final chunk when
//! `stream_options.include_usage` is set) and `POST /v1/embeddings`. The
//! reply is [`FakeOpenAi::set_reply`]'s words (one SSE chunk per word);
//! usage is `ceil(prompt chars / 4)` in, one token per word out.
//!
//! Faults are queued with [`FakeOpenAi::push_fault`] and each request takes
//! the next one, so a test scripts "fail twice, then answer". Latency
//! (before headers, between chunks) applies to every request.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Channel, Either, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

type Body = Either<Full<Bytes>, Channel<Bytes, std::io::Error>>;

/// One scripted misbehaviour, taken by the next request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and an OpenAI-style error body.
    Status(u16),
    /// Answer 429 with `retry-after: <secs>`.
    RateLimited {
        /// The `retry-after` header, in seconds.
        retry_after_secs: u64,
    },
    /// Close the connection without any response (after reading the request).
    Reset,
    /// Stream `after_chunks` chunks, then cut the connection mid-body.
    DropMidStream {
        /// Chunks sent before the cut.
        after_chunks: usize,
    },
    /// Stream a first event whose data is not JSON.
    MalformedSse,
}

#[derive(Debug, Default)]
struct Script {
    faults: VecDeque<Fault>,
    header_delay: Duration,
    chunk_delay: Duration,
    reply: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    script: Mutex<Script>,
    requests: Mutex<HashMap<String, usize>>,
    bodies: Mutex<Vec<(String, Value)>>,
    arrivals: Mutex<Vec<Instant>>,
    disconnects: AtomicUsize,
    completed_streams: AtomicUsize,
    /// Set: no bodies and arrivals are kept (long load runs).
    forgetful: std::sync::atomic::AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The running fake. Stops accepting when dropped.
#[derive(Debug)]
pub struct FakeOpenAi {
    addr: SocketAddr,
    state: Arc<State>,
    accept: JoinHandle<()>,
    tls: bool,
}

/// Serves one connection (plain or TLS) until it closes.
async fn serve<I>(io: I, state: Arc<State>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |req| handle(state.clone(), req));
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await;
}

/// The default reply: eight words, so eight stream chunks.
const DEFAULT_REPLY: &str = "this is a fake completion of eight words";

impl FakeOpenAi {
    /// Starts the fake on a free loopback port. Needs a Tokio runtime.
    ///
    /// # Panics
    /// When no loopback port can be bound (test support: fail loudly).
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(State::default());
        let accept_state = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                // SSE chunks are small writes: without it, Nagle and the
                // client's delayed ACK hold each one back ~40 ms.
                let _ = stream.set_nodelay(true);
                let state = accept_state.clone();
                tokio::spawn(serve(TokioIo::new(stream), state));
            }
        });
        Self {
            addr,
            state,
            accept,
            tls: false,
        }
    }

    /// Starts the fake speaking HTTPS with `ca`'s certificate for
    /// `localhost`; [`Self::base_url`] is `https://localhost:<port>/v1`.
    /// A client that does not trust `ca` fails its handshake, and the
    /// request is never counted.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    #[cfg(feature = "tls")]
    pub async fn start_tls(ca: &crate::TestCa) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(State::default());
        let accept_state = state.clone();
        let acceptor = ca.acceptor();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let state = accept_state.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(stream).await {
                        serve(TokioIo::new(tls), state).await;
                    }
                });
            }
        });
        Self {
            addr,
            state,
            accept,
            tls: true,
        }
    }

    /// `http://127.0.0.1:<port>/v1` (or `https://localhost:<port>/v1`),
    /// the provider's `base_url`.
    pub fn base_url(&self) -> String {
        if self.tls {
            format!("https://localhost:{}/v1", self.addr.port())
        } else {
            format!("http://{}/v1", self.addr)
        }
    }

    /// Stops keeping request bodies and arrival times (counters stay), so
    /// a benchmark's long runs neither grow memory nor queue on their lock.
    pub fn forget_requests(&self) {
        self.state.forgetful.store(true, Ordering::Relaxed);
    }

    /// Queues a fault for the next request that has none yet.
    pub fn push_fault(&self, fault: Fault) {
        lock(&self.state.script).faults.push_back(fault);
    }

    /// Latency before the response headers of every request.
    pub fn set_header_delay(&self, delay: Duration) {
        lock(&self.state.script).header_delay = delay;
    }

    /// Latency between two SSE chunks.
    pub fn set_chunk_delay(&self, delay: Duration) {
        lock(&self.state.script).chunk_delay = delay;
    }

    /// What the model answers (split on whitespace into stream chunks).
    pub fn set_reply(&self, text: &str) {
        lock(&self.state.script).reply = Some(text.to_string());
    }

    /// Requests received on `path` (e.g. `/v1/chat/completions`), faulted
    /// ones included.
    pub fn requests(&self, path: &str) -> usize {
        lock(&self.state.requests).get(path).copied().unwrap_or(0)
    }

    /// The JSON bodies received on `path`, in arrival order.
    pub fn bodies(&self, path: &str) -> Vec<Value> {
        lock(&self.state.bodies)
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, b)| b.clone())
            .collect()
    }

    /// When each request arrived, in order (any path).
    pub fn arrivals(&self) -> Vec<Instant> {
        lock(&self.state.arrivals).clone()
    }

    /// Streams whose client went away before the last chunk was written.
    pub fn disconnects(&self) -> usize {
        self.state.disconnects.load(Ordering::SeqCst)
    }

    /// Streams written to the end (`data: [DONE]`).
    pub fn completed_streams(&self) -> usize {
        self.state.completed_streams.load(Ordering::SeqCst)
    }

    /// Waits up to `timeout` until [`Self::disconnects`] reaches `n`.
    pub async fn wait_for_disconnects(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.disconnects() < n {
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// A connection that fails the request: hyper closes the connection
/// without writing a response.
#[derive(Debug)]
struct ResetConnection;

impl std::fmt::Display for ResetConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("scripted connection reset")
    }
}
impl std::error::Error for ResetConnection {}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Body>, ResetConnection> {
    let path = req.uri().path().to_string();
    *lock(&state.requests).entry(path.clone()).or_default() += 1;
    let forgetful = state.forgetful.load(Ordering::Relaxed);
    if !forgetful {
        lock(&state.arrivals).push(Instant::now());
    }
    let bytes = req
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if !forgetful {
        lock(&state.bodies).push((path.clone(), body.clone()));
    }

    let (fault, header_delay, chunk_delay, reply) = {
        let mut script = lock(&state.script);
        (
            script.faults.pop_front(),
            script.header_delay,
            script.chunk_delay,
            script.reply.clone().unwrap_or_else(|| DEFAULT_REPLY.into()),
        )
    };
    // A zero sleep still waits for the timer's next millisecond tick.
    if !header_delay.is_zero() {
        tokio::time::sleep(header_delay).await;
    }
    match &fault {
        Some(Fault::Reset) => return Err(ResetConnection),
        Some(Fault::Status(code)) => return Ok(error(*code, None)),
        Some(Fault::RateLimited { retry_after_secs }) => {
            return Ok(error(429, Some(*retry_after_secs)));
        }
        _ => {}
    }
    match path.as_str() {
        "/v1/chat/completions" => {
            let words: Vec<String> = reply.split_whitespace().map(str::to_string).collect();
            let prompt_tokens = prompt_tokens(&body);
            if body["stream"] == Value::Bool(true) {
                let include_usage = body["stream_options"]["include_usage"] == Value::Bool(true);
                Ok(stream(
                    state,
                    words,
                    prompt_tokens,
                    include_usage,
                    chunk_delay,
                    fault,
                ))
            } else {
                let n = words.len();
                Ok(json_response(json!({
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                        "message": {"role": "assistant", "content": words.join(" ")}}],
                    "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": n,
                        "total_tokens": prompt_tokens + n}
                })))
            }
        }
        "/v1/embeddings" => {
            let inputs: Vec<String> = match &body["input"] {
                Value::String(s) => vec![s.clone()],
                Value::Array(items) => items
                    .iter()
                    .map(|v| v.as_str().unwrap_or_default().to_string())
                    .collect(),
                _ => Vec::new(),
            };
            let data: Vec<Value> = inputs
                .iter()
                .enumerate()
                .map(|(i, text)| json!({"object": "embedding", "index": i, "embedding": fake_vector(text)}))
                .collect();
            let tokens: usize = inputs.iter().map(|t| t.len().div_ceil(4)).sum();
            Ok(json_response(json!({
                "object": "list", "model": body["model"], "data": data,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}
            })))
        }
        _ => Ok(error(404, None)),
    }
}

fn prompt_tokens(body: &Value) -> usize {
    let chars: usize = body["messages"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .map(|m| m["content"].as_str().map_or(0, str::len))
                .sum()
        })
        .unwrap_or(0);
    chars.div_ceil(4)
}

/// Eight numbers derived from the text: stable, distinct per text.
fn fake_vector(text: &str) -> Vec<f32> {
    let mut h: u32 = 2_166_136_261;
    for b in text.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(16_777_619);
    }
    (0..8u32)
        .map(|i| (h.rotate_left(i * 4) % 1000) as f32 / 1000.0)
        .collect()
}

fn json_response(value: Value) -> Response<Body> {
    let mut response = Response::new(Either::Left(Full::new(Bytes::from(value.to_string()))));
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

fn error(code: u16, retry_after: Option<u64>) -> Response<Body> {
    let mut response = json_response(json!({
        "error": {"message": format!("fake error {code}"), "type": "fake", "code": code}
    }));
    *response.status_mut() =
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", hyper::header::HeaderValue::from(secs));
    }
    response
}

fn stream(
    state: Arc<State>,
    words: Vec<String>,
    prompt_tokens: usize,
    include_usage: bool,
    chunk_delay: Duration,
    fault: Option<Fault>,
) -> Response<Body> {
    let (mut tx, body) = Channel::<Bytes, std::io::Error>::new(1);
    tokio::spawn(async move {
        let event = |v: Value| Bytes::from(format!("data: {v}\n\n"));
        let n = words.len();
        if fault == Some(Fault::MalformedSse) {
            let _ = tx
                .send_data(Bytes::from_static(b"data: {not json\n\n"))
                .await;
            return;
        }
        for (i, word) in words.iter().enumerate() {
            if let Some(Fault::DropMidStream { after_chunks }) = fault
                && i == after_chunks
            {
                // Let hyper flush what was sent: an aborted body drops
                // its unwritten buffer with the connection.
                tokio::time::sleep(chunk_delay.max(Duration::from_millis(50))).await;
                tx.abort(std::io::Error::other("scripted mid-stream drop"));
                return;
            }
            if i > 0 && !chunk_delay.is_zero() {
                tokio::time::sleep(chunk_delay).await;
            }
            let content = if i == 0 {
                word.clone()
            } else {
                format!(" {word}")
            };
            let chunk = json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]});
            if tx.send_data(event(chunk)).await.is_err() {
                state.disconnects.fetch_add(1, Ordering::SeqCst);
                return;
            }
        }
        let mut tail = vec![event(
            json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
        )];
        if include_usage {
            tail.push(event(
                json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                "choices": [], "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": n,
                "total_tokens": prompt_tokens + n}}),
            ));
        }
        tail.push(Bytes::from_static(b"data: [DONE]\n\n"));
        for bytes in tail {
            if tx.send_data(bytes).await.is_err() {
                state.disconnects.fetch_add(1, Ordering::SeqCst);
                return;
            }
        }
        state.completed_streams.fetch_add(1, Ordering::SeqCst);
    });
    let mut response = Response::new(Either::Right(body));
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("text/event-stream"),
    );
    response
}

/// A loopback address that accepts no connection: its listen queue is
/// full, so a TCP connect hangs until the client's connect timeout.
#[derive(Debug)]
pub struct Blackhole {
    addr: SocketAddr,
    _listener: TcpListener,
    _queued: Vec<std::net::TcpStream>,
}

impl Blackhole {
    /// Binds with a backlog of 0 and fills the queue. Needs a Tokio runtime.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub fn start() -> Self {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .expect("bind");
        let listener = socket.listen(0).expect("listen");
        let addr = listener.local_addr().expect("local addr");
        let mut queued = Vec::new();
        for _ in 0..8 {
            match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
                Ok(stream) => queued.push(stream),
                Err(_) => break,
            }
        }
        Self {
            addr,
            _listener: listener,
            _queued: queued,
        }
    }

    /// `http://<addr>/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }
}

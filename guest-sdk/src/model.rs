//! Model calls (`warden:platform/model`): chat completions, streamed
//! completions and embeddings, by model alias.
//!
//! An alias (`"chat"`, `"embed"`) is the tenant's name for a model; the host
//! resolves it to a provider and model (and an A/B variant, sticky per
//! user), caches deterministic calls (temperature 0, or a seed), enforces
//! the tenant's token budgets and retries what is safe to retry. A node
//! with no provider configured answers with its builtin deterministic
//! model, so functions run offline.
//!
//! ```no_run
//! use warden_sdk::model::{self, Chunk, Request};
//!
//! # fn demo() -> Result<(), model::Error> {
//! let answer = model::complete(&Request::new("chat").user("Say hi").seed(7))?;
//! println!("{} ({} tokens)", answer.text, answer.usage.output_tokens);
//!
//! for chunk in model::stream(&Request::new("chat").user("Tell a story"))? {
//!     match chunk? {
//!         Chunk::Text(text) => print!("{text}"),
//!         Chunk::End { usage, .. } => println!("\n[{} tokens]", usage.output_tokens),
//!     }
//! }
//!
//! let vectors = model::embed("embed", &["red apples", "green pears"])?;
//! let near = model::cosine(&vectors[0], &vectors[1]);
//! # let _ = near;
//! # Ok(())
//! # }
//! ```
//!
//! Errors say what to do: wait and retry ([`Error::RateLimited`],
//! [`Error::BudgetExhausted`], with the wait), degrade ([`Error::Timeout`],
//! [`Error::Unavailable`]) or fix the request ([`Error::InvalidRequest`],
//! [`Error::ContentTooLarge`]). With `?` in a handler they become 429,
//! 503, 504, 400 or 413 responses.
//!
//! On native targets (unit tests) a deterministic stand-in answers; see
//! [`crate::testing::set_model_reply`].

use std::fmt;

use serde::Serialize;

use crate::HttpError;

#[cfg(not(target_arch = "wasm32"))]
use crate::native::model as sys;
#[cfg(target_arch = "wasm32")]
use wasm as sys;

/// Who speaks in a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions to the model.
    System,
    /// The end user.
    User,
    /// The model's earlier answers.
    Assistant,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// Who speaks.
    pub role: Role,
    /// What is said.
    pub content: String,
}

/// A completion request, built step by step:
/// `Request::new("chat").system("Be brief").user(question).seed(1)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    /// The model alias.
    pub model: String,
    /// The conversation, oldest first.
    pub messages: Vec<Message>,
    /// Sampling temperature (0..=2); 0 makes the call cacheable.
    pub temperature: Option<f32>,
    /// Nucleus sampling (0 < p <= 1).
    pub top_p: Option<f32>,
    /// Sampling seed; makes the answer repeatable and cacheable.
    pub seed: Option<u64>,
    /// Cap on output tokens.
    pub max_tokens: Option<u32>,
    /// Stop sequences (at most 4).
    pub stop: Vec<String>,
    /// Whether the host may send the call twice (retries). True by
    /// default; set false for calls whose effect must not repeat.
    pub idempotent: bool,
}

impl Request {
    /// A request to the model behind `alias`, with no messages yet.
    pub fn new(alias: impl Into<String>) -> Self {
        Self {
            model: alias.into(),
            messages: Vec::new(),
            temperature: None,
            top_p: None,
            seed: None,
            max_tokens: None,
            stop: Vec::new(),
            idempotent: true,
        }
    }

    /// Adds a message.
    pub fn message(mut self, role: Role, content: impl Into<String>) -> Self {
        self.messages.push(Message {
            role,
            content: content.into(),
        });
        self
    }

    /// Adds a system message.
    pub fn system(self, content: impl Into<String>) -> Self {
        self.message(Role::System, content)
    }

    /// Adds a user message.
    pub fn user(self, content: impl Into<String>) -> Self {
        self.message(Role::User, content)
    }

    /// Adds an earlier answer of the model.
    pub fn assistant(self, content: impl Into<String>) -> Self {
        self.message(Role::Assistant, content)
    }

    /// Sets the temperature.
    pub fn temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Sets nucleus sampling.
    pub fn top_p(mut self, top_p: f32) -> Self {
        self.top_p = Some(top_p);
        self
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Caps the output tokens.
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Adds a stop sequence.
    pub fn stop(mut self, sequence: impl Into<String>) -> Self {
        self.stop.push(sequence.into());
        self
    }

    /// Marks the call as safe (true, the default) or unsafe to send twice.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }
}

/// What a call used and how it was served.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Usage {
    /// Prompt tokens.
    pub input_tokens: u32,
    /// Generated tokens.
    pub output_tokens: u32,
    /// The provider's model id that answered.
    pub model: String,
    /// The A/B variant, when the alias has variants.
    pub variant: Option<String>,
    /// Served from the cache, without a provider call.
    pub from_cache: bool,
    /// Served from the semantic cache, with this cosine similarity.
    pub similarity: Option<f32>,
    /// The alias whose provider was down, when a fallback answered.
    pub fallback_from: Option<String>,
}

/// A finished completion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Completion {
    /// The generated text.
    pub text: String,
    /// Why generation stopped (`stop`, `length`, ...).
    pub finish_reason: String,
    /// Tokens and serving details.
    pub usage: Usage,
}

/// One item of a [`stream`]: text as it is generated, then one `End`.
#[derive(Debug, Clone, PartialEq)]
pub enum Chunk {
    /// The next piece of text.
    Text(String),
    /// The completion is done.
    End {
        /// Why generation stopped.
        finish_reason: String,
        /// Tokens and serving details.
        usage: Usage,
    },
}

/// Which deadline of a call fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutStage {
    /// Connecting to the provider.
    Connect,
    /// Waiting for the first token.
    FirstToken,
    /// The whole call.
    Total,
}

/// Why a model call failed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A deadline fired; the provider is slow right now.
    Timeout(TimeoutStage),
    /// The provider is saturated; retry after this many milliseconds.
    RateLimited {
        /// Milliseconds to wait.
        retry_after_ms: u64,
    },
    /// The tenant's token or request budget is spent for now.
    BudgetExhausted {
        /// Milliseconds until the budget allows the call.
        retry_after_ms: u64,
    },
    /// The provider is failing (circuit breaker open, errors, unreachable).
    Unavailable(String),
    /// The request is malformed or names an unknown alias.
    InvalidRequest(String),
    /// The prompt is larger than the tenant may send.
    ContentTooLarge(String),
    /// Something inside the platform failed.
    Internal(String),
}

impl Error {
    /// The WIT name of the case (`"rate-limited"`, `"timeout"`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Timeout(_) => "timeout",
            Error::RateLimited { .. } => "rate-limited",
            Error::BudgetExhausted { .. } => "budget-exhausted",
            Error::Unavailable(_) => "unavailable",
            Error::InvalidRequest(_) => "invalid-request",
            Error::ContentTooLarge(_) => "content-too-large",
            Error::Internal(_) => "internal",
        }
    }

    /// How long to wait before the same call may succeed, when the host
    /// said so.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            Error::RateLimited { retry_after_ms } | Error::BudgetExhausted { retry_after_ms } => {
                Some(*retry_after_ms)
            }
            _ => None,
        }
    }

    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Timeout(_)
                | Error::RateLimited { .. }
                | Error::BudgetExhausted { .. }
                | Error::Unavailable(_)
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("model: ")?;
        match self {
            Error::Timeout(stage) => write!(f, "timed out ({stage:?})"),
            Error::RateLimited { retry_after_ms } => {
                write!(f, "rate limited; retry after {retry_after_ms} ms")
            }
            Error::BudgetExhausted { retry_after_ms } => {
                write!(f, "budget exhausted; retry after {retry_after_ms} ms")
            }
            Error::Unavailable(why) => write!(f, "unavailable: {why}"),
            Error::InvalidRequest(why) => write!(f, "invalid request: {why}"),
            Error::ContentTooLarge(why) => write!(f, "content too large: {why}"),
            Error::Internal(why) => write!(f, "internal error: {why}"),
        }
    }
}

impl std::error::Error for Error {}

/// For `?` in handlers: rate limits and budgets are 429 with `retry-after`
/// (seconds, rounded up), timeouts 504, an unavailable provider 503 with
/// `retry-after: 1`, a bad request 400, a prompt over the cap 413, the
/// rest 500. Codes are the snake_case case names (`rate_limited`).
impl From<Error> for HttpError {
    fn from(err: Error) -> Self {
        let status = match &err {
            Error::RateLimited { .. } | Error::BudgetExhausted { .. } => 429,
            Error::Timeout(_) => 504,
            Error::Unavailable(_) => 503,
            Error::InvalidRequest(_) => 400,
            Error::ContentTooLarge(_) => 413,
            Error::Internal(_) => 500,
        };
        let retry_after = match &err {
            Error::Unavailable(_) => Some(1),
            other => other.retry_after_ms().map(|ms| ms.div_ceil(1000).max(1)),
        };
        let http = HttpError::new(status, err.code().replace('-', "_"), err.to_string());
        match retry_after {
            Some(secs) => http.with_header("retry-after", secs.to_string()),
            None => http,
        }
    }
}

/// Generates a completion of `request`.
pub fn complete(request: &Request) -> Result<Completion, Error> {
    sys::complete(request)
}

/// Streams a completion of `request`: returns once the first token is
/// there. The iterator yields [`Chunk::Text`]s as the model writes, then
/// one [`Chunk::End`] with the usage, then nothing; an error ends it.
/// Dropping it early cancels the provider call.
pub fn stream(request: &Request) -> Result<Stream, Error> {
    Ok(Stream {
        inner: Some(sys::stream(request)?),
        usage: None,
    })
}

/// One vector per input, in input order, from the embedding model behind
/// `alias`.
pub fn embed<S: AsRef<str>>(alias: &str, inputs: &[S]) -> Result<Vec<Vec<f32>>, Error> {
    let inputs: Vec<&str> = inputs.iter().map(AsRef::as_ref).collect();
    sys::embed(alias, &inputs)
}

/// Cosine similarity of two vectors (0 when either is zero or their
/// lengths differ): how close two embeddings are.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let denominator = norm(a) * norm(b);
    if denominator == 0.0 {
        0.0
    } else {
        dot / denominator
    }
}

/// The iterator of [`stream`].
#[derive(Debug)]
pub struct Stream {
    inner: Option<sys::RawStream>,
    usage: Option<Usage>,
}

impl Stream {
    /// The usage, once the stream has ended.
    pub fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }
}

impl Iterator for Stream {
    type Item = Result<Chunk, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.inner.as_mut()?.next();
        match &item {
            Some(Ok(Chunk::Text(_))) => {}
            Some(Ok(Chunk::End { usage, .. })) => {
                self.usage = Some(usage.clone());
                // Nothing follows the end: give the host its resource back.
                self.inner = None;
            }
            Some(Err(_)) | None => self.inner = None,
        }
        item
    }
}

/// The host calls.
#[cfg(target_arch = "wasm32")]
mod wasm {
    use super::{Chunk, Completion, Error, Request, Role, TimeoutStage, Usage};
    use crate::bindings::warden::platform::model as wit;

    impl From<wit::Error> for Error {
        fn from(err: wit::Error) -> Self {
            match err {
                wit::Error::Timeout(stage) => Error::Timeout(match stage {
                    wit::TimeoutStage::Connect => TimeoutStage::Connect,
                    wit::TimeoutStage::FirstToken => TimeoutStage::FirstToken,
                    wit::TimeoutStage::Total => TimeoutStage::Total,
                }),
                wit::Error::RateLimited(ms) => Error::RateLimited { retry_after_ms: ms },
                wit::Error::BudgetExhausted(ms) => Error::BudgetExhausted { retry_after_ms: ms },
                wit::Error::Unavailable(why) => Error::Unavailable(why),
                wit::Error::InvalidRequest(why) => Error::InvalidRequest(why),
                wit::Error::ContentTooLarge(why) => Error::ContentTooLarge(why),
                wit::Error::Internal(why) => Error::Internal(why),
            }
        }
    }

    fn usage(u: wit::Usage) -> Usage {
        Usage {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            model: u.model_used,
            variant: u.variant,
            from_cache: u.from_cache,
            similarity: u.similarity,
            fallback_from: u.fallback_from,
        }
    }

    fn request(r: &Request) -> wit::Request {
        wit::Request {
            model: r.model.clone(),
            messages: r
                .messages
                .iter()
                .map(|m| wit::Message {
                    role: match m.role {
                        Role::System => wit::Role::System,
                        Role::User => wit::Role::User,
                        Role::Assistant => wit::Role::Assistant,
                    },
                    content: m.content.clone(),
                })
                .collect(),
            temperature: r.temperature,
            top_p: r.top_p,
            seed: r.seed,
            max_tokens: r.max_tokens,
            stop: r.stop.clone(),
            idempotent: r.idempotent,
        }
    }

    pub fn complete(r: &Request) -> Result<Completion, Error> {
        let c = wit::complete(&request(r))?;
        Ok(Completion {
            text: c.text,
            finish_reason: c.finish_reason,
            usage: usage(c.usage),
        })
    }

    /// The host's stream resource.
    #[derive(Debug)]
    pub struct RawStream(wit::CompletionStream);

    impl RawStream {
        pub fn next(&mut self) -> Option<Result<Chunk, Error>> {
            match self.0.next() {
                Ok(None) => None,
                Ok(Some(wit::ChunkOrEnd::Chunk(text))) => Some(Ok(Chunk::Text(text))),
                Ok(Some(wit::ChunkOrEnd::End(end))) => Some(Ok(Chunk::End {
                    finish_reason: end.finish_reason,
                    usage: usage(end.usage),
                })),
                Err(e) => Some(Err(e.into())),
            }
        }
    }

    pub fn stream(r: &Request) -> Result<RawStream, Error> {
        Ok(RawStream(wit::stream(&request(r))?))
    }

    pub fn embed(alias: &str, inputs: &[&str]) -> Result<Vec<Vec<f32>>, Error> {
        let inputs: Vec<String> = inputs.iter().map(|s| s.to_string()).collect();
        Ok(wit::embed(alias, &inputs)?)
    }
}

// These run against the native stand-in.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn the_builder_sets_every_parameter_and_defaults_to_idempotent() {
        let r = Request::new("chat")
            .system("be brief")
            .user("hi")
            .temperature(0.0)
            .top_p(0.9)
            .seed(3)
            .max_tokens(5)
            .stop("\n");
        assert!(r.idempotent);
        assert_eq!(r.messages.len(), 2);
        assert_eq!(r.messages[0].role, Role::System);
        assert_eq!(
            (r.temperature, r.top_p, r.seed, r.max_tokens),
            (Some(0.0), Some(0.9), Some(3), Some(5))
        );
        assert!(!r.idempotent(false).idempotent);
    }

    #[test]
    fn completions_are_deterministic_and_streams_end_with_usage() {
        let r = Request::new("chat").user("hello there world");
        let a = complete(&r).expect("complete");
        assert_eq!(a, complete(&r).expect("again"));
        assert!(!a.text.is_empty());
        let mut stream = stream(&r).expect("stream");
        let mut text = String::new();
        let mut ended = false;
        for chunk in stream.by_ref() {
            match chunk.expect("chunk") {
                Chunk::Text(t) => {
                    assert!(!ended, "text after the end");
                    text.push_str(&t);
                }
                Chunk::End { usage, .. } => {
                    ended = true;
                    assert_eq!(usage.output_tokens, a.usage.output_tokens);
                }
            }
        }
        assert!(ended);
        assert_eq!(text, a.text);
        assert!(stream.usage().is_some());
        assert!(stream.next().is_none());
    }

    #[test]
    fn scripted_replies_and_errors_reach_the_caller() {
        crate::testing::set_model_reply(Some(Ok("scripted answer".into())));
        let r = Request::new("chat").user("anything");
        assert_eq!(complete(&r).expect("complete").text, "scripted answer");
        crate::testing::set_model_reply(Some(Err(Error::RateLimited {
            retry_after_ms: 1500,
        })));
        let err = complete(&r).expect_err("scripted error");
        assert_eq!(err.retry_after_ms(), Some(1500));
        let http = HttpError::from(err);
        assert_eq!((http.status(), http.code()), (429, "rate_limited"));
        assert_eq!(http.headers().get("retry-after"), Some("2"));
        crate::testing::set_model_reply(None);
        assert!(matches!(
            complete(&Request::new("chat")),
            Err(Error::InvalidRequest(_))
        ));
    }

    #[test]
    fn embeddings_place_texts_sharing_words_near_each_other() {
        let v = embed("embed", &["red apple pie", "apple pie recipe", "tax law"]).expect("embed");
        assert_eq!(v.len(), 3);
        assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]));
        assert!((cosine(&v[0], &v[0]) - 1.0).abs() < 1e-5);
        assert_eq!(cosine(&[1.0], &[1.0, 0.0]), 0.0);
    }
}

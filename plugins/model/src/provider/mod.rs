//! The provider trait (one model API) and its backends.

mod builtin;
mod openai;
mod sse;

use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

pub use builtin::{BuiltinProvider, cosine, embed_text};
pub use openai::OpenAiProvider;

use crate::{CompletionRequest, ModelError, TimeoutStage, Usage};

/// The deadlines of one attempt, which a provider applies to its phases.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// Response headers (streams: the stream is open) by then.
    pub first_token: Instant,
    /// Everything by then.
    pub total: Instant,
}

/// A provider's answer to a completion.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderCompletion {
    /// The text.
    pub text: String,
    /// Why it stopped.
    pub finish_reason: String,
    /// What the provider charged, when it said.
    pub usage: Option<Usage>,
}

/// One event of a provider's stream.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderEvent {
    /// Text.
    Delta(String),
    /// Why generation stopped.
    Finish(String),
    /// What the provider charged.
    Usage(Usage),
}

/// A provider's open stream; dropping it closes the upstream call.
#[async_trait]
pub trait ChunkSource: Send {
    /// The next event; `None` once the stream ended cleanly.
    async fn next(&mut self) -> Result<Option<ProviderEvent>, ProviderError>;
}

/// A provider's embeddings.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderEmbeddings {
    /// One per input, in order.
    pub vectors: Vec<Vec<f32>>,
    /// Tokens charged, when the provider said.
    pub input_tokens: Option<u32>,
}

/// Why one provider attempt failed. The service decides from it whether to
/// retry and whether it counts against the breaker.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    /// A phase deadline fired.
    #[error("timed out ({0})")]
    Timeout(TimeoutStage),
    /// No connection could be made (refused, unreachable).
    #[error("connect failed: {0}")]
    Connect(String),
    /// The provider answered with an error status.
    #[error("provider answered {status}: {message}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// Its `retry-after`, if any.
        retry_after: Option<Duration>,
        /// The provider's error message.
        message: String,
    },
    /// The connection broke (reset, cut mid-body).
    #[error("transport failed: {0}")]
    Transport(String),
    /// The answer is not what the protocol says.
    #[error("malformed answer: {0}")]
    Malformed(String),
}

impl ProviderError {
    /// Whether trying again may succeed (the service also requires the
    /// request to be idempotent and nothing streamed yet).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Timeout(stage) => *stage != TimeoutStage::Total,
            Self::Connect(_) | Self::Transport(_) => true,
            Self::Status { status, .. } => matches!(status, 429 | 500 | 502 | 503 | 504),
            Self::Malformed(_) => false,
        }
    }

    /// Whether it says the provider is unwell (breaker input); a 4xx or a
    /// 429 says the request or its rate is the problem.
    pub fn is_provider_failure(&self) -> bool {
        match self {
            Self::Status { status, .. } => *status >= 500,
            _ => true,
        }
    }

    /// The guest-facing error.
    pub fn into_model_error(self) -> ModelError {
        match self {
            Self::Timeout(stage) => ModelError::Timeout(stage),
            Self::Connect(why) | Self::Transport(why) => ModelError::Unavailable(why),
            Self::Status {
                status: 429,
                retry_after,
                ..
            } => ModelError::RateLimited {
                retry_after: retry_after.unwrap_or(Duration::from_secs(1)),
            },
            Self::Status {
                status: 413,
                message,
                ..
            } => ModelError::ContentTooLarge(message),
            Self::Status {
                status: 400 | 404 | 422,
                message,
                ..
            } => ModelError::InvalidRequest(message),
            Self::Status {
                status, message, ..
            } if status >= 500 => {
                ModelError::Unavailable(format!("provider answered {status}: {message}"))
            }
            Self::Status {
                status, message, ..
            } => ModelError::Internal(format!("provider answered {status}: {message}")),
            Self::Malformed(why) => {
                ModelError::Internal(format!("malformed provider answer: {why}"))
            }
        }
    }
}

/// One model API. Object-safe: the service holds `Arc<dyn Provider>` per
/// configured provider.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// A whole completion.
    async fn complete(
        &self,
        model: &str,
        request: &CompletionRequest,
        deadlines: Deadlines,
    ) -> Result<ProviderCompletion, ProviderError>;

    /// Opens a stream (headers received by `deadlines.first_token`).
    async fn stream(
        &self,
        model: &str,
        request: &CompletionRequest,
        deadlines: Deadlines,
    ) -> Result<Box<dyn ChunkSource>, ProviderError>;

    /// Embeddings of `inputs`.
    async fn embed(
        &self,
        model: &str,
        inputs: &[String],
        deadlines: Deadlines,
    ) -> Result<ProviderEmbeddings, ProviderError>;
}

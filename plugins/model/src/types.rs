//! What a caller sends and gets back: requests, completions, stream events,
//! embeddings. These are the shapes the WIT `model` interface will mirror.

use serde::{Deserialize, Serialize};

/// Who speaks in a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions to the model.
    System,
    /// The end user.
    User,
    /// The model's earlier answers.
    Assistant,
}

impl Role {
    /// The OpenAI wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Message {
    /// Who speaks.
    pub role: Role,
    /// What is said.
    pub content: String,
}

impl Message {
    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }

    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }
}

/// A chat completion request, by model alias (the tenant's name for a
/// model; the service resolves it to provider, model and A/B variant).
#[derive(Debug, Clone, PartialEq)]
pub struct CompletionRequest {
    /// The alias, e.g. `chat`.
    pub alias: String,
    /// The conversation, oldest first; at least one message.
    pub messages: Vec<Message>,
    /// Sampling temperature (0..=2); `Some(0.0)` makes the call cacheable.
    pub temperature: Option<f32>,
    /// Nucleus sampling (0 < p <= 1).
    pub top_p: Option<f32>,
    /// Sampling seed; a seed makes the call cacheable.
    pub seed: Option<u64>,
    /// Cap on output tokens.
    pub max_tokens: Option<u32>,
    /// Stop sequences (at most 4).
    pub stop: Vec<String>,
    /// Whether the call may be sent twice (retries). Default true; a
    /// request whose effect must not repeat (a tool call that spends
    /// money) sets false and is tried once.
    pub idempotent: bool,
}

impl CompletionRequest {
    /// A request with default parameters, idempotent.
    pub fn new(alias: impl Into<String>, messages: Vec<Message>) -> Self {
        Self {
            alias: alias.into(),
            messages,
            temperature: None,
            top_p: None,
            seed: None,
            max_tokens: None,
            stop: Vec::new(),
            idempotent: true,
        }
    }

    /// One user message.
    pub fn user(alias: impl Into<String>, text: impl Into<String>) -> Self {
        Self::new(alias, vec![Message::user(text)])
    }

    /// Whether the same request should give the same answer (temperature
    /// 0, or a seed): only those are cached.
    pub fn is_deterministic(&self) -> bool {
        self.temperature == Some(0.0) || self.seed.is_some()
    }

    /// The prompt's size in characters, all messages together.
    pub fn prompt_chars(&self) -> usize {
        self.messages
            .iter()
            .map(|m| m.content.chars().count())
            .sum()
    }
}

/// Who is calling: the host fills it for every call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallContext {
    /// The function making the call (usage records, metrics).
    pub function: String,
    /// The request's subject (principal); A/B variants are sticky on it.
    /// Without one, the request id is used (not sticky).
    pub subject: Option<String>,
    /// The request id, for logs and as the A/B key of anonymous calls.
    pub request_id: String,
}

impl CallContext {
    /// A context for `function`, sticky on `subject`.
    pub fn new(function: impl Into<String>, subject: Option<&str>) -> Self {
        Self {
            function: function.into(),
            subject: subject.map(str::to_string),
            request_id: String::new(),
        }
    }

    /// The key A/B variants are chosen by.
    pub(crate) fn stickiness(&self) -> &str {
        self.subject.as_deref().unwrap_or(&self.request_id)
    }
}

/// Tokens a call used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens.
    pub input_tokens: u32,
    /// Generated tokens.
    pub output_tokens: u32,
}

impl Usage {
    /// Input plus output.
    pub fn total(&self) -> u32 {
        self.input_tokens.saturating_add(self.output_tokens)
    }
}

/// A finished completion.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The generated text.
    pub text: String,
    /// Why generation stopped (`stop`, `length`, ...).
    pub finish_reason: String,
    /// Tokens used (those of the original call when served from cache).
    pub usage: Usage,
    /// How the call was served: model, variant, cache.
    pub served: Served,
}

/// How a call was served, for the guest and the usage record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Served {
    /// The provider's model id.
    pub model: String,
    /// The A/B variant, when the alias has variants.
    pub variant: Option<String>,
    /// Served from the cache (no provider call).
    pub cached: bool,
    /// Served from the semantic cache, with this cosine similarity.
    pub similarity: Option<f32>,
    /// The alias whose breaker was open, when a fallback alias served.
    pub fallback_from: Option<String>,
}

/// One item of a completion stream: text chunks, then one `End`.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The next piece of text.
    Chunk(String),
    /// The stream is complete.
    End {
        /// Why generation stopped.
        finish_reason: String,
        /// Tokens used.
        usage: Usage,
        /// How the call was served.
        served: Served,
    },
}

/// Embeddings of several inputs, in input order.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    /// One vector per input.
    pub vectors: Vec<Vec<f32>>,
    /// Tokens the provider charged (cached inputs count zero).
    pub usage: Usage,
    /// The provider's model id.
    pub model: String,
    /// How many inputs came from the cache.
    pub cached: usize,
}

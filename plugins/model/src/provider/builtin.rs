//! The deterministic in-process model: no service, no network.
//!
//! A completion is a function of (model, messages, parameters, seed): words
//! drawn from a small vocabulary by a PRNG seeded with their SHA-256, so
//! the same request gives the same answer on every node. Embeddings hash
//! each word into one of `dimensions` buckets with a sign (feature hashing)
//! and normalize: texts sharing words point the same way, which is enough
//! for a semantic search demo and for the semantic cache.

use std::time::Duration;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use super::{
    ChunkSource, Deadlines, Provider, ProviderCompletion, ProviderEmbeddings, ProviderError,
    ProviderEvent,
};
use crate::budget::estimate_tokens;
use crate::{CompletionRequest, Usage};

const VOCABULARY: &[&str] = &[
    "the",
    "edge",
    "runs",
    "every",
    "tenant",
    "in",
    "a",
    "sandbox",
    "and",
    "answers",
    "fast",
    "model",
    "calls",
    "are",
    "cached",
    "when",
    "deterministic",
    "budgets",
    "hold",
    "across",
    "nodes",
    "streams",
    "yield",
    "tokens",
    "one",
    "by",
    "breakers",
    "open",
    "after",
    "failures",
    "retries",
    "wait",
    "with",
    "jitter",
];

/// The builtin provider.
#[derive(Debug, Clone)]
pub struct BuiltinProvider {
    token_interval: Duration,
    dimensions: usize,
}

impl BuiltinProvider {
    /// Streams one token per `token_interval`; embeds in `dimensions`.
    pub fn new(token_interval: Duration, dimensions: usize) -> Self {
        Self {
            token_interval,
            dimensions: dimensions.max(1),
        }
    }

    fn generate(model: &str, request: &CompletionRequest) -> (Vec<String>, String) {
        let mut hasher = Sha256::new();
        hasher.update(model.as_bytes());
        for m in &request.messages {
            hasher.update([0]);
            hasher.update(m.role.as_str().as_bytes());
            hasher.update([0]);
            hasher.update(m.content.as_bytes());
        }
        hasher.update(request.seed.unwrap_or(0).to_be_bytes());
        hasher.update(
            request
                .temperature
                .map_or(u32::MAX, f32::to_bits)
                .to_be_bytes(),
        );
        hasher.update(request.top_p.map_or(u32::MAX, f32::to_bits).to_be_bytes());
        let digest = hasher.finalize();
        let mut state = [0u8; 8];
        state.copy_from_slice(&digest[..8]);
        let mut state = u64::from_be_bytes(state) | 1;
        let mut next = move || {
            // xorshift64*: small, deterministic, good enough for filler text.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        let natural = 8 + usize::try_from(next() % 17).unwrap_or(0);
        let limit = request
            .max_tokens
            .map_or(natural, |m| usize::try_from(m).unwrap_or(natural));
        let n = natural.min(limit);
        let mut words: Vec<String> = (0..n)
            .map(|_| {
                let i = usize::try_from(next() % VOCABULARY.len() as u64).unwrap_or(0);
                VOCABULARY[i].to_string()
            })
            .collect();
        let mut finish = if n < natural { "length" } else { "stop" }.to_string();
        if let Some(cut) = stop_at(&words, &request.stop) {
            words.truncate(cut);
            finish = "stop".into();
        }
        (words, finish)
    }
}

/// The number of words kept before the first stop sequence.
fn stop_at(words: &[String], stops: &[String]) -> Option<usize> {
    let mut text = String::new();
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            text.push(' ');
        }
        text.push_str(word);
        if stops
            .iter()
            .any(|s| !s.is_empty() && text.contains(s.as_str()))
        {
            return Some(i);
        }
    }
    None
}

fn usage(request: &CompletionRequest, words: usize) -> Usage {
    Usage {
        input_tokens: estimate_tokens(request.prompt_chars()),
        output_tokens: u32::try_from(words).unwrap_or(u32::MAX),
    }
}

/// The builtin embedding of `text` in `dimensions`: signed word hashing,
/// unit length (all zeros for a text without words).
pub fn embed_text(text: &str, dimensions: usize) -> Vec<f32> {
    let dimensions = dimensions.max(1);
    let mut vector = vec![0f32; dimensions];
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let digest = Sha256::digest(word.to_lowercase().as_bytes());
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        let h = u64::from_be_bytes(bytes);
        let bucket = usize::try_from(h % dimensions as u64).unwrap_or(0);
        vector[bucket] += if h >> 63 == 1 { 1.0 } else { -1.0 };
    }
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
    vector
}

/// Cosine similarity; 0 when either vector is zero or lengths differ.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

struct BuiltinStream {
    words: std::vec::IntoIter<String>,
    first: bool,
    interval: Duration,
    tail: Vec<ProviderEvent>,
}

#[async_trait]
impl ChunkSource for BuiltinStream {
    async fn next(&mut self) -> Result<Option<ProviderEvent>, ProviderError> {
        if let Some(word) = self.words.next() {
            if !self.first {
                tokio::time::sleep(self.interval).await;
            }
            let text = if self.first { word } else { format!(" {word}") };
            self.first = false;
            return Ok(Some(ProviderEvent::Delta(text)));
        }
        Ok(self.tail.pop())
    }
}

#[async_trait]
impl Provider for BuiltinProvider {
    async fn complete(
        &self,
        model: &str,
        request: &CompletionRequest,
        _deadlines: Deadlines,
    ) -> Result<ProviderCompletion, ProviderError> {
        let (words, finish_reason) = Self::generate(model, request);
        Ok(ProviderCompletion {
            text: words.join(" "),
            finish_reason,
            usage: Some(usage(request, words.len())),
        })
    }

    async fn stream(
        &self,
        model: &str,
        request: &CompletionRequest,
        _deadlines: Deadlines,
    ) -> Result<Box<dyn ChunkSource>, ProviderError> {
        let (words, finish_reason) = Self::generate(model, request);
        let tail = vec![
            ProviderEvent::Usage(usage(request, words.len())),
            ProviderEvent::Finish(finish_reason),
        ];
        Ok(Box::new(BuiltinStream {
            words: words.into_iter(),
            first: true,
            interval: self.token_interval,
            tail,
        }))
    }

    async fn embed(
        &self,
        _model: &str,
        inputs: &[String],
        _deadlines: Deadlines,
    ) -> Result<ProviderEmbeddings, ProviderError> {
        let chars: usize = inputs.iter().map(|i| i.chars().count()).sum();
        Ok(ProviderEmbeddings {
            vectors: inputs
                .iter()
                .map(|i| embed_text(i, self.dimensions))
                .collect(),
            input_tokens: Some(estimate_tokens(chars)),
        })
    }
}

//! Cache keys and cached values of completions and embeddings.
//!
//! A completion key hashes the resolved target (provider, model; not the
//! alias, so two aliases on one model share entries, and A/B variants do
//! not) with the normalized request: message contents trimmed and runs of
//! whitespace collapsed, and every sampling parameter. Keys live in the
//! tenant's cache space, so tenants never share entries.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::policy::Target;
use crate::{CompletionRequest, Usage};

/// What is stored for a completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CachedCompletion {
    pub(crate) text: String,
    pub(crate) finish_reason: String,
    pub(crate) usage: Usage,
}

impl CachedCompletion {
    pub(crate) fn encode(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }
}

fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn params(target: &Target, request: &CompletionRequest) -> serde_json::Value {
    json!({
        "provider": target.provider,
        "model": target.model,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "seed": request.seed,
        "max_tokens": request.max_tokens,
        "stop": request.stop,
    })
}

/// The cache key of a completion.
pub(crate) fn completion_key(target: &Target, request: &CompletionRequest) -> String {
    let messages: Vec<_> = request
        .messages
        .iter()
        .map(|m| json!([m.role.as_str(), normalize(&m.content)]))
        .collect();
    let canonical = json!({"params": params(target, request), "messages": messages});
    format!(
        "model:c:{}",
        hex::encode(Sha256::digest(canonical.to_string()))
    )
}

/// Everything but the messages: semantic hits must match it exactly.
pub(crate) fn params_hash(target: &Target, request: &CompletionRequest) -> [u8; 32] {
    Sha256::digest(params(target, request).to_string()).into()
}

/// The prompt as one text, for the semantic index's embedding.
pub(crate) fn prompt_text(request: &CompletionRequest) -> String {
    request
        .messages
        .iter()
        .map(|m| m.content.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The cache key of one embedding input.
pub(crate) fn embedding_key(target: &Target, input: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [target.provider.as_str(), target.model.as_str(), input] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    format!("model:e:{}", hex::encode(hasher.finalize()))
}

/// An embedding as little-endian f32s.
pub(crate) fn encode_vector(vector: &[f32]) -> Bytes {
    Bytes::from(
        vector
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect::<Vec<_>>(),
    )
}

pub(crate) fn decode_vector(bytes: &[u8]) -> Option<Vec<f32>> {
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    fn target(model: &str) -> Target {
        Target {
            alias: "chat".into(),
            provider: "p".into(),
            model: model.into(),
            variant: None,
        }
    }

    #[test]
    fn keys_normalize_whitespace_and_separate_models_and_params() {
        let a = CompletionRequest::new("chat", vec![Message::user("hello   world ")]);
        let b = CompletionRequest::new("other", vec![Message::user(" hello world")]);
        assert_eq!(
            completion_key(&target("m"), &a),
            completion_key(&target("m"), &b)
        );
        assert_ne!(
            completion_key(&target("m"), &a),
            completion_key(&target("n"), &a)
        );
        let seeded = CompletionRequest {
            seed: Some(1),
            ..a.clone()
        };
        assert_ne!(
            completion_key(&target("m"), &a),
            completion_key(&target("m"), &seeded)
        );
        assert_eq!(
            decode_vector(&encode_vector(&[1.5, -2.0])).unwrap(),
            vec![1.5, -2.0]
        );
    }
}

//! The model natively: a deterministic stand-in, so handlers that call
//! models can be unit-tested offline. The answer is the test's scripted
//! reply ([`crate::testing::set_model_reply`]) or, by default, a fixed
//! function of the last user message (`"echo: <message>"`), cut to
//! `max_tokens` words; streams yield it word by word. Embeddings hash
//! words into signed buckets, like the host's builtin model, so texts
//! sharing words are close.

use super::with;
use crate::model::{Chunk, Completion, Error, Request, Role, Usage};

/// Size of the stand-in's embeddings.
const DIMENSIONS: usize = 64;

fn check(request: &Request) -> Result<(), Error> {
    if request.model.is_empty() {
        return Err(Error::InvalidRequest("the model alias is empty".into()));
    }
    if request.messages.is_empty() {
        return Err(Error::InvalidRequest(
            "at least one message is required".into(),
        ));
    }
    if request
        .temperature
        .is_some_and(|t| !(0.0..=2.0).contains(&t))
    {
        return Err(Error::InvalidRequest(
            "temperature must be within 0..=2".into(),
        ));
    }
    if request.stop.len() > 4 {
        return Err(Error::InvalidRequest("at most 4 stop sequences".into()));
    }
    Ok(())
}

fn words(text: &str) -> usize {
    text.split_whitespace().count()
}

pub fn complete(request: &Request) -> Result<Completion, Error> {
    check(request)?;
    let scripted = with(|s| s.model_reply.clone());
    let text = match scripted {
        Some(reply) => reply?,
        None => {
            let last = request
                .messages
                .iter()
                .rev()
                .find(|m| m.role == Role::User)
                .map_or("", |m| m.content.as_str());
            format!("echo: {last}")
        }
    };
    let (text, finish_reason) = match request.max_tokens {
        Some(max) if words(&text) > max as usize => (
            text.split_whitespace()
                .take(max as usize)
                .collect::<Vec<_>>()
                .join(" "),
            "length",
        ),
        _ => (text, "stop"),
    };
    let input: usize = request.messages.iter().map(|m| words(&m.content)).sum();
    Ok(Completion {
        usage: Usage {
            input_tokens: u32::try_from(input).unwrap_or(u32::MAX),
            output_tokens: u32::try_from(words(&text)).unwrap_or(u32::MAX),
            model: "native-stand-in".into(),
            ..Usage::default()
        },
        text,
        finish_reason: finish_reason.into(),
    })
}

/// A stream of the stand-in's answer, word by word.
#[derive(Debug)]
pub struct RawStream {
    chunks: std::vec::IntoIter<Chunk>,
}

impl RawStream {
    pub fn next(&mut self) -> Option<Result<Chunk, Error>> {
        self.chunks.next().map(Ok)
    }
}

pub fn stream(request: &Request) -> Result<RawStream, Error> {
    let completion = complete(request)?;
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut rest = completion.text.as_str();
    // Each chunk is a word with the whitespace before it, so the chunks
    // concatenate to the completion's text.
    while !rest.is_empty() {
        let start = rest.len() - rest.trim_start().len();
        let end = rest[start..]
            .find(char::is_whitespace)
            .map_or(rest.len(), |i| start + i);
        chunks.push(Chunk::Text(rest[..end].to_string()));
        rest = &rest[end..];
    }
    chunks.push(Chunk::End {
        finish_reason: completion.finish_reason,
        usage: completion.usage,
    });
    Ok(RawStream {
        chunks: chunks.into_iter(),
    })
}

pub fn embed(alias: &str, inputs: &[&str]) -> Result<Vec<Vec<f32>>, Error> {
    if alias.is_empty() {
        return Err(Error::InvalidRequest("the model alias is empty".into()));
    }
    Ok(inputs.iter().map(|text| embed_one(text)).collect())
}

fn embed_one(text: &str) -> Vec<f32> {
    let mut v = vec![0.0f32; DIMENSIONS];
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        // FNV-1a of the lowercased word: bucket and sign.
        let hash = word
            .to_lowercase()
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
            });
        let bucket = (hash % DIMENSIONS as u64) as usize;
        v[bucket] += if hash >> 63 == 0 { 1.0 } else { -1.0 };
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

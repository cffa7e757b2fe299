//! The index: one kv entry per document with its text and vector, and a
//! brute-force scan by cosine similarity.

use serde::{Deserialize, Serialize};
use warden_sdk::model;
use warden_sdk::{HttpError, kv};

/// The alias of the embedding model.
pub const ALIAS: &str = "embed";
/// Key prefix of documents.
const PREFIX: &str = "doc:";
/// Documents one search reads at most.
const MAX_SCAN: usize = 1000;

#[derive(Serialize, Deserialize)]
struct Stored {
    text: String,
    vector: Vec<f32>,
}

/// One search result.
#[derive(Debug, Serialize)]
pub struct Hit {
    /// The document's id.
    pub id: String,
    /// Its text.
    pub text: String,
    /// Cosine similarity to the query (1 is the same direction).
    pub score: f32,
}

/// Embeds `docs` (id, text) in one model call and stores them; how many.
pub fn add(docs: &[(&str, &str)]) -> Result<usize, HttpError> {
    let texts: Vec<&str> = docs.iter().map(|(_, text)| *text).collect();
    let vectors = model::embed(ALIAS, &texts)?;
    if vectors.len() != docs.len() {
        return Err(HttpError::new(
            502,
            "bad_embeddings",
            "the model returned a vector count that does not match",
        ));
    }
    for ((id, text), vector) in docs.iter().zip(vectors) {
        let stored = Stored {
            text: (*text).to_string(),
            vector,
        };
        kv::set_json(&format!("{PREFIX}{id}"), &stored)?;
    }
    Ok(docs.len())
}

/// The `k` documents closest to `query`, best first.
pub fn search(query: &str, k: usize) -> Result<Vec<Hit>, HttpError> {
    let query_vector = model::embed(ALIAS, &[query])?
        .into_iter()
        .next()
        .ok_or_else(|| HttpError::new(502, "bad_embeddings", "no vector for the query"))?;
    let mut hits = Vec::new();
    for key in kv::list_all(PREFIX).take(MAX_SCAN) {
        let key = key?;
        let Some(doc) = kv::get_json::<Stored>(&key)? else {
            continue; // deleted since the listing
        };
        hits.push(Hit {
            id: key.trim_start_matches(PREFIX).to_string(),
            score: model::cosine(&query_vector, &doc.vector),
            text: doc.text,
        });
    }
    hits.sort_by(|a, b| b.score.total_cmp(&a.score));
    hits.truncate(k);
    Ok(hits)
}

/// Removes a document; whether it existed.
pub fn remove(id: &str) -> Result<bool, HttpError> {
    Ok(kv::delete(&format!("{PREFIX}{id}"))?)
}

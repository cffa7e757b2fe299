//! Semantic search: documents are embedded with the model capability and
//! stored in kv with their vectors; a query is embedded the same way and
//! answered with the documents closest to it by cosine similarity.
//!
//! Run with: `./scripts/up` from the repo root, then
//!
//! ```text
//! curl -X POST http://acme.localhost:8080/search/docs -d '[
//!   {"id": "pasta", "text": "boil the pasta in salted water for ten minutes"},
//!   {"id": "tyres", "text": "check the tyre pressure of the car every month"},
//!   {"id": "bread", "text": "knead the bread dough and let it rise in a warm place"}]'
//! curl 'http://acme.localhost:8080/search?q=how+long+to+boil+pasta&k=2'
//! curl -X DELETE http://acme.localhost:8080/search/docs/tyres
//! ```
//!
//! | request | answer |
//! | --- | --- |
//! | `POST /docs` `[{"id", "text"}, ...]` (1..=64) | 200 `{"indexed": n}` |
//! | `GET /?q=text&k=n` (k 1..=20, default 3) | 200 `{"results": [{"id", "text", "score"}]}`, best first |
//! | `DELETE /docs/<id>` | 204, or 404 |
//!
//! The embedding model is the tenant's `embed` alias (the host's builtin
//! model by default, which places texts sharing words near each other).
//! Documents live under `doc:<id>` in the tenant's kv; a search reads at
//! most 1,000 of them, which is what this brute-force scan is for.

mod index;

use serde::Deserialize;
use serde_json::json;
use warden_sdk::{HttpError, Request, Response, Router};

/// Documents one `POST` may index.
const MAX_BATCH: usize = 64;
/// Longest document, in bytes.
const MAX_TEXT: usize = 8 * 1024;
/// Longest id, in bytes.
const MAX_ID: usize = 128;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewDoc {
    id: String,
    text: String,
}

fn router() -> Router {
    Router::new()
        .get("/", search)
        .post("/docs", add)
        .delete("/docs/:id", remove)
}

fn add(req: Request) -> Result<Response, HttpError> {
    let docs: Vec<NewDoc> = req.json()?;
    if docs.is_empty() || docs.len() > MAX_BATCH {
        return Err(HttpError::bad_request(format!(
            "send 1 to {MAX_BATCH} documents"
        )));
    }
    for doc in &docs {
        let id_ok = !doc.id.is_empty()
            && doc.id.len() <= MAX_ID
            && doc
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !id_ok {
            return Err(HttpError::bad_request(format!(
                "id {:?}: 1 to {MAX_ID} of [A-Za-z0-9._-]",
                doc.id
            )));
        }
        if doc.text.trim().is_empty() || doc.text.len() > MAX_TEXT {
            return Err(HttpError::bad_request(format!(
                "document {}: text of 1 to {MAX_TEXT} bytes",
                doc.id
            )));
        }
    }
    let pairs: Vec<(&str, &str)> = docs
        .iter()
        .map(|d| (d.id.as_str(), d.text.as_str()))
        .collect();
    let indexed = index::add(&pairs)?;
    Ok(Response::json(200, &json!({ "indexed": indexed })))
}

fn search(req: Request) -> Result<Response, HttpError> {
    let query = req
        .query_param("q")
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| HttpError::bad_request("ask something: ?q=..."))?;
    if query.len() > MAX_TEXT {
        return Err(HttpError::bad_request("the query is too long"));
    }
    let k = match req.query_param("k") {
        None => 3,
        Some(k) => k
            .parse::<usize>()
            .ok()
            .filter(|k| (1..=20).contains(k))
            .ok_or_else(|| HttpError::bad_request("k must be 1 to 20"))?,
    };
    let results = index::search(&query, k)?;
    Ok(Response::json(200, &json!({ "results": results })))
}

fn remove(req: Request) -> Result<Response, HttpError> {
    let id = req.param("id").unwrap_or_default();
    if index::remove(id)? {
        Ok(Response::new(204))
    } else {
        Err(HttpError::not_found(format!("no document {id:?}")))
    }
}

warden_sdk::http_handler!(|req| router().handle(req));

#[cfg(test)]
mod tests;

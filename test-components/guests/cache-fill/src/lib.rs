//! Cache read-through with a slow loader, to test `get-or-lease` single
//! flight: `GET /fill?key=K&sleep_ms=N` runs
//! `cache::get_or_load(K, ttl 60 s, lease 10 s, loader)`. The loader counts
//! its runs in kv (`kv::increment("loads:" + K, 1)`), sleeps N ms on the
//! host clock and returns `value-<count>`. The answer is 200
//! `{"value": "...", "loaded": bool}`, `loaded` telling whether this request
//! ran the loader. Errors are Warden's error shape (400 bad parameters).

use std::time::Duration;

use serde_json::json;
use warden_sdk::{HttpError, Method, Request, Response, cache, kv};

const TTL: Duration = Duration::from_secs(60);
const LEASE: Duration = Duration::from_secs(10);

fn handle(req: Request) -> Result<Response, HttpError> {
    match (req.path().trim_end_matches('/'), req.method()) {
        ("/fill", Method::Get) => fill(&req),
        ("/fill", other) => Err(HttpError::method_not_allowed(other, &["GET"])),
        (path, _) => Err(HttpError::not_found(format!("no route for {path}"))),
    }
}

/// `GET /fill?key=K&sleep_ms=N`.
fn fill(req: &Request) -> Result<Response, HttpError> {
    let key = req
        .query_param("key")
        .ok_or_else(|| HttpError::bad_request("query parameter `key` is required"))?;
    let sleep_ms: u64 = match req.query_param("sleep_ms") {
        None => 0,
        Some(text) => text
            .parse()
            .map_err(|_| HttpError::bad_request(format!("sleep_ms={text:?} is not a number")))?,
    };
    let (value, loaded) = cache::get_or_load_with(&key, TTL, LEASE, || {
        let count = kv::increment(&format!("loads:{key}"), 1)?;
        warden_sdk::sleep(Duration::from_millis(sleep_ms));
        Ok::<_, HttpError>(format!("value-{count}").into_bytes())
    })?;
    let value = String::from_utf8_lossy(&value);
    Ok(Response::json(
        200,
        &json!({ "value": value, "loaded": loaded }),
    ))
}

warden_sdk::http_handler!(handle);

#[cfg(test)]
mod tests {
    use super::*;

    fn get(uri: &str) -> serde_json::Value {
        let response = handle(Request::new(Method::Get, uri)).expect("200");
        response.body_json().expect("json body")
    }

    #[test]
    fn loads_once_then_hits() {
        assert_eq!(
            get("/fill?key=a&sleep_ms=1"),
            json!({"value": "value-1", "loaded": true})
        );
        assert_eq!(
            get("/fill?key=a"),
            json!({"value": "value-1", "loaded": false})
        );
        assert_eq!(
            get("/fill?key=b"),
            json!({"value": "value-1", "loaded": true})
        );
        let status = handle(Request::new(Method::Get, "/fill"))
            .err()
            .map(|e| e.status());
        assert_eq!(status, Some(400));
    }
}

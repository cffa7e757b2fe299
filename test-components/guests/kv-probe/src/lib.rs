//! Drives the `kv` and `cache` capabilities over HTTP, one call per
//! request, so host tests can check them end to end. The key is always the
//! percent-decoded query parameter `key` (a missing one is the empty key,
//! which the host refuses).
//!
//! | request | answer |
//! | --- | --- |
//! | `PUT /kv?key=K`, body = value | 204 |
//! | `GET /kv?key=K` | 200 raw value, or 404 `not_found` |
//! | `DELETE /kv?key=K` | 200 `{"existed": bool}` |
//! | `GET /kv/list?prefix=P&limit=N[&cursor=C]` | 200 `{"keys": [...], "cursor": "..." \| null}` |
//! | `POST /kv/incr?key=K&delta=D` (default 1) | 200 `{"value": n}` |
//! | `POST /kv/cas?key=K`, body `{"expected": null \| "text", "new": "text"}` | 200 `{"swapped": bool}` |
//! | `PUT /cache?key=K&ttl_ms=N` (default 60000), body = value | 204 |
//! | `GET /cache?key=K` | 200 raw value, or 404 `not_found` |
//! | `DELETE /cache?key=K` | 204 |
//!
//! A capability error is `{"error": {"code": "<WIT case, kebab-case>",
//! "message"}}` with 400 for the caller's mistakes (`invalid-key`,
//! `value-too-large`, `not-an-integer`, `overflow`, `invalid-cursor`,
//! `invalid-ttl`), 503 for `unavailable` and 500 for `internal`. A
//! malformed query parameter or body is 400 `bad_request`.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use warden_sdk::{HttpError, Method, Request, Response, cache, kv};

/// Routes by path, then method.
fn handle(req: Request) -> Result<Response, HttpError> {
    let key = req.query_param("key").unwrap_or_default();
    match (req.path().trim_end_matches('/'), req.method()) {
        ("/kv", Method::Put) => {
            kv::set(&key, req.body()).map_err(kv_error)?;
            Ok(Response::new(204))
        }
        ("/kv", Method::Get) => value_or_404(kv::get(&key).map_err(kv_error)?, &key),
        ("/kv", Method::Delete) => {
            let existed = kv::delete(&key).map_err(kv_error)?;
            Ok(Response::json(200, &json!({ "existed": existed })))
        }
        ("/kv", other) => Err(HttpError::method_not_allowed(
            other,
            &["GET", "PUT", "DELETE"],
        )),
        ("/kv/list", Method::Get) => {
            let prefix = req.query_param("prefix").unwrap_or_default();
            let limit = number(&req, "limit")?.unwrap_or(100);
            let cursor = req.query_param("cursor");
            let page = kv::list(&prefix, cursor.as_deref(), limit).map_err(kv_error)?;
            Ok(Response::json(200, &page))
        }
        ("/kv/incr", Method::Post) => {
            let delta = number(&req, "delta")?.unwrap_or(1);
            let value = kv::increment(&key, delta).map_err(kv_error)?;
            Ok(Response::json(200, &json!({ "value": value })))
        }
        ("/kv/cas", Method::Post) => {
            let body: Cas = req.json()?;
            let expected = body.expected.as_deref().map(str::as_bytes);
            let swapped = kv::compare_and_swap(&key, expected, body.new).map_err(kv_error)?;
            Ok(Response::json(200, &json!({ "swapped": swapped })))
        }
        ("/kv/list" | "/kv/incr" | "/kv/cas", other) => {
            let allowed = if req.path().ends_with("list") {
                "GET"
            } else {
                "POST"
            };
            Err(HttpError::method_not_allowed(other, &[allowed]))
        }
        ("/cache", Method::Put) => {
            let ttl = Duration::from_millis(number(&req, "ttl_ms")?.unwrap_or(60_000));
            cache::set(&key, req.body(), ttl).map_err(cache_error)?;
            Ok(Response::new(204))
        }
        ("/cache", Method::Get) => value_or_404(cache::get(&key).map_err(cache_error)?, &key),
        ("/cache", Method::Delete) => {
            cache::delete(&key).map_err(cache_error)?;
            Ok(Response::new(204))
        }
        ("/cache", other) => Err(HttpError::method_not_allowed(
            other,
            &["GET", "PUT", "DELETE"],
        )),
        (path, _) => Err(HttpError::not_found(format!("no route for {path}"))),
    }
}

/// The body of `POST /kv/cas`.
#[derive(Deserialize)]
struct Cas {
    expected: Option<String>,
    new: String,
}

/// 200 with the raw value, or 404.
fn value_or_404(value: Option<Vec<u8>>, key: &str) -> Result<Response, HttpError> {
    match value {
        Some(value) => Ok(Response::new(200)
            .with_header("content-type", "application/octet-stream")
            .with_body(value)),
        None => Err(HttpError::not_found(format!("no value for key {key:?}"))),
    }
}

/// Query parameter `name` parsed as a number, if present.
fn number<T: std::str::FromStr>(req: &Request, name: &str) -> Result<Option<T>, HttpError> {
    req.query_param(name)
        .map(|text| {
            text.parse()
                .map_err(|_| HttpError::bad_request(format!("{name}={text:?} is not a number")))
        })
        .transpose()
}

/// A kv error with its WIT case as code.
fn kv_error(err: kv::Error) -> HttpError {
    let status = match err {
        kv::Error::Unavailable(_) => 503,
        kv::Error::Internal(_) | kv::Error::Json(_) => 500,
        _ => 400,
    };
    HttpError::new(status, err.code(), err.to_string())
}

/// A cache error with its WIT case as code.
fn cache_error(err: cache::Error) -> HttpError {
    let status = match err {
        cache::Error::Unavailable(_) => 503,
        cache::Error::Internal(_) | cache::Error::Json(_) => 500,
        _ => 400,
    };
    HttpError::new(status, err.code(), err.to_string())
}

warden_sdk::http_handler!(handle);

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use warden_sdk::IntoResponse;

    use super::*;

    fn call(req: Request) -> (u16, Vec<u8>) {
        let (status, _, body) = handle(req).into_response().into_parts();
        (status, body)
    }

    fn json(req: Request) -> (u16, Value) {
        let (status, body) = call(req);
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    #[test]
    fn kv_round_trip_with_odd_keys() {
        let put = Request::new(Method::Put, "/kv?key=a%00%7B").with_body("v");
        assert_eq!(call(put).0, 204);
        assert_eq!(
            call(Request::new(Method::Get, "/kv?key=a%00{")),
            (200, b"v".to_vec())
        );
        let (status, body) = json(Request::new(Method::Get, "/kv?key=nope"));
        assert_eq!((status, &body["error"]["code"]), (404, &json!("not_found")));
        let (_, body) = json(Request::new(Method::Delete, "/kv?key=a%00%7B"));
        assert_eq!(body, json!({"existed": true}));
    }

    #[test]
    fn counters_cas_and_errors() {
        let (_, body) = json(Request::new(Method::Post, "/kv/incr?key=n&delta=5"));
        assert_eq!(body, json!({"value": 5}));
        let cas = |body: &str| {
            json(Request::new(Method::Post, "/kv/cas?key=c").with_body(body.to_owned())).1
        };
        assert_eq!(
            cas(r#"{"expected": null, "new": "a"}"#),
            json!({"swapped": true})
        );
        assert_eq!(
            cas(r#"{"expected": null, "new": "b"}"#),
            json!({"swapped": false})
        );
        assert_eq!(
            cas(r#"{"expected": "a", "new": "b"}"#),
            json!({"swapped": true})
        );
        let (status, body) = json(Request::new(Method::Post, "/kv/incr?key=c"));
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &json!("not-an-integer"))
        );
        let (status, body) = json(Request::new(Method::Get, "/kv"));
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &json!("invalid-key"))
        );
        let (status, _) = json(Request::new(Method::Post, "/kv/incr?key=n&delta=x"));
        assert_eq!(status, 400);
    }

    #[test]
    fn list_pages() {
        for key in ["p:1", "p:2", "p:3"] {
            kv::set(key, "v").expect("set");
        }
        let (_, first) = json(Request::new(Method::Get, "/kv/list?prefix=p%3A&limit=2"));
        assert_eq!(first["keys"], json!(["p:1", "p:2"]));
        let cursor = first["cursor"].as_str().unwrap_or_default().to_owned();
        let (_, rest) = json(Request::new(
            Method::Get,
            &format!("/kv/list?prefix=p:&limit=2&cursor={cursor}"),
        ));
        assert_eq!(rest, json!({"keys": ["p:3"], "cursor": null}));
        let (status, body) = json(Request::new(Method::Get, "/kv/list?prefix=p:&cursor=zz"));
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &json!("invalid-cursor"))
        );
    }

    #[test]
    fn cache_round_trip() {
        let put = Request::new(Method::Put, "/cache?key=k&ttl_ms=60000").with_body("v");
        assert_eq!(call(put).0, 204);
        assert_eq!(
            call(Request::new(Method::Get, "/cache?key=k")),
            (200, b"v".to_vec())
        );
        let zero_ttl = Request::new(Method::Put, "/cache?key=k&ttl_ms=0").with_body("v");
        let (status, body) = json(zero_ttl);
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &json!("invalid-ttl"))
        );
        assert_eq!(call(Request::new(Method::Post, "/cache?key=k")).0, 405);
        assert_eq!(call(Request::new(Method::Get, "/elsewhere")).0, 404);
    }
}

//! Runs one rate-limit check with the quota from the query:
//! `POST /rl?key=K&count=C&period_ms=P&burst=B&cost=N` (`burst` defaults to
//! `count`, `cost` to 1) answers 200 with the decision,
//! `{"allowed", "limit", "remaining", "retry_after_ms", "reset_after_ms"}`.
//! A missing or malformed parameter is 400 `bad_request`; a capability
//! error is `{"error": {"code": "<WIT case, kebab-case>"}}` with 400
//! (`invalid-key`, `invalid-quota`), 503 (`unavailable`) or 500.

use std::time::Duration;

use warden_sdk::rate_limit::{self, Quota};
use warden_sdk::{HttpError, Method, Request, Response};

fn handle(req: Request) -> Result<Response, HttpError> {
    match (req.path().trim_end_matches('/'), req.method()) {
        ("/rl", Method::Post) => check(&req),
        ("/rl", other) => Err(HttpError::method_not_allowed(other, &["POST"])),
        (path, _) => Err(HttpError::not_found(format!("no route for {path}"))),
    }
}

/// `POST /rl?...`.
fn check(req: &Request) -> Result<Response, HttpError> {
    let key = req.query_param("key").unwrap_or_default();
    let count: u32 = required(req, "count")?;
    let period_ms: u64 = required(req, "period_ms")?;
    let burst: u32 = optional(req, "burst")?.unwrap_or(count);
    let cost: u32 = optional(req, "cost")?.unwrap_or(1);
    let quota = Quota::new(count, Duration::from_millis(period_ms)).with_burst(burst);
    let decision = rate_limit::check(&key, &quota, cost).map_err(|err| {
        let status = match err {
            rate_limit::Error::Unavailable(_) => 503,
            rate_limit::Error::Internal(_) => 500,
            _ => 400,
        };
        HttpError::new(status, err.code(), err.to_string())
    })?;
    Ok(Response::json(200, &decision))
}

fn optional<T: std::str::FromStr>(req: &Request, name: &str) -> Result<Option<T>, HttpError> {
    req.query_param(name)
        .map(|text| {
            text.parse()
                .map_err(|_| HttpError::bad_request(format!("{name}={text:?} is not a number")))
        })
        .transpose()
}

fn required<T: std::str::FromStr>(req: &Request, name: &str) -> Result<T, HttpError> {
    optional(req, name)?
        .ok_or_else(|| HttpError::bad_request(format!("query parameter `{name}` is required")))
}

warden_sdk::http_handler!(handle);

#[cfg(test)]
mod tests {
    use serde_json::json;
    use warden_sdk::IntoResponse;

    use super::*;

    fn post(uri: &str) -> (u16, serde_json::Value) {
        let response = handle(Request::new(Method::Post, uri)).into_response();
        let body = response.body_json().unwrap_or(serde_json::Value::Null);
        (response.status(), body)
    }

    #[test]
    fn spends_the_burst_then_denies() {
        let uri = "/rl?key=k&count=1&period_ms=60000&burst=2";
        assert_eq!(post(uri).1["remaining"], json!(1));
        assert_eq!(post(uri).1["allowed"], json!(true));
        let (status, denied) = post(uri);
        assert_eq!((status, &denied["allowed"]), (200, &json!(false)));
        assert!(denied["retry_after_ms"].as_u64() > Some(0));
        let (status, body) = post("/rl?key=k&count=0&period_ms=1000");
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &json!("invalid-quota"))
        );
        assert_eq!(post("/rl?key=k").0, 400);
    }
}

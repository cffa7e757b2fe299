//! Sleeps without burning CPU: `GET /sleep?ms=N` waits N ms on the host's
//! monotonic clock (`warden_sdk::sleep`), then answers 200 `slept N`. With
//! a CPU deadline far below N the request must still succeed.

use std::time::Duration;

use warden_sdk::{HttpError, Method, Request, Response};

fn handle(req: Request) -> Result<Response, HttpError> {
    match (req.path().trim_end_matches('/'), req.method()) {
        ("/sleep", Method::Get) => {
            let ms: u64 = req
                .query_param("ms")
                .and_then(|text| text.parse().ok())
                .ok_or_else(|| HttpError::bad_request("query parameter `ms` must be a number"))?;
            warden_sdk::sleep(Duration::from_millis(ms));
            Ok(Response::text(200, format!("slept {ms}")))
        }
        ("/sleep", other) => Err(HttpError::method_not_allowed(other, &["GET"])),
        (path, _) => Err(HttpError::not_found(format!("no route for {path}"))),
    }
}

warden_sdk::http_handler!(handle);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeps_and_reports() {
        let response = handle(Request::new(Method::Get, "/sleep?ms=5")).expect("200");
        assert_eq!(response.body(), b"slept 5");
        let bad = handle(Request::new(Method::Get, "/sleep?ms=soon")).err();
        assert_eq!(bad.map(|e| e.status()), Some(400));
    }
}

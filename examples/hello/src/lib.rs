//! The smallest Warden function: `GET` answers with a greeting.
//!
//! Run with: `./scripts/up` from the repo root, then
//! `curl http://acme.localhost:8080/hello`.
//!
//! Build alone with `./scripts/build-examples` (or
//! `cargo build --release --target wasm32-wasip2 -p hello`).

use warden_sdk::{HttpError, Method, Request, Response};

/// Greets `GET`; any other method gets a 405 in Warden's error shape.
fn handle(req: Request) -> Result<Response, HttpError> {
    match req.method() {
        Method::Get => Ok(Response::text(200, "Hello from Warden!\n")),
        other => Err(HttpError::method_not_allowed(other, &["GET"])),
    }
}

warden_sdk::http_handler!(handle);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greets_get() {
        let response = handle(Request::new(Method::Get, "/hello")).expect("GET is answered");
        assert_eq!(response.status(), 200);
        assert_eq!(response.body(), b"Hello from Warden!\n");
    }

    #[test]
    fn refuses_post() {
        let err = handle(Request::new(Method::Post, "/hello")).err();
        assert_eq!(err.map(|e| e.status()), Some(405));
    }
}

//! The smallest Warden function: `GET` answers with a greeting.
//!
//! Run with: `./scripts/up` from the repo root, then
//! `curl http://acme.localhost:8080/hello`.
//!
//! Build alone with `./scripts/build-examples` (or
//! `cargo build --profile guest --target wasm32-wasip2 -p hello`).
//!
//! It answers at the root of wherever it is mounted (`/hello` in
//! `examples/warden.toml`): the router matches the route-relative path, so
//! moving it to another prefix needs no code change. The greeting is an
//! `http::Response`, to show that handlers written against the `http` crate
//! work as they are.

use http::header::{CONTENT_TYPE, HeaderValue};
use warden_sdk::{Request, Router};

const GREETING: &str = "Hello from Warden!\n";

/// `GET` on any path under the mount point: the greeting. Other methods
/// get a 405 (with `allow: GET`) from the router, in Warden's error shape.
fn router() -> Router {
    Router::new().get("/*rest", greet)
}

fn greet(_req: Request) -> http::Response<&'static str> {
    let mut response = http::Response::new(GREETING);
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

warden_sdk::http_handler!(|req| router().handle(req));

#[cfg(test)]
mod tests {
    use warden_sdk::{Method, ROUTE_PREFIX_HEADER, Response};

    use super::*;

    /// The request as the gateway forwards it: mounted at `/hello`.
    fn call(method: Method, path: &str) -> Response {
        router().handle(Request::new(method, path).with_header(ROUTE_PREFIX_HEADER, "/hello"))
    }

    #[test]
    fn greets_get() {
        let response = call(Method::Get, "/hello");
        assert_eq!(response.status(), 200);
        assert_eq!(response.body(), GREETING.as_bytes());
        assert_eq!(
            response.headers().get("content-type"),
            Some("text/plain; charset=utf-8")
        );
    }

    #[test]
    fn refuses_post() {
        let response = call(Method::Post, "/hello");
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers().get("allow"), Some("GET"));
    }

    #[test]
    fn greets_wherever_it_is_mounted() {
        let elsewhere =
            Request::new(Method::Get, "/greet/").with_header(ROUTE_PREFIX_HEADER, "/greet");
        assert_eq!(router().handle(elsewhere).status(), 200);
        assert_eq!(call(Method::Get, "/hello/sub").status(), 200);
    }
}

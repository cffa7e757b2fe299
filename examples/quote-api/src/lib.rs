//! A pricing API on Warden: post a JSON cart, get back line totals,
//! discount, tax and the total.
//!
//! Run with: `./scripts/up` from the repo root, then
//!
//! ```text
//! curl http://acme.localhost:8080/quote/health
//! curl -X POST http://acme.localhost:8080/quote \
//!   -H 'content-type: application/json' \
//!   -d '{"currency":"EUR","region":"FR","discount_code":"WELCOME10",
//!        "items":[{"sku":"book-1","quantity":2,"unit_price_cents":1250}]}'
//! ```
//!
//! Routes, relative to where the function is mounted (`/quote` in
//! `examples/warden.toml`; the gateway's `x-warden-route-prefix` says
//! where, so the code does not): `POST /` prices a cart, `GET /health`
//! reports liveness. A wrong method is a 405 with `allow`, an unknown path
//! a 404, malformed JSON a 400 and a cart that fails validation a 422, all
//! in Warden's error shape `{"error": {"code", "message"}}`.

mod cart;
mod pricing;

use serde_json::json;
use warden_sdk::{HttpError, Request, Response, Router};

use crate::cart::Cart;
use crate::pricing::PricingError;

/// The routes below the mount point.
fn router() -> Router {
    Router::new().post("/", quote).get("/health", |_| {
        Response::json(200, &json!({ "status": "ok" }))
    })
}

/// `POST /` (`/quote` as mounted): parse, validate, price.
fn quote(req: Request) -> Result<Response, HttpError> {
    let cart: Cart = req.json()?;
    let problems = cart.problems();
    if !problems.is_empty() {
        return Err(HttpError::new(
            422,
            "validation_failed",
            problems.join("; "),
        ));
    }
    let quote = pricing::price(&cart).map_err(|err| match err {
        PricingError::UnknownRegion(region) => HttpError::new(
            422,
            "unknown_region",
            format!(
                "no tax rate for region {region:?}; known: {}",
                pricing::known_regions().join(", ")
            ),
        ),
        PricingError::UnknownDiscount(code) => HttpError::new(
            422,
            "unknown_discount_code",
            format!("discount code {code:?} does not exist"),
        ),
    })?;
    Ok(Response::json(200, &quote))
}

warden_sdk::http_handler!(|req| router().handle(req));

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use warden_sdk::{Method, ROUTE_PREFIX_HEADER};

    use super::*;

    /// The request as the gateway forwards it: mounted at `/quote`.
    fn call(method: Method, path: &str, body: &str) -> (u16, Value) {
        let req = Request::new(method, path)
            .with_header(ROUTE_PREFIX_HEADER, "/quote")
            .with_body(body);
        let response = router().handle(req);
        let json = response.body_json().unwrap_or(Value::Null);
        (response.status(), json)
    }

    #[test]
    fn prices_a_cart() {
        let body = r#"{"currency":"EUR","region":"FR","discount_code":"WELCOME10",
            "items":[{"sku":"book-1","quantity":2,"unit_price_cents":1250}]}"#;
        let (status, json) = call(Method::Post, "/quote", body);
        assert_eq!(status, 200, "{json}");
        assert_eq!(json["subtotal_cents"], 2500);
        assert_eq!(json["discount_cents"], 250);
        assert_eq!(json["tax_cents"], 450);
        assert_eq!(json["total_cents"], 2700);
        assert_eq!(json["lines"][0]["line_total_cents"], 2500);
    }

    #[test]
    fn health_answers_get() {
        assert_eq!(call(Method::Get, "/quote/health", "").0, 200);
        assert_eq!(call(Method::Get, "/quote/health/", "").0, 200);
        // Mounted at `/` (no prefix), the same routes serve the bare paths.
        let at_root = router().handle(Request::new(Method::Get, "/health"));
        assert_eq!(at_root.status(), 200);
    }

    #[test]
    fn wrong_method_is_405_with_error_shape() {
        let (status, json) = call(Method::Get, "/quote", "");
        assert_eq!(status, 405);
        assert_eq!(json["error"]["code"], "method_not_allowed");
        assert_eq!(call(Method::Delete, "/quote/health", "").0, 405);
        let response = router()
            .handle(Request::new(Method::Get, "/quote").with_header(ROUTE_PREFIX_HEADER, "/quote"));
        assert_eq!(response.headers().get("allow"), Some("POST"));
    }

    #[test]
    fn unknown_path_is_404() {
        let (status, json) = call(Method::Get, "/quote/nope", "");
        assert_eq!(status, 404);
        assert_eq!(json["error"]["code"], "not_found");
    }

    #[test]
    fn bad_json_is_400_with_a_clear_message() {
        let (status, json) = call(Method::Post, "/quote", "{\"currency\": ");
        assert_eq!(status, 400);
        assert_eq!(json["error"]["code"], "invalid_json");
        let message = json["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("line 1"), "{message}");

        let (status, json) = call(Method::Post, "/quote", r#"{"currency":"EUR"}"#);
        assert_eq!(status, 400);
        assert!(
            json["error"]["message"]
                .to_string()
                .contains("missing field")
        );
    }

    #[test]
    fn invalid_cart_is_422_listing_problems() {
        let body = r#"{"currency":"EUR","region":"FR",
            "items":[{"sku":"a","quantity":-3,"unit_price_cents":100}]}"#;
        let (status, json) = call(Method::Post, "/quote", body);
        assert_eq!(status, 422);
        assert_eq!(json["error"]["code"], "validation_failed");
        assert!(
            json["error"]["message"]
                .to_string()
                .contains("items[0].quantity")
        );
    }

    #[test]
    fn unknown_region_is_422() {
        let body = r#"{"currency":"EUR","region":"ZZ",
            "items":[{"sku":"a","quantity":1,"unit_price_cents":100}]}"#;
        let (status, json) = call(Method::Post, "/quote", body);
        assert_eq!(status, 422);
        assert_eq!(json["error"]["code"], "unknown_region");
    }
}

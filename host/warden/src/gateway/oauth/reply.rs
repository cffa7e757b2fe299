//! How the token-service endpoints answer: JSON (RFC 6749 section 5.1 and
//! 5.2 bodies, never cached), the error's status and challenge, HTML pages
//! (the login form, never framed), and redirects.

use crate::gateway::GatewayBody;
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use serde_json::json;
use warden_plugin_auth::service::ServiceError;

/// The login page's policy: nothing but its own inline style runs or
/// loads, no page may frame it (clickjacking), no `<base>` retargets it.
/// No `form-action`: Chrome applies it to the redirect that follows the
/// form (to the client's `redirect_uri`), which would block the flow.
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'";

fn body(bytes: impl Into<Bytes>) -> GatewayBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// A response with `status`, `content_type` and `bytes`, never stored by a
/// cache (every answer here is about one client, most carry secrets).
pub fn with_type(
    status: StatusCode,
    content_type: &'static str,
    bytes: impl Into<Bytes>,
) -> Response<GatewayBody> {
    let mut response = Response::new(body(bytes));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// A JSON body with `status`.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response<GatewayBody> {
    with_type(status, "application/json", value.to_string())
}

/// A cacheable JSON document (the discovery metadata).
pub fn public_json(value: &serde_json::Value) -> Response<GatewayBody> {
    let mut response = json(StatusCode::OK, value);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response.headers_mut().remove(header::PRAGMA);
    response
}

/// What a client is told about a failure: the rule that failed, never a
/// store's detail (those go to the log).
fn description(error: &ServiceError) -> String {
    match error {
        ServiceError::Unavailable(_) => "the token service is unavailable; retry shortly".into(),
        ServiceError::Internal(_) => "the token service failed".into(),
        other => other.to_string(),
    }
}

/// An RFC 6749 section 5.2 error body with the error's status, its
/// `WWW-Authenticate` challenge (`realm` is the tenant's) and, when
/// throttled, `Retry-After`.
pub fn error(error: &ServiceError, realm: &str) -> Response<GatewayBody> {
    if matches!(
        error,
        ServiceError::Unavailable(_) | ServiceError::Internal(_)
    ) {
        tracing::warn!(%error, "token service endpoint failed");
    }
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = json(
        status,
        &json!({ "error": error.code(), "error_description": description(error) }),
    );
    let headers = response.headers_mut();
    if let Some(challenge) = error
        .www_authenticate(realm)
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        headers.insert(header::WWW_AUTHENTICATE, challenge);
    }
    if let ServiceError::Throttled { retry_after_s } = error {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_s));
    }
    response
}

/// An HTML page (login form, error page) under [`PAGE_CSP`].
pub fn page(status: StatusCode, html: String) -> Response<GatewayBody> {
    let mut response = with_type(status, "text/html; charset=utf-8", html);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// A `303 See Other` to `location` (after a form, the browser follows
/// with GET), or a 500 page when the location is not a header value.
pub fn redirect(location: &str) -> Response<GatewayBody> {
    match HeaderValue::from_str(location) {
        Ok(value) => {
            let mut response = with_type(StatusCode::SEE_OTHER, "text/plain", Bytes::new());
            response.headers_mut().insert(header::LOCATION, value);
            response
        }
        Err(_) => with_type(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain",
            "the redirect location is not valid",
        ),
    }
}

/// The answer to a method an endpoint does not take.
pub fn method_not_allowed(allow: &'static str) -> Response<GatewayBody> {
    let mut response = json(
        StatusCode::METHOD_NOT_ALLOWED,
        &json!({ "error": "invalid_request", "error_description": format!("use {allow}") }),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_status_challenge_and_no_store() {
        let r = error(&ServiceError::InvalidClient, "acme");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            r.headers()[header::WWW_AUTHENTICATE],
            "Basic realm=\"acme\""
        );
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
        let r = error(&ServiceError::Throttled { retry_after_s: 7 }, "acme");
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "7");
        let r = error(
            &ServiceError::Unavailable("redis at 10.0.0.5".into()),
            "acme",
        );
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn pages_cannot_be_framed() {
        let r = page(StatusCode::OK, "<p>x</p>".into());
        assert!(
            r.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .is_ok_and(|v| v.contains("frame-ancestors 'none'"))
        );
        assert_eq!(r.headers()[header::X_FRAME_OPTIONS], "DENY");
    }
}

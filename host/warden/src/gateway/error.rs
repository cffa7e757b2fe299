//! Gateway failures, each mapping itself to a status and a JSON body.

use super::body::GatewayBody;
use crate::runtime::InvokeError;
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use warden_api::ErrorBody;

/// Why the gateway answered instead of a guest.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// No tenant is reachable at this host.
    #[error("no tenant is served at host {0:?}")]
    UnknownHost(String),
    /// The tenant has no function on this path.
    #[error("no function of tenant {tenant:?} serves path {path:?}")]
    RouteNotFound {
        /// The tenant.
        tenant: String,
        /// The requested path.
        path: String,
    },
    /// The function exists but no version is active.
    #[error("function {0:?} has no active version")]
    NoActiveVersion(String),
    /// The request has no usable host.
    #[error("the request has no Host header")]
    MissingHost,
    /// More than one `Host` header (RFC 9112 §3.2: 400).
    #[error("the request has more than one Host header")]
    DuplicateHost,
    /// The `Host` header and the request target's authority disagree.
    #[error("the Host header disagrees with the request's authority")]
    ConflictingHost,
    /// The `Host` header is not visible ASCII.
    #[error("the Host header is not ASCII")]
    InvalidHost,
    /// The body is larger than the function's cap.
    #[error("request body exceeds the limit of {0} bytes")]
    BodyTooLarge(u64),
    /// The node is at its concurrency bound.
    #[error("the node is at capacity; retry shortly")]
    Overloaded,
    /// The memory caps of the requests in flight fill the node's budget.
    #[error("the node's memory budget is in use; retry shortly")]
    MemoryBudget,
    /// The tenant is at its tier's concurrency bound.
    #[error("too many requests in flight for this tenant; retry shortly")]
    TenantOverloaded,
    /// The tenant is over its tier's rate; carries `Retry-After` seconds.
    #[error("rate limit exceeded; retry in {0} s")]
    RateLimited(String),
    /// The rate limiter is unreachable and the tier fails closed.
    #[error("rate limiting is unavailable and this tenant's tier fails closed; retry shortly")]
    LimiterUnavailable,
    /// The request's credentials were refused (401/403, or 503 when a
    /// store the decision needs is down: auth fails closed).
    #[error("{}", auth_message(.0))]
    Auth(warden_plugin_auth::AuthError),
    /// The token is DPoP-bound (`cnf.jkt`) and the request has no valid
    /// proof of its key (RFC 9449 section 7): 401 with a `DPoP` challenge.
    #[error("{}", dpop_message(.0))]
    Dpop(warden_plugin_auth::service::ServiceError, String),
    /// The tenant's keys could not be read for its JWKS.
    #[error("the signing keys are unavailable; retry shortly")]
    KeysUnavailable,
    /// The guest failed.
    #[error(transparent)]
    Invoke(#[from] InvokeError),
}

/// The failed proof check, or that the proof store is down.
fn dpop_message(e: &warden_plugin_auth::service::ServiceError) -> String {
    match e {
        warden_plugin_auth::service::ServiceError::InvalidDpopProof(why) => {
            format!("a valid DPoP proof of the token's key is required ({why})")
        }
        _ => "authentication is unavailable; retry shortly".to_string(),
    }
}

/// What a refused client is told: the kind of refusal and the check that
/// failed (e.g. `expired`), never the token or a claim's value.
fn auth_message(e: &warden_plugin_auth::AuthError) -> String {
    let reason = e.reason().as_str();
    match e.code() {
        "invalid_token" => format!("a valid bearer token is required ({reason})"),
        "insufficient_scope" => "the token lacks a scope this route requires".to_string(),
        "insufficient_user_authentication" => {
            "this route requires a stronger or more recent authentication".to_string()
        }
        _ => "authentication is unavailable; retry shortly".to_string(),
    }
}

impl GatewayError {
    /// Status and stable code.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::UnknownHost(_) => (StatusCode::NOT_FOUND, "unknown_host"),
            Self::RouteNotFound { .. } => (StatusCode::NOT_FOUND, "route_not_found"),
            Self::NoActiveVersion(_) => (StatusCode::SERVICE_UNAVAILABLE, "no_active_version"),
            Self::MissingHost => (StatusCode::BAD_REQUEST, "missing_host"),
            Self::DuplicateHost => (StatusCode::BAD_REQUEST, "duplicate_host"),
            Self::ConflictingHost => (StatusCode::BAD_REQUEST, "conflicting_host"),
            Self::InvalidHost => (StatusCode::BAD_REQUEST, "invalid_host"),
            Self::BodyTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            Self::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            Self::MemoryBudget => (StatusCode::SERVICE_UNAVAILABLE, "memory_budget_exhausted"),
            Self::TenantOverloaded => (StatusCode::SERVICE_UNAVAILABLE, "tenant_overloaded"),
            Self::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Self::LimiterUnavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, "rate_limiter_unavailable")
            }
            Self::Auth(e) => (
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED),
                e.code(),
            ),
            Self::KeysUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "auth_unavailable"),
            Self::Dpop(warden_plugin_auth::service::ServiceError::InvalidDpopProof(_), _) => {
                (StatusCode::UNAUTHORIZED, "invalid_dpop_proof")
            }
            Self::Dpop(..) => (StatusCode::SERVICE_UNAVAILABLE, "auth_unavailable"),
            Self::Invoke(e) => {
                let (status, code) = e.status_and_code();
                (
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    code,
                )
            }
        }
    }

    /// What the public is told. The gateway's own refusals say what the
    /// client can act on (their text holds nothing of the host); a guest's
    /// failure gets its code's generic sentence only.
    pub fn public_message(&self) -> std::borrow::Cow<'static, str> {
        match self {
            Self::Invoke(e) => e.public_message().into(),
            other => other.to_string().into(),
        }
    }

    /// The full detail for the function's log line: the guest's failure
    /// with its trap, backtrace and host error chain; `None` for the
    /// gateway's own refusals, whose message says it all.
    pub fn log_detail(&self) -> Option<String> {
        match self {
            Self::Invoke(e) => Some(e.to_string()),
            _ => None,
        }
    }

    /// The JSON error response; with `debug` (the caller proved it may see
    /// it) the body also carries the detail.
    pub fn to_response(&self, debug: bool) -> Response<GatewayBody> {
        let (status, code) = self.status_and_code();
        let mut body = ErrorBody::new(code, self.public_message());
        if debug && let Some(detail) = self.log_detail() {
            body = body.with_detail(detail);
        }
        let body = body.to_json();
        let mut response = Response::new(
            Full::new(Bytes::from(body))
                .map_err(|never| match never {})
                .boxed_unsync(),
        );
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Self::Auth(e) = self
            && let Some(challenge) = e.www_authenticate()
            && let Ok(value) = HeaderValue::from_str(&challenge)
        {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if let Self::Dpop(e, realm) = self
            && let Some(challenge) = e.www_authenticate(realm)
            && let Ok(value) = HeaderValue::from_str(&challenge)
        {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if let Self::RateLimited(retry_after) = self {
            if let Ok(value) = HeaderValue::from_str(retry_after) {
                headers.insert(header::RETRY_AFTER, value);
            }
        } else if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

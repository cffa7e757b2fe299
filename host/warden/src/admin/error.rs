//! Admin API errors: each maps itself to a status and the JSON error body.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use warden_api::ErrorBody;
use warden_registry::RegistryError;
use warden_runtime::{PrepareError, ValidationError};

/// An admin request failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Missing or wrong bearer token.
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// A scoped admin token lacks the scope, or the route is not its
    /// tenant's.
    #[error("this token may not do that")]
    Forbidden,
    /// The request is malformed.
    #[error("{message}")]
    BadRequest {
        /// Stable code.
        code: &'static str,
        /// Explanation.
        message: String,
    },
    /// The declared body is over the admin API's limit.
    #[error("the request body of {declared} bytes is over the limit of {limit} bytes")]
    BodyTooLarge {
        /// `content-length` as sent.
        declared: u64,
        /// The limit.
        limit: usize,
    },
    /// The uploaded component was refused.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// A registry operation failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A key operation failed.
    #[error(transparent)]
    Keys(#[from] warden_plugin_auth::KeyError),
    /// A token-service operation (users, clients, sessions, admin
    /// tokens) failed.
    #[error(transparent)]
    Service(#[from] warden_plugin_auth::service::ServiceError),
    /// Something broke on the host.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AdminError {
    /// A 400 with `code`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            Self::BodyTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            Self::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            Self::Invalid(e) => (StatusCode::BAD_REQUEST, e.code()),
            Self::Registry(RegistryError::NotFound(_)) => (StatusCode::NOT_FOUND, "not_found"),
            Self::Registry(RegistryError::Conflict(_)) => (StatusCode::CONFLICT, "conflict"),
            Self::Registry(RegistryError::Invalid(_)) => (StatusCode::BAD_REQUEST, "invalid"),
            Self::Keys(e) => key_status_and_code(e),
            Self::Service(e) => (
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
                e.code(),
            ),
            Self::Registry(RegistryError::Storage(_)) | Self::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }
}

fn key_status_and_code(e: &warden_plugin_auth::KeyError) -> (StatusCode, &'static str) {
    use warden_plugin_auth::KeyError as K;
    match e {
        K::WeakSecret { .. } | K::RsaTooSmall { .. } | K::SecretNotAllowed => {
            (StatusCode::BAD_REQUEST, "invalid_key")
        }
        K::NoActiveKey => (StatusCode::CONFLICT, "no_active_key"),
        K::UnknownKid => (StatusCode::NOT_FOUND, "not_found"),
        K::Conflict => (StatusCode::CONFLICT, "conflict"),
        K::Store(_) | K::Kek(_) | K::Crypto(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

impl From<PrepareError> for AdminError {
    fn from(e: PrepareError) -> Self {
        match e {
            PrepareError::Invalid(v) => Self::Invalid(v),
            PrepareError::Host(m) => Self::Internal(m),
        }
    }
}

impl From<tokio::task::JoinError> for AdminError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::Internal(format!("worker failed: {e}"))
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "admin request failed");
        }
        let mut response = (status, Json(ErrorBody::new(code, self.to_string()))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

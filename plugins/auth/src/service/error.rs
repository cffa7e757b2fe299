//! The token service's one error type. Each variant maps itself to the
//! stable code of an RFC 6749 section 5.2 (or RFC 9449 / RFC 7009) error
//! response and an HTTP status, so the host's endpoints render it without
//! knowing why it happened. Messages name the failed rule, never a secret,
//! a token or whether a user exists.

use warden_plugin_core::BackendError;
use warden_plugin_kv::KvError;

use crate::KeyError;

/// Why a token-service call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    /// A parameter is missing, repeated or malformed (`invalid_request`).
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    /// Client authentication failed: unknown client, wrong secret, or a
    /// client of another tenant (`invalid_client`, 401).
    #[error("client authentication failed")]
    InvalidClient,
    /// The code, refresh token or credentials are invalid, expired,
    /// revoked, already used, or were issued to another client
    /// (`invalid_grant`).
    #[error("invalid grant: {0}")]
    InvalidGrant(&'static str),
    /// The client may not use this grant type (`unauthorized_client`).
    #[error("the client may not use this grant type")]
    UnauthorizedClient,
    /// The grant type is not one the service knows
    /// (`unsupported_grant_type`).
    #[error("unsupported grant type")]
    UnsupportedGrantType,
    /// A requested scope is not allowed for the client (`invalid_scope`).
    #[error("a requested scope is not allowed")]
    InvalidScope,
    /// Login refused: wrong password, unknown or disabled user (one answer
    /// for all three), or a wrong second factor (`access_denied`).
    #[error("access denied")]
    AccessDenied,
    /// Too many failed attempts for this user or address; try again after
    /// `retry_after_s` (`access_denied`, 429). Given for unknown users too.
    #[error("too many attempts, retry after {retry_after_s} s")]
    Throttled {
        /// Seconds until the next attempt is looked at.
        retry_after_s: u64,
    },
    /// The `redirect_uri` or `client_id` of an authorization request is
    /// not registered: the host must show an error page and never redirect
    /// (RFC 6749 section 4.1.2.1).
    #[error("redirect_uri or client_id is not registered")]
    InvalidRedirect,
    /// A DPoP proof is missing or fails a check (`invalid_dpop_proof`,
    /// RFC 9449 section 5).
    #[error("invalid DPoP proof: {0}")]
    InvalidDpopProof(&'static str),
    /// A bearer token (admin API token, or the access token of userinfo)
    /// is unknown, expired, revoked or lacks a scope (`invalid_token`, 401).
    #[error("token refused")]
    InvalidToken,
    /// The named object (client, user, session, token) does not exist.
    #[error("not found")]
    NotFound,
    /// The object already exists (e.g. a username taken).
    #[error("already exists")]
    Conflict,
    /// A store the service needs failed or is unreachable: fail closed.
    #[error("token service store unavailable: {0}")]
    Unavailable(String),
    /// Signing or sealing failed.
    #[error("token service failure: {0}")]
    Internal(String),
}

impl ServiceError {
    /// The stable `error` code of the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) | Self::InvalidRedirect => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied | Self::Throttled { .. } => "access_denied",
            Self::InvalidDpopProof(_) => "invalid_dpop_proof",
            Self::InvalidToken => "invalid_token",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::Unavailable(_) => "temporarily_unavailable",
            Self::Internal(_) => "server_error",
        }
    }

    /// The HTTP status the endpoint answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidClient | Self::InvalidToken => 401,
            Self::AccessDenied => 403,
            Self::Throttled { .. } => 429,
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::Unavailable(_) => 503,
            Self::Internal(_) => 500,
            _ => 400,
        }
    }
}

impl ServiceError {
    /// The `WWW-Authenticate` value of a 401, if the answer needs one:
    /// `DPoP` for a refused proof (RFC 9449 section 7.1, with the accepted
    /// algorithms), `Bearer` for a refused token, `Basic` for failed client
    /// authentication (RFC 6749 section 5.2). `realm` is the tenant's.
    pub fn www_authenticate(&self, realm: &str) -> Option<String> {
        let realm: String = realm
            .chars()
            .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\')
            .collect();
        match self {
            Self::InvalidDpopProof(_) => Some(format!(
                "DPoP realm=\"{realm}\", error=\"invalid_dpop_proof\", algs=\"EdDSA ES256 RS256\""
            )),
            Self::InvalidToken => {
                Some(format!("Bearer realm=\"{realm}\", error=\"invalid_token\""))
            }
            Self::InvalidClient => Some(format!("Basic realm=\"{realm}\"")),
            _ => None,
        }
    }
}

impl From<KvError> for ServiceError {
    fn from(error: KvError) -> Self {
        Self::Unavailable(error.to_string())
    }
}

impl From<BackendError> for ServiceError {
    fn from(error: BackendError) -> Self {
        Self::Unavailable(error.to_string())
    }
}

impl From<KeyError> for ServiceError {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::Store(e) => Self::Unavailable(e.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_rfc_6749() {
        assert_eq!(ServiceError::InvalidClient.status(), 401);
        assert_eq!(ServiceError::InvalidGrant("x").code(), "invalid_grant");
        assert_eq!(ServiceError::InvalidRedirect.code(), "invalid_request");
        assert_eq!(
            ServiceError::Throttled { retry_after_s: 2 }.status(),
            429,
            "throttled"
        );
        assert_eq!(
            ServiceError::InvalidDpopProof("x")
                .www_authenticate("acme\"")
                .unwrap(),
            r#"DPoP realm="acme", error="invalid_dpop_proof", algs="EdDSA ES256 RS256""#
        );
        assert_eq!(ServiceError::AccessDenied.www_authenticate("acme"), None);
    }
}

//! Errors at the crate boundary: [`AuthError`] for a refused request (it
//! maps itself to a status, a `WWW-Authenticate` challenge and a stable
//! code), [`KeyError`] for key management, [`ConfigError`] for settings.

use std::sync::Arc;

use warden_plugin_core::BackendError;

use crate::Reason;

/// What kind of refusal, with what the challenge must say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// No token, or a token that is not valid: 401 `invalid_token`.
    InvalidToken(Reason),
    /// Valid token without a required scope: 403 `insufficient_scope`.
    InsufficientScope {
        /// The scopes the route requires, space-separated.
        scope: String,
    },
    /// Valid token whose authentication is too weak or too old for the
    /// route (RFC 9470): 401 `insufficient_user_authentication`.
    InsufficientUserAuthentication {
        /// The `acr` the route requires, if any.
        acr_values: Option<String>,
        /// The largest age of `auth_time` the route accepts, if any.
        max_age: Option<u64>,
    },
    /// A store the decision needs is down: 503, fail closed.
    Unavailable(Reason),
}

/// A refused request. Carries the tenant's realm so it can render its own
/// challenge; never carries the token or any claim value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} ({})", self.code(), self.reason().as_str())]
pub struct AuthError {
    denial: Denial,
    realm: Arc<str>,
}

impl AuthError {
    pub(crate) fn new(denial: Denial, realm: Arc<str>) -> Self {
        Self { denial, realm }
    }

    /// The kind of refusal.
    pub fn denial(&self) -> &Denial {
        &self.denial
    }

    /// The precise cause, for logs and metrics (not for the client).
    pub fn reason(&self) -> Reason {
        match &self.denial {
            Denial::InvalidToken(reason) | Denial::Unavailable(reason) => *reason,
            Denial::InsufficientScope { .. } => Reason::InsufficientScope,
            Denial::InsufficientUserAuthentication { .. } => Reason::StepUpRequired,
        }
    }

    /// The HTTP status the gateway answers with.
    pub fn status(&self) -> u16 {
        match &self.denial {
            Denial::InvalidToken(_) | Denial::InsufficientUserAuthentication { .. } => 401,
            Denial::InsufficientScope { .. } => 403,
            Denial::Unavailable(_) => 503,
        }
    }

    /// The stable error code of the JSON body (and of the challenge's
    /// `error` attribute).
    pub fn code(&self) -> &'static str {
        match &self.denial {
            Denial::InvalidToken(_) => "invalid_token",
            Denial::InsufficientScope { .. } => "insufficient_scope",
            Denial::InsufficientUserAuthentication { .. } => "insufficient_user_authentication",
            Denial::Unavailable(_) => "auth_unavailable",
        }
    }

    /// The `WWW-Authenticate` value (RFC 6750 section 3, RFC 9470 section
    /// 3); `None` for a 503, which is no challenge.
    pub fn www_authenticate(&self) -> Option<String> {
        let mut out = format!("Bearer realm=\"{}\"", quote_safe(&self.realm));
        match &self.denial {
            Denial::Unavailable(_) => return None,
            Denial::InvalidToken(_) => out.push_str(", error=\"invalid_token\""),
            Denial::InsufficientScope { scope } => {
                out.push_str(", error=\"insufficient_scope\"");
                out.push_str(&format!(", scope=\"{}\"", quote_safe(scope)));
            }
            Denial::InsufficientUserAuthentication {
                acr_values,
                max_age,
            } => {
                out.push_str(", error=\"insufficient_user_authentication\"");
                if let Some(acr) = acr_values {
                    out.push_str(&format!(", acr_values=\"{}\"", quote_safe(acr)));
                }
                if let Some(max_age) = max_age {
                    out.push_str(&format!(", max_age={max_age}"));
                }
            }
        }
        Some(out)
    }
}

/// Keeps a quoted-string attribute well formed: printable ASCII without
/// `"` or `\`. Realms and scopes come from operator config, but a header
/// must never be broken by them.
fn quote_safe(text: &str) -> String {
    text.chars()
        .filter(|c| (c.is_ascii_graphic() && *c != '"' && *c != '\\') || *c == ' ')
        .collect()
}

/// Why a key-management call failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// An HS256 secret shorter than 256 bits.
    #[error("HS256 secret is {bits} bits, at least 256 are required")]
    WeakSecret {
        /// Length of the refused secret, in bits.
        bits: usize,
    },
    /// An RSA modulus smaller than 2048 bits.
    #[error("RSA keys need at least 2048 bits, got {bits}")]
    RsaTooSmall {
        /// The requested size.
        bits: usize,
    },
    /// A secret was given for an algorithm that generates its own key.
    #[error("only HS256 keys may be imported from a secret")]
    SecretNotAllowed,
    /// The tenant has no active key to sign with.
    #[error("the tenant has no active signing key")]
    NoActiveKey,
    /// No key with this `kid`.
    #[error("no key with this kid")]
    UnknownKid,
    /// Concurrent updates kept winning; the caller may retry.
    #[error("the key set changed concurrently too many times")]
    Conflict,
    /// The key store failed or is unreachable.
    #[error(transparent)]
    Store(#[from] BackendError),
    /// The key-encryption key could not be loaded or does not open the
    /// stored key set (wrong KEK, or the stored value was tampered with).
    #[error("key-encryption key: {0}")]
    Kek(String),
    /// Generating or encoding a key failed.
    #[error("crypto failure: {0}")]
    Crypto(String),
}

/// Invalid settings; every problem found, at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid auth config: {}", .problems.join("; "))]
pub struct ConfigError {
    /// One sentence per problem.
    pub problems: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(denial: Denial) -> AuthError {
        AuthError::new(denial, Arc::from("acme"))
    }

    #[test]
    fn challenges_follow_rfc_6750_and_9470() {
        let e = error(Denial::InvalidToken(Reason::Expired));
        assert_eq!((e.status(), e.code()), (401, "invalid_token"));
        assert_eq!(
            e.www_authenticate().unwrap(),
            r#"Bearer realm="acme", error="invalid_token""#
        );
        let e = error(Denial::InsufficientScope {
            scope: "orders:write \"x".into(),
        });
        assert_eq!(e.status(), 403);
        assert_eq!(
            e.www_authenticate().unwrap(),
            r#"Bearer realm="acme", error="insufficient_scope", scope="orders:write x""#
        );
        let e = error(Denial::InsufficientUserAuthentication {
            acr_values: Some("mfa".into()),
            max_age: Some(300),
        });
        assert_eq!((e.status(), e.reason()), (401, Reason::StepUpRequired));
        assert_eq!(
            e.www_authenticate().unwrap(),
            r#"Bearer realm="acme", error="insufficient_user_authentication", acr_values="mfa", max_age=300"#
        );
        let e = error(Denial::Unavailable(Reason::StoreUnavailable));
        assert_eq!((e.status(), e.www_authenticate()), (503, None));
    }
}

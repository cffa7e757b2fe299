//! Step: authentication. The gateway verifies credentials before any guest
//! runs and hands the function a verified principal (the `auth` interface),
//! never the raw token: unless the route says `forward_token = true`, the
//! `Authorization` header is removed before the guest sees the request.
//!
//! [`TokenAuth`] binds the auth plugin's verifier (strict JWT validation,
//! scopes, step-up, replay) to the route's [`AuthPlan`](super::AuthPlan);
//! [`Anonymous`] admits everything (for tests of the other steps).

use super::GatewayError;
use super::routes::RouteTarget;
use crate::metrics::AuthOutcome;
use async_trait::async_trait;
use http::{HeaderMap, Method, header};
use std::sync::Arc;
use warden_plugin_auth::service::{ServiceError, TokenService};
use warden_plugin_auth::{VerifiedPrincipal, Verifier, unix_now};
use warden_runtime::Principal;

/// Decides who a request runs for, or refuses it.
#[async_trait]
pub trait Authenticate: Send + Sync + 'static {
    /// The verified principal for a request to `target` (`None`: the route
    /// is public and the request anonymous), or the refusal. May remove
    /// credentials from `headers` that the guest must not see.
    async fn authenticate(
        &self,
        target: &RouteTarget,
        method: &Method,
        path: &str,
        headers: &mut HeaderMap,
    ) -> Result<Option<Principal>, GatewayError>;
}

/// Every route is public: no principal, nothing refused, nothing removed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Anonymous;

#[async_trait]
impl Authenticate for Anonymous {
    async fn authenticate(
        &self,
        _target: &RouteTarget,
        _method: &Method,
        _path: &str,
        _headers: &mut HeaderMap,
    ) -> Result<Option<Principal>, GatewayError> {
        Ok(None)
    }
}

/// Bearer tokens checked by the auth plugin against the route's policy;
/// with a DPoP verifier, a token bound to a key (`cnf.jkt`) also needs a
/// valid `DPoP` proof of that key for this method and URL on every
/// request (RFC 9449 section 7), whichever scheme it is sent with: a stolen
/// bound token is worthless without the key.
#[derive(Debug, Clone)]
pub struct TokenAuth {
    verifier: Arc<Verifier>,
    dpop: Option<Arc<TokenService>>,
}

impl TokenAuth {
    /// Auth through `verifier` (the node's one; the reloader keeps its
    /// tenant settings current).
    pub fn new(verifier: Arc<Verifier>) -> Self {
        Self {
            verifier,
            dpop: None,
        }
    }

    /// Checks DPoP proofs of bound tokens with `service`'s verifier (proof
    /// ids shared across nodes).
    pub fn with_dpop(mut self, service: Arc<TokenService>) -> Self {
        self.dpop = Some(service);
        self
    }
}

/// The `Authorization` value as the verifier reads it (`DPoP <token>`, the
/// scheme of bound tokens, is read as `Bearer <token>`), and the token.
fn bearer_form(value: Option<&str>) -> (Option<std::borrow::Cow<'_, str>>, Option<&str>) {
    let Some(value) = value else {
        return (None, None);
    };
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("dpop") => (
            Some(std::borrow::Cow::Owned(format!("Bearer {token}"))),
            Some(token.trim()),
        ),
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            (Some(std::borrow::Cow::Borrowed(value)), Some(token.trim()))
        }
        _ => (Some(std::borrow::Cow::Borrowed(value)), None),
    }
}

/// The single `DPoP` header, if any (several, or not ASCII: a failed proof).
fn dpop_header(headers: &HeaderMap) -> Result<Option<&str>, ServiceError> {
    let mut values = headers.get_all("dpop").iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(_), Some(_)) => Err(ServiceError::InvalidDpopProof("more than one DPoP header")),
        (Some(v), None) => v
            .to_str()
            .map(Some)
            .map_err(|_| ServiceError::InvalidDpopProof("the DPoP header is not ASCII")),
    }
}

/// What an `Authorization` header gives the verifier: the value, or a
/// stand-in that fails as "not a bearer token" when there are several
/// headers or the value is not visible ASCII (never guess which one).
fn authorization(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let first = values.next()?;
    if values.next().is_some() {
        return Some("");
    }
    Some(first.to_str().unwrap_or(""))
}

#[async_trait]
impl Authenticate for TokenAuth {
    async fn authenticate(
        &self,
        target: &RouteTarget,
        method: &Method,
        path: &str,
        headers: &mut HeaderMap,
    ) -> Result<Option<Principal>, GatewayError> {
        let Some(policy) = target.auth.policy(method.as_str(), path) else {
            return Ok(None);
        };
        let now = unix_now();
        let (value, token) = bearer_form(authorization(headers));
        let decision = self
            .verifier
            .authorize(&target.tenant, value.as_deref(), policy, now)
            .await;
        let bound = match (&decision, &self.dpop, token) {
            (Ok(Some(verified)), Some(service), Some(token)) if verified.dpop_jkt.is_some() => {
                let url = format!(
                    "{}://{}{path}",
                    target.public_scheme,
                    headers
                        .get(header::HOST)
                        .and_then(|h| h.to_str().ok())
                        .unwrap_or_default()
                );
                let checked = match dpop_header(headers) {
                    Ok(proof) => {
                        service
                            .dpop()
                            .check_request(
                                &target.tenant,
                                verified.dpop_jkt.as_deref(),
                                token,
                                proof,
                                method.as_str(),
                                &url,
                                now,
                            )
                            .await
                    }
                    Err(e) => Err(e),
                };
                Some(checked)
            }
            (Ok(Some(verified)), None, _) if verified.dpop_jkt.is_some() => Some(Err(
                ServiceError::InvalidDpopProof("this node cannot check DPoP proofs"),
            )),
            _ => None,
        };
        if !policy.forward_token {
            headers.remove(header::AUTHORIZATION);
        }
        headers.remove("dpop");
        if let Some(Err(e)) = bound {
            target.metrics.record_auth(AuthOutcome::Refused("dpop"));
            return Err(GatewayError::Dpop(e, target.tenant.to_string()));
        }
        match decision {
            Ok(Some(verified)) => {
                target.metrics.record_auth(AuthOutcome::Allowed);
                Ok(Some(principal(verified)))
            }
            Ok(None) => {
                target.metrics.record_auth(AuthOutcome::Anonymous);
                Ok(None)
            }
            Err(refused) => {
                target
                    .metrics
                    .record_auth(AuthOutcome::Refused(refused.reason().as_str()));
                Err(GatewayError::Auth(refused))
            }
        }
    }
}

/// What the guest may know of a verified token.
fn principal(verified: VerifiedPrincipal) -> Principal {
    Principal {
        subject: verified.subject,
        tenant: verified.tenant.as_str().to_string(),
        scopes: verified.scopes,
        claims: verified.claims,
        auth_time: verified.auth_time,
        methods: verified.amr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::routes::tests::target;

    #[tokio::test]
    async fn anonymous_admits_without_a_principal_even_with_a_token() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "Bearer x".parse().expect("value"));
        let principal = Anonymous
            .authenticate(&target(None), &Method::GET, "/", &mut headers)
            .await
            .expect("admitted");
        assert_eq!(principal, None);
        assert!(headers.contains_key(header::AUTHORIZATION));
    }

    #[test]
    fn several_or_non_ascii_authorization_headers_are_no_token_to_guess_from() {
        let mut headers = HeaderMap::new();
        assert_eq!(authorization(&headers), None);
        headers.append(header::AUTHORIZATION, "Bearer a".parse().expect("value"));
        assert_eq!(authorization(&headers), Some("Bearer a"));
        headers.append(header::AUTHORIZATION, "Bearer b".parse().expect("value"));
        assert_eq!(authorization(&headers), Some(""));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            http::HeaderValue::from_bytes(b"Bearer \xff").expect("value"),
        );
        assert_eq!(authorization(&headers), Some(""));
    }
}

//! The authorization endpoint's logic: validating a request (client,
//! exact `redirect_uri`, `state`, PKCE S256, scopes) and issuing a code
//! after login; and redeeming a code at the token endpoint (single use,
//! short-lived, bound to client, redirect URI and verifier).
//!
//! A code is stored as its SHA-256 with everything its tokens will say and
//! the id of the refresh family it will start. It is marked used with a
//! compare-and-swap, so of two redemptions (on any nodes) one wins; the
//! other, and any later one, revokes that family and with it every token
//! the code issued (RFC 6749 section 4.1.2).

use serde::{Deserialize, Serialize};
use warden_plugin_core::Tenant;

use super::clients::{ClientInfo, GrantType};
use super::issue::Authentication;
use super::store::Store;
use super::{ServiceError, TokenService, pkce, secrets};

const KIND: &str = "code";
/// Longest `state` and `nonce` accepted.
const MAX_PARAM_LEN: usize = 512;

/// The authorization request's parameters, as the host parsed them from
/// the query string (repeated parameters must be refused by the host).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeRequest {
    /// Must be `code`.
    pub response_type: Option<String>,
    /// `client_id`.
    pub client_id: Option<String>,
    /// Required and matched exactly.
    pub redirect_uri: Option<String>,
    /// Space-separated scopes.
    pub scope: Option<String>,
    /// Required; returned unchanged with the code.
    pub state: Option<String>,
    /// PKCE challenge (required).
    pub code_challenge: Option<String>,
    /// Must be `S256`.
    pub code_challenge_method: Option<String>,
    /// OIDC `nonce`, echoed in the ID token.
    pub nonce: Option<String>,
    /// Space-separated `acr` values the client asks for (step-up).
    pub acr_values: Option<String>,
    /// Largest age of the login, in seconds (step-up).
    pub max_age: Option<u64>,
}

/// A request that passed validation: what the login page works on and
/// what [`TokenService::issue_code`] takes. Keep it on the server (or
/// validate the original query again after login): one taken back from the
/// browser could name any redirect URI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatedAuthorize {
    /// The client.
    pub client_id: String,
    /// Its display name, for the login page.
    pub client_name: String,
    /// The exact registered redirect URI.
    pub redirect_uri: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// `state`, returned with the code.
    pub state: String,
    /// PKCE S256 challenge.
    pub code_challenge: String,
    /// OIDC nonce.
    pub nonce: Option<String>,
    /// Requested `acr` values.
    pub acr_values: Vec<String>,
    /// Requested `max_age`.
    pub max_age: Option<u64>,
}

impl ValidatedAuthorize {
    /// Whether `auth` meets the request's `acr_values` and `max_age`; if
    /// not, the login page must ask again (password, then TOTP).
    pub fn satisfied_by(&self, auth: &Authentication, now: u64) -> bool {
        let acr_ok = self.acr_values.is_empty() || self.acr_values.contains(&auth.acr);
        let age_ok = self
            .max_age
            .is_none_or(|max| now.saturating_sub(auth.auth_time) <= max);
        acr_ok && age_ok
    }

    /// Where to send the browser with an error (RFC 6749 section
    /// 4.1.2.1): only ever the validated, registered redirect URI.
    pub fn error_location(&self, error: &ServiceError) -> String {
        redirect_with(
            &self.redirect_uri,
            &[("error", error.code()), ("state", &self.state)],
        )
    }
}

/// How an authorization request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizeError {
    /// `client_id` or `redirect_uri` is not registered: show an error page,
    /// never redirect (no open redirector).
    #[error(transparent)]
    NoRedirect(ServiceError),
    /// Anything else: redirect the browser to `location` (the registered
    /// URI with `error` and `state`).
    #[error("{error}")]
    Redirect {
        /// The refusal.
        error: ServiceError,
        /// Where to send the browser.
        location: String,
    },
}

/// The code, and where to send the browser.
#[derive(Clone)]
pub struct AuthorizeResponse {
    /// `redirect_uri?code=...&state=...`.
    pub location: String,
}

impl std::fmt::Debug for AuthorizeResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthorizeResponse([redacted])")
    }
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodeRecord {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) auth: Authentication,
    pub(crate) nonce: Option<String>,
    challenge: String,
    expires_at: u64,
    used: bool,
    /// The refresh family this code starts (revoked on a second use).
    pub(crate) family: String,
}

/// Appends query parameters to `base` (which may carry a query of its own).
fn redirect_with(base: &str, params: &[(&str, &str)]) -> String {
    let mut out = base.to_owned();
    let mut sep = if base.contains('?') { '&' } else { '?' };
    for (name, value) in params {
        out.push(sep);
        out.push_str(name);
        out.push('=');
        out.push_str(&percent_encode(value));
        sep = '&';
    }
    out
}

/// RFC 3986 percent-encoding of everything but unreserved characters.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn bounded(value: Option<&str>, what: &'static str) -> Result<Option<String>, ServiceError> {
    match value {
        Some(v) if v.len() > MAX_PARAM_LEN || v.chars().any(char::is_control) => {
            Err(ServiceError::InvalidRequest(what))
        }
        other => Ok(other.map(str::to_owned)),
    }
}

impl TokenService {
    /// Validates an authorization request. The client and the exact
    /// redirect URI are checked first; until both pass, errors are
    /// [`AuthorizeError::NoRedirect`].
    pub async fn validate_authorize(
        &self,
        tenant: &Tenant,
        request: &AuthorizeRequest,
    ) -> Result<ValidatedAuthorize, AuthorizeError> {
        let no_redirect = AuthorizeError::NoRedirect;
        let client_id = request
            .client_id
            .as_deref()
            .ok_or(no_redirect(ServiceError::InvalidRedirect))?;
        let client: ClientInfo = match self.client(tenant, client_id).await {
            Ok(client) => client,
            Err(ServiceError::NotFound) => return Err(no_redirect(ServiceError::InvalidRedirect)),
            Err(e) => return Err(no_redirect(e)),
        };
        let redirect_uri = request
            .redirect_uri
            .as_deref()
            .filter(|uri| client.redirect_allowed(uri))
            .ok_or(no_redirect(ServiceError::InvalidRedirect))?;
        let state_or_empty = request.state.clone().unwrap_or_default();
        let fail = |error: ServiceError| {
            let params: Vec<(&str, &str)> = if state_or_empty.is_empty() {
                vec![("error", error.code())]
            } else {
                vec![("error", error.code()), ("state", &state_or_empty)]
            };
            AuthorizeError::Redirect {
                location: redirect_with(redirect_uri, &params),
                error,
            }
        };
        let state = bounded(request.state.as_deref(), "state is too long")
            .map_err(&fail)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| fail(ServiceError::InvalidRequest("state is required")))?;
        if request.response_type.as_deref() != Some("code") {
            return Err(fail(ServiceError::InvalidRequest(
                "response_type must be code",
            )));
        }
        if !client.allows(GrantType::AuthorizationCode) {
            return Err(fail(ServiceError::UnauthorizedClient));
        }
        let code_challenge = pkce::check_challenge(
            request.code_challenge.as_deref(),
            request.code_challenge_method.as_deref(),
        )
        .map_err(&fail)?;
        let scopes = client.scopes_for(request.scope.as_deref()).map_err(&fail)?;
        let nonce = bounded(request.nonce.as_deref(), "nonce is too long").map_err(&fail)?;
        Ok(ValidatedAuthorize {
            client_id: client.client_id.clone(),
            client_name: client.name.clone(),
            redirect_uri: redirect_uri.to_owned(),
            scopes,
            state,
            code_challenge,
            nonce,
            acr_values: request
                .acr_values
                .as_deref()
                .map(|v| {
                    v.split(' ')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            max_age: request.max_age,
        })
    }

    /// Issues a code for a validated request once the user logged in; the
    /// login must satisfy the request's `acr_values` and `max_age`
    /// (`access_denied` otherwise: ask for the second factor).
    pub async fn issue_code(
        &self,
        tenant: &Tenant,
        request: &ValidatedAuthorize,
        auth: &Authentication,
        now: u64,
    ) -> Result<AuthorizeResponse, ServiceError> {
        if !request.satisfied_by(auth, now) {
            return Err(ServiceError::AccessDenied);
        }
        let code = secrets::token("wac_")?;
        let record = CodeRecord {
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            scopes: request.scopes.clone(),
            auth: auth.clone(),
            nonce: request.nonce.clone(),
            challenge: request.code_challenge.clone(),
            expires_at: now.saturating_add(self.settings.code_ttl_s),
            used: false,
            family: secrets::id()?,
        };
        self.store
            .put(
                tenant,
                &Store::key(KIND, &secrets::fingerprint(&code)),
                &record,
            )
            .await?;
        Ok(AuthorizeResponse {
            location: redirect_with(
                &request.redirect_uri,
                &[("code", &code), ("state", &request.state)],
            ),
        })
    }

    /// Redeems a code for `client` (token endpoint). Every check passes or
    /// the grant is refused; a code already used revokes its family.
    pub(crate) async fn redeem_code(
        &self,
        tenant: &Tenant,
        client: &ClientInfo,
        code: Option<&str>,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
        now: u64,
    ) -> Result<CodeRecord, ServiceError> {
        let code = code.ok_or(ServiceError::InvalidRequest("code is required"))?;
        let key = Store::key(KIND, &secrets::fingerprint(code));
        let found = self
            .store
            .get::<CodeRecord>(tenant, &key)
            .await?
            .ok_or(ServiceError::InvalidGrant("unknown code"))?;
        let record = found.value.clone();
        if record.client_id != client.client_id {
            return Err(ServiceError::InvalidGrant(
                "code was issued to another client",
            ));
        }
        if record.used {
            self.revoke_family(tenant, &record.family, now).await?;
            return Err(ServiceError::InvalidGrant("code already used"));
        }
        if now >= record.expires_at {
            return Err(ServiceError::InvalidGrant("code expired"));
        }
        if redirect_uri != Some(record.redirect_uri.as_str()) {
            return Err(ServiceError::InvalidGrant(
                "redirect_uri differs from the request's",
            ));
        }
        pkce::verify(verifier, &record.challenge)?;
        let mut used = record.clone();
        used.used = true;
        if !self
            .store
            .swap(tenant, &key, Some(&found.bytes), &used)
            .await?
        {
            // Another redemption won the race: this is a second use.
            self.revoke_family(tenant, &record.family, now).await?;
            return Err(ServiceError::InvalidGrant("code already used"));
        }
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_keep_the_registered_query_and_encode_values() {
        assert_eq!(
            redirect_with(
                "https://a.example/cb?x=1",
                &[("code", "a b"), ("state", "s&t")]
            ),
            "https://a.example/cb?x=1&code=a%20b&state=s%26t"
        );
        assert_eq!(
            redirect_with("https://a/cb", &[("error", "e")]),
            "https://a/cb?error=e"
        );
    }
}

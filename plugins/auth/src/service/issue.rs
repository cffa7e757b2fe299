//! The token endpoint (RFC 6749 section 3.2) and what it signs: access
//! tokens as RFC 9068 JWTs (`typ: at+jwt`) with the tenant's active key,
//! ID tokens (OIDC Core section 2) for clients granted `openid`, and the
//! `client_credentials` grant for machines.
//!
//! Access-token claims: `iss`, `sub`, `aud`, `exp`, `iat`, `jti`,
//! `client_id`, `scope`, and for users `acr`, `amr`, `auth_time` and `fid`
//! (the refresh family, checked against the revocation list by the
//! gateway); `cnf.jkt` when bound to a DPoP key.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::clients::{ClientAuth, ClientInfo, ClientKind, GrantType};
use super::{Issuer, ServiceError, TokenService, secrets};

/// A completed login: who, how, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authentication {
    /// The user (`sub`).
    pub user_id: String,
    /// `acr`: the password or MFA level of the service's settings.
    pub acr: String,
    /// `amr` (RFC 8176): `["pwd"]` or `["pwd", "otp"]`.
    pub amr: Vec<String>,
    /// `auth_time`, seconds since the epoch.
    pub auth_time: u64,
}

/// A token request, as the host parsed the form body and the client's
/// credentials. `Debug` redacts every secret.
#[derive(Clone, Default)]
pub struct TokenRequest<'a> {
    /// `grant_type`.
    pub grant_type: &'a str,
    /// `code` (authorization_code).
    pub code: Option<&'a str>,
    /// `redirect_uri` (authorization_code): must equal the request's.
    pub redirect_uri: Option<&'a str>,
    /// `code_verifier` (PKCE).
    pub code_verifier: Option<&'a str>,
    /// `refresh_token` (refresh_token).
    pub refresh_token: Option<&'a str>,
    /// `scope`: narrower than granted, or absent.
    pub scope: Option<&'a str>,
    /// `client_id`.
    pub client_id: &'a str,
    /// `client_secret` (confidential clients).
    pub client_secret: Option<&'a str>,
    /// The `jkt` of a DPoP proof the host verified for this request with
    /// [`super::DpopVerifier::verify_proof`] (htm `POST`, htu the token
    /// endpoint); binds the tokens to that key.
    pub dpop_jkt: Option<String>,
}

impl std::fmt::Debug for TokenRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("grant_type", &self.grant_type)
            .field("client_id", &self.client_id)
            .field("scope", &self.scope)
            .field("dpop_jkt", &self.dpop_jkt)
            .finish_non_exhaustive()
    }
}

/// The token endpoint's answer (RFC 6749 section 5.1). `Debug` redacts
/// the tokens.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The JWT.
    pub access_token: String,
    /// `Bearer`, or `DPoP` for a bound token.
    pub token_type: String,
    /// Seconds.
    pub expires_in: u64,
    /// For user grants.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// For `openid` grants of the code flow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// Granted scopes, space-separated.
    pub scope: String,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// What an access token says, before signing.
pub(crate) struct AccessGrant<'a> {
    pub(crate) subject: &'a str,
    pub(crate) client_id: &'a str,
    pub(crate) scopes: &'a [String],
    pub(crate) auth: Option<&'a Authentication>,
    pub(crate) family: Option<&'a str>,
    pub(crate) jkt: Option<&'a str>,
}

impl TokenService {
    /// The token endpoint: authenticates the client, checks it may use the
    /// grant, and runs it.
    pub async fn token(
        &self,
        issuer: &Issuer,
        request: TokenRequest<'_>,
        now: u64,
    ) -> Result<TokenResponse, ServiceError> {
        let grant = GrantType::parse(request.grant_type)?;
        let client = self
            .authenticate_client(
                &issuer.tenant,
                &ClientAuth {
                    client_id: request.client_id,
                    client_secret: request.client_secret,
                },
            )
            .await?;
        if !client.allows(grant) {
            return Err(ServiceError::UnauthorizedClient);
        }
        match grant {
            GrantType::AuthorizationCode => self.code_grant(issuer, &client, &request, now).await,
            GrantType::RefreshToken => {
                let token = request
                    .refresh_token
                    .ok_or(ServiceError::InvalidRequest("refresh_token is required"))?;
                self.rotate_refresh(
                    issuer,
                    &client,
                    token,
                    request.scope,
                    request.dpop_jkt.as_deref(),
                    now,
                )
                .await
            }
            GrantType::ClientCredentials => {
                if client.kind != ClientKind::Confidential {
                    return Err(ServiceError::UnauthorizedClient);
                }
                let scopes = client.scopes_for(request.scope)?;
                let access = self
                    .sign_access(
                        issuer,
                        &AccessGrant {
                            subject: &client.client_id,
                            client_id: &client.client_id,
                            scopes: &scopes,
                            auth: None,
                            family: None,
                            jkt: request.dpop_jkt.as_deref(),
                        },
                        now,
                    )
                    .await?;
                Ok(self.response(
                    issuer,
                    access,
                    None,
                    None,
                    &scopes,
                    request.dpop_jkt.is_some(),
                ))
            }
        }
    }

    async fn code_grant(
        &self,
        issuer: &Issuer,
        client: &ClientInfo,
        request: &TokenRequest<'_>,
        now: u64,
    ) -> Result<TokenResponse, ServiceError> {
        let code = self
            .redeem_code(
                &issuer.tenant,
                client,
                request.code,
                request.redirect_uri,
                request.code_verifier,
                now,
            )
            .await?;
        let user = self.user(&issuer.tenant, &code.auth.user_id).await;
        if !matches!(&user, Ok(u) if !u.disabled) {
            return Err(ServiceError::InvalidGrant("the user is disabled"));
        }
        let mut response = self
            .start_family(
                issuer,
                client,
                &code.auth,
                &code.scopes,
                &code.family,
                request.dpop_jkt.as_deref(),
                now,
            )
            .await?;
        if code.scopes.iter().any(|s| s == "openid") {
            response.id_token = Some(
                self.sign_id_token(issuer, client, &code.auth, code.nonce.as_deref(), now)
                    .await?,
            );
        }
        Ok(response)
    }

    pub(crate) fn response(
        &self,
        issuer: &Issuer,
        access_token: String,
        refresh_token: Option<String>,
        id_token: Option<String>,
        scopes: &[String],
        dpop: bool,
    ) -> TokenResponse {
        TokenResponse {
            access_token,
            token_type: if dpop { "DPoP" } else { "Bearer" }.into(),
            expires_in: self.access_ttl(issuer),
            refresh_token,
            id_token,
            scope: scopes.join(" "),
        }
    }

    /// Signs an access token with the tenant's active key.
    pub(crate) async fn sign_access(
        &self,
        issuer: &Issuer,
        grant: &AccessGrant<'_>,
        now: u64,
    ) -> Result<String, ServiceError> {
        let mut claims = json!({
            "iss": issuer.issuer,
            "sub": grant.subject,
            "aud": issuer.audience,
            "iat": now,
            "exp": now.saturating_add(self.access_ttl(issuer)),
            "jti": secrets::id()?,
            "client_id": grant.client_id,
            "scope": grant.scopes.join(" "),
        });
        if let Some(auth) = grant.auth {
            claims["acr"] = json!(auth.acr);
            claims["amr"] = json!(auth.amr);
            claims["auth_time"] = json!(auth.auth_time);
        }
        if let Some(family) = grant.family {
            claims["fid"] = json!(family);
        }
        if let Some(jkt) = grant.jkt {
            claims["cnf"] = json!({ "jkt": jkt });
        }
        Ok(self.keys.sign(&issuer.tenant, &claims, now).await?)
    }

    async fn sign_id_token(
        &self,
        issuer: &Issuer,
        client: &ClientInfo,
        auth: &Authentication,
        nonce: Option<&str>,
        now: u64,
    ) -> Result<String, ServiceError> {
        let mut claims = json!({
            "iss": issuer.issuer,
            "sub": auth.user_id,
            "aud": client.client_id,
            "azp": client.client_id,
            "iat": now,
            "exp": now.saturating_add(self.settings.id_token_ttl_s),
            "auth_time": auth.auth_time,
            "acr": auth.acr,
            "amr": auth.amr,
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = Value::String(nonce.to_owned());
        }
        Ok(self
            .keys
            .sign_typed(&issuer.tenant, &claims, "JWT", now)
            .await?)
    }
}

/// A refresh token and what the family stores of it.
pub(crate) struct NewRefresh {
    pub(crate) token: Zeroizing<String>,
    pub(crate) hash: String,
}

impl NewRefresh {
    pub(crate) fn generate() -> Result<Self, ServiceError> {
        let token = secrets::token("wrt_")?;
        let hash = secrets::fingerprint(&token);
        Ok(Self { token, hash })
    }
}

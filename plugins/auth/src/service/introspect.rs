//! Revocation (RFC 7009), introspection (RFC 7662) and userinfo (OIDC Core
//! section 5.3): the endpoints that take a token the service issued and
//! answer about it. Access tokens are checked in full here (signature with
//! the tenant's keys, issuer, expiry, family not revoked); refresh tokens
//! through their family.

use serde::Serialize;
use serde_json::{Map, Value};
use warden_plugin_core::Tenant;

use super::clients::{ClientAuth, ClientInfo, ClientKind};
use super::refresh::{FAMILY_KIND, Family, TOKEN_KIND};
use super::store::Store;
use super::{Issuer, ServiceError, TokenService, secrets};
use crate::token;

/// An introspection answer (RFC 7662 section 2.2). Inactive tokens say
/// nothing else.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Introspection {
    /// Whether the token is usable now.
    pub active: bool,
    /// `sub`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The client it was issued to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Space-separated scopes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `exp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    /// `access_token` or `refresh_token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
}

impl TokenService {
    /// The claims of an access token this tenant issued, if it verifies at
    /// `now` and its family is not revoked.
    pub(crate) async fn verify_own(
        &self,
        issuer: &Issuer,
        access_token: &str,
        now: u64,
    ) -> Result<Option<Map<String, Value>>, ServiceError> {
        let Ok(parsed) = token::parse(access_token) else {
            return Ok(None);
        };
        let keys = self.keys.trusted(&issuer.tenant).await?;
        let Some(key) = keys
            .get(&parsed.kid)
            .filter(|k| k.valid_at(now) && k.alg == parsed.alg)
        else {
            return Ok(None);
        };
        let good = jsonwebtoken::crypto::verify(
            parsed.signature,
            parsed.signing_input.as_bytes(),
            &key.decoding,
            key.alg.jsonwebtoken(),
        );
        if !matches!(good, Ok(true)) {
            return Ok(None);
        }
        let claims = parsed.claims;
        let iss_ok = claims.get("iss").and_then(Value::as_str) == Some(issuer.issuer.as_str());
        let live = claims
            .get("exp")
            .and_then(Value::as_u64)
            .is_some_and(|exp| now < exp);
        let access = claims.get("client_id").is_some();
        if !(iss_ok && live && access) {
            return Ok(None);
        }
        if let Some(fid) = claims.get("fid").and_then(Value::as_str)
            && self.revocations.is_revoked(&issuer.tenant, fid).await?
        {
            return Ok(None);
        }
        Ok(Some(claims))
    }

    async fn refresh_family(
        &self,
        tenant: &Tenant,
        token: &str,
    ) -> Result<Option<Family>, ServiceError> {
        let hash = secrets::fingerprint(token);
        let Some(id) = self
            .store
            .get::<String>(tenant, &Store::key(TOKEN_KIND, &hash))
            .await?
        else {
            return Ok(None);
        };
        Ok(self
            .store
            .get::<Family>(tenant, &Store::key(FAMILY_KIND, &id.value))
            .await?
            .map(|f| f.value))
    }

    /// The revocation endpoint (RFC 7009): revokes the family of a refresh
    /// or access token issued to the authenticated client (logout). An
    /// unknown or foreign token is not an error (section 2.2): the answer
    /// is the same, so it reveals nothing.
    pub async fn revoke(
        &self,
        issuer: &Issuer,
        client: &ClientAuth<'_>,
        token: &str,
        now: u64,
    ) -> Result<(), ServiceError> {
        let tenant = &issuer.tenant;
        let client: ClientInfo = self.authenticate_client(tenant, client).await?;
        if let Some(family) = self.refresh_family(tenant, token).await? {
            if family.client_id == client.client_id {
                self.revoke_family(tenant, &family.id, now).await?;
            }
            return Ok(());
        }
        if let Some(claims) = self.verify_own(issuer, token, now).await? {
            let mine = claims.get("client_id").and_then(Value::as_str) == Some(&client.client_id);
            if let (true, Some(fid)) = (mine, claims.get("fid").and_then(Value::as_str)) {
                self.revoke_family(tenant, fid, now).await?;
            }
        }
        Ok(())
    }

    /// The introspection endpoint (RFC 7662), for confidential clients
    /// only (resource servers register as such): a public client proves
    /// nothing but its id, and introspection must not become an oracle for
    /// whoever holds a token.
    pub async fn introspect(
        &self,
        issuer: &Issuer,
        client: &ClientAuth<'_>,
        token: &str,
        now: u64,
    ) -> Result<Introspection, ServiceError> {
        let tenant = &issuer.tenant;
        let client = self.authenticate_client(tenant, client).await?;
        if client.kind != ClientKind::Confidential {
            return Err(ServiceError::UnauthorizedClient);
        }
        if let Some(claims) = self.verify_own(issuer, token, now).await? {
            let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
            return Ok(Introspection {
                active: true,
                sub: text("sub"),
                client_id: text("client_id"),
                scope: text("scope"),
                exp: claims.get("exp").and_then(Value::as_u64),
                token_type: Some("access_token".into()),
            });
        }
        if let Some(family) = self.refresh_family(tenant, token).await? {
            let current = secrets::same(
                family_current(&family).as_bytes(),
                secrets::fingerprint(token).as_bytes(),
            );
            let revoked = family.revoked || self.revocations.is_revoked(tenant, &family.id).await?;
            if current && !revoked && now < family.expires_at {
                return Ok(Introspection {
                    active: true,
                    sub: Some(family.user_id),
                    client_id: Some(family.client_id),
                    scope: Some(family.scopes.join(" ")),
                    exp: Some(family.expires_at),
                    token_type: Some("refresh_token".into()),
                });
            }
        }
        Ok(Introspection::default())
    }

    /// The userinfo endpoint: the claims about the user of a valid access
    /// token with the `openid` scope. `InvalidToken` maps to 401
    /// `invalid_token` for anything else.
    pub async fn userinfo(
        &self,
        issuer: &Issuer,
        access_token: &str,
        now: u64,
    ) -> Result<Value, ServiceError> {
        let claims = self
            .verify_own(issuer, access_token, now)
            .await?
            .ok_or(ServiceError::InvalidToken)?;
        let openid = claims
            .get("scope")
            .and_then(Value::as_str)
            .is_some_and(|s| s.split(' ').any(|s| s == "openid"));
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !openid || claims.get("fid").is_none() {
            return Err(ServiceError::InvalidToken);
        }
        let user = self.user(&issuer.tenant, sub).await.map_err(|e| match e {
            ServiceError::NotFound => ServiceError::InvalidToken,
            other => other,
        })?;
        if user.disabled {
            return Err(ServiceError::InvalidToken);
        }
        Ok(serde_json::json!({
            "sub": user.user_id,
            "preferred_username": user.username,
        }))
    }
}

fn family_current(family: &Family) -> &str {
    family.current()
}

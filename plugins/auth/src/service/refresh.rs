//! Refresh-token families and rotation with reuse detection (RFC 9700
//! section 4.14).
//!
//! A login (a redeemed code) starts a family: one record holding what its
//! tokens say, the SHA-256 of the current refresh token and of the one
//! before it. Each refresh token also has an index entry pointing at its
//! family, so a token the service issued is recognised even after it was
//! retired. A refresh presents the current token: a new token and access
//! token are made, the new token's index entry is written, and the family
//! record is swapped (compare-and-swap) to the new current token. Of two
//! nodes racing with one token, one swap wins; the loser re-reads and
//! sees its token as the previous one.
//!
//! Presenting a retired token revokes the whole family (and, through the
//! revocation list, its access tokens at every gateway), except in one
//! case: within `refresh_grace_s` after a rotation, the immediately
//! previous token returns the very pair that rotation issued (kept sealed
//! with the KEK in the family record until the next rotation), so two tabs
//! refreshing at once do not log the user out. Any older token never
//! passes. The rotation is acknowledged only after the swap is durable.

use serde::{Deserialize, Serialize};
use warden_plugin_core::Tenant;

use super::clients::ClientInfo;
use super::issue::{AccessGrant, Authentication, NewRefresh, TokenResponse};
use super::store::{CAS_ATTEMPTS, Store, contended};
use super::{Issuer, ServiceError, TokenService, secrets};
use crate::token::b64;

pub(crate) const FAMILY_KIND: &str = "family";
pub(crate) const TOKEN_KIND: &str = "refresh";
pub(crate) const SESSION_KIND: &str = "session";
const GRACE_PURPOSE: &str = "refresh-grace";

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Family {
    pub(crate) id: String,
    pub(crate) user_id: String,
    pub(crate) client_id: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) auth: Authentication,
    pub(crate) jkt: Option<String>,
    pub(crate) created_at: u64,
    pub(crate) expires_at: u64,
    current: String,
    previous: Option<String>,
    rotated_at: u64,
    /// The pair of the last rotation, sealed, while a grace window is on.
    grace_pair: Option<String>,
    pub(crate) revoked: bool,
}

/// A login session (refresh family), as the admin API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The family id (`fid` of its access tokens).
    pub session_id: String,
    /// The client it was issued to.
    pub client_id: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// `acr` of the login.
    pub acr: String,
    /// `amr` of the login.
    pub amr: Vec<String>,
    /// When the login happened.
    pub auth_time: u64,
    /// When the family stops refreshing, whatever happens.
    pub expires_at: u64,
    /// Last rotation.
    pub last_refresh: u64,
    /// Whether the tokens are DPoP-bound.
    pub dpop_bound: bool,
}

impl Family {
    /// The hash of the current refresh token.
    pub(crate) fn current(&self) -> &str {
        &self.current
    }
}

fn session_key(user_id: &str, family: &str) -> String {
    Store::key(SESSION_KIND, &format!("{user_id}/{family}"))
}

impl TokenService {
    /// Starts the family `family` for a login and issues its first pair.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn start_family(
        &self,
        issuer: &Issuer,
        client: &ClientInfo,
        auth: &Authentication,
        scopes: &[String],
        family: &str,
        jkt: Option<&str>,
        now: u64,
    ) -> Result<TokenResponse, ServiceError> {
        let tenant = &issuer.tenant;
        let refresh = NewRefresh::generate()?;
        let record = Family {
            id: family.to_owned(),
            user_id: auth.user_id.clone(),
            client_id: client.client_id.clone(),
            scopes: scopes.to_vec(),
            auth: auth.clone(),
            jkt: jkt.map(str::to_owned),
            created_at: now,
            expires_at: now.saturating_add(self.settings.refresh_family_ttl_s),
            current: refresh.hash.clone(),
            previous: None,
            rotated_at: now,
            grace_pair: None,
            revoked: false,
        };
        let access = self
            .sign_family_access(issuer, &record, scopes, now)
            .await?;
        // The family first: the sweeper deletes index entries without one.
        if !self
            .store
            .insert_new(tenant, &Store::key(FAMILY_KIND, family), &record)
            .await?
        {
            return Err(ServiceError::InvalidGrant("code already used"));
        }
        self.store
            .put(tenant, &Store::key(TOKEN_KIND, &refresh.hash), &record.id)
            .await?;
        self.store
            .put(tenant, &session_key(&record.user_id, family), &now)
            .await?;
        // A second use of the code may have revoked the family before it
        // existed: then its tokens must not go out.
        if self.revocations.is_revoked(tenant, family).await? {
            self.revoke_family(tenant, family, now).await?;
            return Err(ServiceError::InvalidGrant("code already used"));
        }
        Ok(self.response(
            issuer,
            access,
            Some(refresh.token.to_string()),
            None,
            scopes,
            jkt.is_some(),
        ))
    }

    async fn sign_family_access(
        &self,
        issuer: &Issuer,
        family: &Family,
        scopes: &[String],
        now: u64,
    ) -> Result<String, ServiceError> {
        self.sign_access(
            issuer,
            &AccessGrant {
                subject: &family.user_id,
                client_id: &family.client_id,
                scopes,
                auth: Some(&family.auth),
                family: Some(&family.id),
                jkt: family.jkt.as_deref(),
            },
            now,
        )
        .await
    }

    /// The `refresh_token` grant: rotation with reuse detection and the
    /// grace window; see the module docs.
    pub(crate) async fn rotate_refresh(
        &self,
        issuer: &Issuer,
        client: &ClientInfo,
        token: &str,
        scope: Option<&str>,
        dpop_jkt: Option<&str>,
        now: u64,
    ) -> Result<TokenResponse, ServiceError> {
        let tenant = &issuer.tenant;
        let hash = secrets::fingerprint(token);
        let family_id = self
            .store
            .get::<String>(tenant, &Store::key(TOKEN_KIND, &hash))
            .await?
            .map(|v| v.value)
            .ok_or(ServiceError::InvalidGrant("unknown refresh token"))?;
        let key = Store::key(FAMILY_KIND, &family_id);
        for _ in 0..CAS_ATTEMPTS {
            let found = self
                .store
                .get::<Family>(tenant, &key)
                .await?
                .ok_or(ServiceError::InvalidGrant("unknown refresh token"))?;
            let family = found.value;
            if family.client_id != client.client_id {
                return Err(ServiceError::InvalidGrant(
                    "refresh token of another client",
                ));
            }
            if family.revoked || self.revocations.is_revoked(tenant, &family.id).await? {
                return Err(ServiceError::InvalidGrant("refresh token revoked"));
            }
            if now >= family.expires_at {
                return Err(ServiceError::InvalidGrant("refresh token expired"));
            }
            if family.jkt.is_some() && family.jkt.as_deref() != dpop_jkt {
                return Err(ServiceError::InvalidGrant(
                    "refresh token is bound to another DPoP key",
                ));
            }
            let user = self.user(tenant, &family.user_id).await;
            if !matches!(&user, Ok(u) if !u.disabled) {
                return Err(ServiceError::InvalidGrant("the user is disabled"));
            }
            let current = secrets::same(hash.as_bytes(), family.current.as_bytes());
            if !current {
                let previous = family
                    .previous
                    .as_deref()
                    .is_some_and(|p| secrets::same(hash.as_bytes(), p.as_bytes()));
                let in_grace = now
                    < family
                        .rotated_at
                        .saturating_add(self.settings.refresh_grace_s);
                if let (true, true, Some(sealed)) = (previous, in_grace, &family.grace_pair) {
                    return self.open_grace_pair(tenant, sealed);
                }
                tracing::warn!(%tenant, family = %family.id, "refresh token reuse; revoking the family");
                self.revoke_family(tenant, &family.id, now).await?;
                return Err(ServiceError::InvalidGrant("refresh token already used"));
            }
            let scopes = match scope {
                None => family.scopes.clone(),
                Some(requested) => {
                    let narrowed: Vec<String> = requested
                        .split(' ')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect();
                    if narrowed.iter().any(|s| !family.scopes.contains(s)) {
                        return Err(ServiceError::InvalidScope);
                    }
                    narrowed
                }
            };
            let refresh = NewRefresh::generate()?;
            let access = self
                .sign_family_access(issuer, &family, &scopes, now)
                .await?;
            let response = self.response(
                issuer,
                access,
                Some(refresh.token.to_string()),
                None,
                &scopes,
                family.jkt.is_some(),
            );
            let mut next = family.clone();
            next.previous = Some(family.current.clone());
            next.current = refresh.hash.clone();
            next.rotated_at = now;
            next.grace_pair = if self.settings.refresh_grace_s > 0 {
                Some(self.seal_grace_pair(tenant, &response)?)
            } else {
                None
            };
            self.store
                .put(tenant, &Store::key(TOKEN_KIND, &refresh.hash), &family.id)
                .await?;
            if self
                .store
                .swap(tenant, &key, Some(&found.bytes), &next)
                .await?
            {
                return Ok(response);
            }
            // Another rotation won; look again (grace or reuse).
            self.store
                .delete(tenant, &Store::key(TOKEN_KIND, &refresh.hash))
                .await?;
        }
        Err(contended())
    }

    fn seal_grace_pair(
        &self,
        tenant: &Tenant,
        response: &TokenResponse,
    ) -> Result<String, ServiceError> {
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(response).map_err(|e| ServiceError::Internal(e.to_string()))?,
        );
        Ok(b64::encode(&self.kek.seal_for(
            tenant,
            GRACE_PURPOSE,
            &plain,
        )?))
    }

    fn open_grace_pair(
        &self,
        tenant: &Tenant,
        sealed: &str,
    ) -> Result<TokenResponse, ServiceError> {
        let bytes = b64::decode(sealed)
            .ok_or_else(|| ServiceError::Internal("grace pair unreadable".into()))?;
        let plain = self.kek.open_for(tenant, GRACE_PURPOSE, &bytes)?;
        serde_json::from_slice(&plain).map_err(|e| ServiceError::Internal(e.to_string()))
    }

    /// Revokes a family: its refresh tokens stop at once, its access tokens
    /// at every gateway (revocation list). Idempotent; works for a family
    /// that does not exist (yet).
    pub async fn revoke_family(
        &self,
        tenant: &Tenant,
        family_id: &str,
        now: u64,
    ) -> Result<(), ServiceError> {
        let until = now
            .saturating_add(self.settings.access_token_ttl_s)
            .saturating_add(crate::MAX_LEEWAY_S);
        self.revocations.revoke(tenant, family_id, until).await?;
        let key = Store::key(FAMILY_KIND, family_id);
        for _ in 0..CAS_ATTEMPTS {
            let Some(found) = self.store.get::<Family>(tenant, &key).await? else {
                return Ok(());
            };
            if found.value.revoked {
                return Ok(());
            }
            let mut next = found.value.clone();
            next.revoked = true;
            next.grace_pair = None;
            if self
                .store
                .swap(tenant, &key, Some(&found.bytes), &next)
                .await?
            {
                self.store
                    .delete(tenant, &session_key(&next.user_id, family_id))
                    .await?;
                return Ok(());
            }
        }
        // The revocation list entry is written: the family's tokens stop.
        Err(contended())
    }

    /// The live sessions of a user.
    pub async fn list_sessions(
        &self,
        tenant: &Tenant,
        user_id: &str,
        now: u64,
    ) -> Result<Vec<SessionInfo>, ServiceError> {
        let prefix = session_key(user_id, "");
        let mut out = Vec::new();
        for key in self.store.keys(tenant, &prefix).await? {
            let Some(family_id) = key.strip_prefix(&prefix) else {
                continue;
            };
            let Some(found) = self
                .store
                .get::<Family>(tenant, &Store::key(FAMILY_KIND, family_id))
                .await?
            else {
                continue;
            };
            let f = found.value;
            if f.revoked || now >= f.expires_at {
                continue;
            }
            out.push(SessionInfo {
                session_id: f.id,
                client_id: f.client_id,
                scopes: f.scopes,
                acr: f.auth.acr,
                amr: f.auth.amr,
                auth_time: f.auth.auth_time,
                expires_at: f.expires_at,
                last_refresh: f.rotated_at,
                dpop_bound: f.jkt.is_some(),
            });
        }
        Ok(out)
    }

    /// Revokes one session of a user (admin API); `NotFound` if it is not
    /// theirs.
    pub async fn revoke_session(
        &self,
        tenant: &Tenant,
        user_id: &str,
        session_id: &str,
        now: u64,
    ) -> Result<(), ServiceError> {
        let found = self
            .store
            .get::<Family>(tenant, &Store::key(FAMILY_KIND, session_id))
            .await?
            .filter(|f| f.value.user_id == user_id)
            .ok_or(ServiceError::NotFound)?;
        self.revoke_family(tenant, &found.value.id, now).await
    }

    /// Revokes every session of a user (disable, delete, "log out
    /// everywhere").
    pub async fn revoke_user_sessions(
        &self,
        tenant: &Tenant,
        user_id: &str,
        now: u64,
    ) -> Result<(), ServiceError> {
        let prefix = session_key(user_id, "");
        for key in self.store.keys(tenant, &prefix).await? {
            if let Some(family_id) = key.strip_prefix(&prefix) {
                self.revoke_family(tenant, family_id, now).await?;
            }
        }
        Ok(())
    }
}

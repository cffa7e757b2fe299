//! The login form's server-side state: the validated authorization
//! request (never taken back from the browser: it names the redirect URI),
//! the form's CSRF token, and the plugin's second-factor ticket once the
//! password passed. Kept in the node's kv store in the tenant's namespace
//! (Redis when shared, so a form served by one node can be posted to
//! another), keyed by the SHA-256 of a random id the browser holds in an
//! `HttpOnly` cookie. Ten minutes; removed when the code is issued.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::sync::Arc;
use warden_plugin_auth::Tenant;
use warden_plugin_auth::service::{ServiceError, ValidatedAuthorize};
use warden_plugin_kv::KvStore;

/// Where login states live in a tenant's kv namespace (under the
/// `__warden/` prefix guests cannot touch).
pub const LOGIN_STATE_PREFIX: &str = "__warden/oauth/login/";

/// How long a login form may take.
pub const LOGIN_TTL_S: u64 = 600;

/// One login in progress. `Debug` redacts the secrets.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginState {
    /// The authorization request it will answer.
    pub request: ValidatedAuthorize,
    /// The form's anti-CSRF token (must come back in the form body).
    pub csrf: String,
    /// The plugin's ticket, once the password step passed and a second
    /// factor is due.
    pub ticket: Option<String>,
    /// Seconds since the epoch.
    pub expires_at: u64,
}

impl std::fmt::Debug for LoginState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginState")
            .field("client_id", &self.request.client_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A fresh random secret: 256 bits, base64url.
pub fn random_secret() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// The store of login states.
pub struct LoginStates {
    kv: Arc<dyn KvStore>,
}

fn key(id: &str) -> String {
    format!(
        "{LOGIN_STATE_PREFIX}{}",
        hex::encode(Sha256::digest(id.as_bytes()))
    )
}

fn unavailable(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Unavailable(e.to_string())
}

impl LoginStates {
    /// States in `kv`.
    pub fn new(kv: Arc<dyn KvStore>) -> Self {
        Self { kv }
    }

    /// Starts a login for `request`: its id (the cookie) and its state.
    pub async fn start(
        &self,
        tenant: &Tenant,
        request: ValidatedAuthorize,
        now: u64,
    ) -> Result<(String, LoginState), ServiceError> {
        let id = random_secret();
        let state = LoginState {
            request,
            csrf: random_secret(),
            ticket: None,
            expires_at: now.saturating_add(LOGIN_TTL_S),
        };
        self.save(tenant, &id, &state).await?;
        Ok((id, state))
    }

    /// Writes `state` under `id`.
    pub async fn save(
        &self,
        tenant: &Tenant,
        id: &str,
        state: &LoginState,
    ) -> Result<(), ServiceError> {
        let bytes = serde_json::to_vec(state).map_err(|e| ServiceError::Internal(e.to_string()))?;
        self.kv
            .set(tenant, &key(id), bytes)
            .await
            .map_err(unavailable)
    }

    /// The live state of `id`, if any (an expired one is deleted).
    pub async fn load(
        &self,
        tenant: &Tenant,
        id: &str,
        now: u64,
    ) -> Result<Option<LoginState>, ServiceError> {
        if id.is_empty() || id.len() > 128 {
            return Ok(None);
        }
        let Some(bytes) = self.kv.get(tenant, &key(id)).await.map_err(unavailable)? else {
            return Ok(None);
        };
        let state: Option<LoginState> = serde_json::from_slice(&bytes).ok();
        match state {
            Some(state) if state.expires_at > now => Ok(Some(state)),
            _ => {
                self.finish(tenant, id).await?;
                Ok(None)
            }
        }
    }

    /// Deletes the tenant's login states that expired before `now` (kv has
    /// no TTL; forms people abandoned would stay forever); how many.
    pub async fn sweep(&self, tenant: &Tenant, now: u64) -> Result<u64, ServiceError> {
        let mut removed = 0;
        let mut cursor = None;
        loop {
            let page = self
                .kv
                .list(
                    tenant,
                    LOGIN_STATE_PREFIX,
                    cursor.as_ref(),
                    warden_plugin_kv::MAX_PAGE,
                )
                .await
                .map_err(unavailable)?;
            for key in &page.keys {
                let Some(bytes) = self.kv.get(tenant, key).await.map_err(unavailable)? else {
                    continue;
                };
                let live = serde_json::from_slice::<LoginState>(&bytes)
                    .is_ok_and(|state| state.expires_at > now);
                if !live && self.kv.delete(tenant, key).await.map_err(unavailable)? {
                    removed += 1;
                }
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(removed),
            }
        }
    }

    /// Removes `id` (the code was issued, or the state expired).
    pub async fn finish(&self, tenant: &Tenant, id: &str) -> Result<(), ServiceError> {
        self.kv
            .delete(tenant, &key(id))
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

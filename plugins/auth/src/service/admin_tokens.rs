//! Scoped admin API tokens: one tenant, a set of scopes from
//! {deploy, read, keys, users, admin}, an expiry. The token (256 random
//! bits) is shown once and stored as its SHA-256: at that entropy a slow
//! hash adds nothing, and verification is one kv read. A token is stored
//! in the namespace of its tenant only, so it cannot even be looked up
//! for another tenant.

use serde::{Deserialize, Serialize};
use warden_plugin_core::Tenant;

use super::store::Store;
use super::{ServiceError, TokenService, secrets};

const KIND: &str = "admin-token";
const PREFIX: &str = "wat_";

/// What an admin token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminScope {
    /// Deploy functions and change routes.
    Deploy,
    /// Read the tenant's configuration and state.
    Read,
    /// Manage signing keys (export needs a fresh confirmation too).
    Keys,
    /// Manage users, clients and sessions.
    Users,
    /// Everything, including deleting the tenant.
    Admin,
}

/// What the admin API creates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAdminToken {
    /// A label for listings.
    pub name: String,
    /// Granted scopes (at least one).
    pub scopes: Vec<AdminScope>,
    /// Seconds since the epoch; required, at most a year ahead.
    pub expires_at: u64,
}

/// An admin token as listed: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminTokenInfo {
    /// Stable id (for revocation).
    pub token_id: String,
    /// Label.
    pub name: String,
    /// Scopes.
    pub scopes: Vec<AdminScope>,
    /// Creation time.
    pub created_at: u64,
    /// Expiry.
    pub expires_at: u64,
}

/// A created token, shown once. `Debug` redacts it.
pub struct AdminTokenGrant {
    /// The listing entry.
    pub info: AdminTokenInfo,
    /// The secret value (`wat_<id>.<secret>`).
    pub token: String,
}

impl std::fmt::Debug for AdminTokenGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminTokenGrant")
            .field("info", &self.info)
            .field("token", &"[redacted]")
            .finish()
    }
}

/// A verified admin token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAdmin {
    /// The only tenant it acts on.
    pub tenant: Tenant,
    /// Its id.
    pub token_id: String,
    /// Its scopes.
    pub scopes: Vec<AdminScope>,
}

impl VerifiedAdmin {
    /// Whether the token grants `scope` (`admin` grants all).
    pub fn allows(&self, scope: AdminScope) -> bool {
        self.scopes.contains(&scope) || self.scopes.contains(&AdminScope::Admin)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdminTokenRecord {
    info: AdminTokenInfo,
    hash: String,
}

const MAX_LIFETIME_S: u64 = 366 * 24 * 3600;

impl TokenService {
    /// Creates an admin token for `tenant`; the value is returned once.
    pub async fn create_admin_token(
        &self,
        tenant: &Tenant,
        spec: NewAdminToken,
        now: u64,
    ) -> Result<AdminTokenGrant, ServiceError> {
        if spec.scopes.is_empty() || spec.name.is_empty() || spec.name.len() > 128 {
            return Err(ServiceError::InvalidRequest(
                "a name and at least one scope are required",
            ));
        }
        if spec.expires_at <= now || spec.expires_at - now > MAX_LIFETIME_S {
            return Err(ServiceError::InvalidRequest(
                "expires_at must be within a year",
            ));
        }
        let token_id = secrets::id()?;
        let secret = secrets::token("")?;
        let token = format!("{PREFIX}{token_id}.{}", secret.as_str());
        let info = AdminTokenInfo {
            token_id: token_id.clone(),
            name: spec.name,
            scopes: spec.scopes,
            created_at: now,
            expires_at: spec.expires_at,
        };
        let record = AdminTokenRecord {
            info: info.clone(),
            hash: secrets::fingerprint(&token),
        };
        if !self
            .store
            .insert_new(tenant, &Store::key(KIND, &token_id), &record)
            .await?
        {
            return Err(ServiceError::Conflict);
        }
        Ok(AdminTokenGrant { info, token })
    }

    /// The tenant's admin tokens.
    pub async fn list_admin_tokens(
        &self,
        tenant: &Tenant,
    ) -> Result<Vec<AdminTokenInfo>, ServiceError> {
        let mut out = Vec::new();
        for key in self.store.keys(tenant, &Store::key(KIND, "")).await? {
            if let Some(record) = self.store.get::<AdminTokenRecord>(tenant, &key).await? {
                out.push(record.value.info);
            }
        }
        Ok(out)
    }

    /// Revokes one admin token at once.
    pub async fn revoke_admin_token(
        &self,
        tenant: &Tenant,
        token_id: &str,
    ) -> Result<(), ServiceError> {
        if self
            .store
            .delete(tenant, &Store::key(KIND, token_id))
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::NotFound)
        }
    }

    /// Verifies an admin token presented for `tenant` (the tenant the
    /// request addresses): unknown, expired, revoked, or of another tenant
    /// are one `invalid_token`.
    pub async fn verify_admin_token(
        &self,
        tenant: &Tenant,
        token: &str,
        now: u64,
    ) -> Result<VerifiedAdmin, ServiceError> {
        let id = token
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('.'))
            .map(|(id, _)| id)
            .filter(|id| !id.is_empty() && id.len() <= 64)
            .ok_or(ServiceError::InvalidToken)?;
        let record = self
            .store
            .get::<AdminTokenRecord>(tenant, &Store::key(KIND, id))
            .await?
            .ok_or(ServiceError::InvalidToken)?
            .value;
        let hash = secrets::fingerprint(token);
        if !secrets::same(hash.as_bytes(), record.hash.as_bytes()) || now >= record.info.expires_at
        {
            return Err(ServiceError::InvalidToken);
        }
        Ok(VerifiedAdmin {
            tenant: tenant.clone(),
            token_id: record.info.token_id,
            scopes: record.info.scopes,
        })
    }
}

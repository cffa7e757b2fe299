//! The family revocation list: which refresh-token families (login
//! sessions) are revoked, shared by every node through the kv store (redb
//! embedded, Redis shared), so that a revoked family's access tokens stop
//! at every gateway and not only at the node that revoked it.
//!
//! Access tokens of the token service carry their family in the `fid`
//! claim; the [`crate::Verifier`] asks [`FamilyRevocations::is_revoked`]
//! for each such token on every request, after the verified-token cache (so
//! a cached token of a revoked family is refused too). The check is one kv
//! read, skipped for tokens without `fid`. A node may remember a "not
//! revoked" answer for `cache_ttl` (default 1 s; zero turns it off), which
//! bounds how late a revocation made on another node takes effect; a
//! revocation made on this node takes effect at once.
//!
//! Layout: `__warden/auth/revoked/<sha256(fid)>` in the tenant's namespace,
//! value the decimal time until which the entry matters (the last moment
//! one of the family's access tokens can still be valid).

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest as _, Sha256};
use warden_plugin_core::{BackendError, Tenant};
use warden_plugin_kv::KvStore;

use crate::keys::store::kv_error;

/// The reserved kv prefix of revoked families.
pub const KV_REVOKED_PREFIX: &str = "__warden/auth/revoked/";

/// Revoked families, in kv, with a short per-node cache of negative answers.
pub struct FamilyRevocations {
    kv: Arc<dyn KvStore>,
    not_revoked: Option<moka::future::Cache<(Tenant, String), ()>>,
}

impl std::fmt::Debug for FamilyRevocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FamilyRevocations").finish_non_exhaustive()
    }
}

impl FamilyRevocations {
    /// Revocations in `kv`; a "not revoked" answer is reused for at most
    /// `cache_ttl` on this node (zero: every check reads kv).
    pub fn new(kv: Arc<dyn KvStore>, cache_ttl: Duration) -> Self {
        let not_revoked = (!cache_ttl.is_zero()).then(|| {
            moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(cache_ttl)
                .build()
        });
        Self { kv, not_revoked }
    }

    fn key(family: &str) -> String {
        format!(
            "{KV_REVOKED_PREFIX}{}",
            hex::encode(Sha256::digest(family.as_bytes()))
        )
    }

    /// Revokes `family` of `tenant`; the entry matters until `until`
    /// (seconds since the epoch). Durable when this returns.
    pub async fn revoke(
        &self,
        tenant: &Tenant,
        family: &str,
        until: u64,
    ) -> Result<(), BackendError> {
        self.kv
            .set(tenant, &Self::key(family), until.to_string().into_bytes())
            .await
            .map_err(kv_error)?;
        if let Some(cache) = &self.not_revoked {
            cache.invalidate(&(tenant.clone(), family.to_owned())).await;
        }
        Ok(())
    }

    /// Deletes entries whose `until` has passed at `now` (the family's
    /// access tokens have all expired); returns how many.
    pub async fn purge(&self, tenant: &Tenant, now: u64) -> Result<u64, BackendError> {
        let mut removed = 0;
        let mut cursor = None;
        loop {
            let page = self
                .kv
                .list(
                    tenant,
                    KV_REVOKED_PREFIX,
                    cursor.as_ref(),
                    warden_plugin_kv::MAX_PAGE,
                )
                .await
                .map_err(kv_error)?;
            for key in &page.keys {
                let until = self
                    .kv
                    .get(tenant, key)
                    .await
                    .map_err(kv_error)?
                    .and_then(|v| String::from_utf8(v).ok())
                    .and_then(|s| s.parse::<u64>().ok());
                if until.is_some_and(|until| until < now)
                    && self.kv.delete(tenant, key).await.map_err(kv_error)?
                {
                    removed += 1;
                }
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(removed),
            }
        }
    }

    /// Whether `family` of `tenant` is revoked. An error when the store
    /// cannot answer: the caller fails closed.
    pub async fn is_revoked(&self, tenant: &Tenant, family: &str) -> Result<bool, BackendError> {
        let cache_key = (tenant.clone(), family.to_owned());
        if let Some(cache) = &self.not_revoked
            && cache.get(&cache_key).await.is_some()
        {
            return Ok(false);
        }
        let revoked = self
            .kv
            .get(tenant, &Self::key(family))
            .await
            .map_err(kv_error)?
            .is_some();
        if !revoked && let Some(cache) = &self.not_revoked {
            cache.insert(cache_key, ()).await;
        }
        Ok(revoked)
    }
}

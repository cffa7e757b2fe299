//! Removing records that can no longer matter. kv has no TTL, so codes,
//! login tickets, idle throttle counters, ended families (with their
//! refresh-token index and session entries) and revocation-list entries
//! whose access tokens have all expired would otherwise stay forever. The
//! host runs [`TokenService::sweep`] per tenant now and then (any node;
//! running it on several at once is harmless: every record it deletes is
//! one nobody can use any more).
//!
//! Used and expired codes are kept a day after their expiry, so a code
//! replayed late still revokes what it issued.

use serde::Deserialize;
use warden_plugin_core::Tenant;

use super::refresh::{FAMILY_KIND, SESSION_KIND, TOKEN_KIND};
use super::store::Store;
use super::{ServiceError, TokenService};

const CODE_KIND: &str = "code";
const TICKET_KIND: &str = "login-ticket";
const THROTTLE_KIND: &str = "throttle";
const CODE_RETENTION_S: u64 = 24 * 3600;
const THROTTLE_IDLE_S: u64 = 24 * 3600;

#[derive(Deserialize)]
struct Expiring {
    expires_at: u64,
}

#[derive(Deserialize)]
struct Idle {
    last_failure: u64,
    locked_until: u64,
}

/// What a sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Records deleted.
    pub removed: u64,
}

impl TokenService {
    /// Deletes the tenant's records that no request can use any more at
    /// `now`; see the module docs.
    pub async fn sweep(&self, tenant: &Tenant, now: u64) -> Result<SweepReport, ServiceError> {
        let mut report = SweepReport::default();
        self.sweep_kind::<Expiring>(tenant, CODE_KIND, &mut report, |c| {
            now > c.expires_at.saturating_add(CODE_RETENTION_S)
        })
        .await?;
        self.sweep_kind::<Expiring>(tenant, TICKET_KIND, &mut report, |t| now >= t.expires_at)
            .await?;
        self.sweep_kind::<Idle>(tenant, THROTTLE_KIND, &mut report, |i| {
            now >= i.locked_until && now > i.last_failure.saturating_add(THROTTLE_IDLE_S)
        })
        .await?;
        self.sweep_kind::<Expiring>(tenant, FAMILY_KIND, &mut report, |f| now >= f.expires_at)
            .await?;
        // Index entries of families that are gone.
        for kind in [TOKEN_KIND, SESSION_KIND] {
            let prefix = Store::key(kind, "");
            for key in self.store.keys(tenant, &prefix).await? {
                let family = match kind {
                    TOKEN_KIND => self
                        .store
                        .get::<String>(tenant, &key)
                        .await?
                        .map(|v| v.value),
                    _ => key
                        .strip_prefix(&prefix)
                        .and_then(|rest| rest.split_once('/'))
                        .map(|(_, fid)| fid.to_owned()),
                };
                let alive = match family {
                    Some(fid) => self
                        .store
                        .get::<Expiring>(tenant, &Store::key(FAMILY_KIND, &fid))
                        .await?
                        .is_some(),
                    None => false,
                };
                if !alive && self.store.delete(tenant, &key).await? {
                    report.removed += 1;
                }
            }
        }
        report.removed += self.revocations.purge(tenant, now).await?;
        Ok(report)
    }

    async fn sweep_kind<T: serde::de::DeserializeOwned>(
        &self,
        tenant: &Tenant,
        kind: &str,
        report: &mut SweepReport,
        dead: impl Fn(&T) -> bool,
    ) -> Result<(), ServiceError> {
        for key in self.store.keys(tenant, &Store::key(kind, "")).await? {
            let gone = match self.store.get::<T>(tenant, &key).await {
                Ok(Some(record)) => dead(&record.value),
                Ok(None) => false,
                // Unreadable: not ours to judge; leave it for an operator.
                Err(ServiceError::Internal(_)) => false,
                Err(e) => return Err(e),
            };
            if gone && self.store.delete(tenant, &key).await? {
                report.removed += 1;
            }
        }
        Ok(())
    }
}

//! Login throttling: failed attempts counted per user name (whether or not
//! the user exists, so the answer never tells) and per client address,
//! each in a kv record shared by every node. After
//! `login_free_attempts` failures, every further failure locks that key
//! for `login_base_delay_s`, doubling up to `login_max_delay_s`. A locked
//! key is refused before any password is looked at. A success clears the
//! user's count (never the address's: one good account must not reset an
//! attacker's address). A count left alone for a day starts over.
//!
//! Not the rate-limit plugin: GCRA admits a steady rate, while brute force
//! needs delays that grow with consecutive failures and clear on success.

use serde::{Deserialize, Serialize};
use warden_plugin_core::Tenant;

use super::store::{CAS_ATTEMPTS, Store};
use super::{ServiceError, TokenService, secrets};

const KIND: &str = "throttle";
const FORGET_AFTER_S: u64 = 24 * 3600;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Attempts {
    failures: u32,
    last_failure: u64,
    locked_until: u64,
}

/// The throttle keys of one login attempt.
pub(crate) struct ThrottleKeys {
    keys: [String; 2],
}

impl ThrottleKeys {
    pub(crate) fn new(username: &str, address: &str) -> Self {
        let user = secrets::fingerprint(&format!("u|{}", username.to_lowercase()));
        let addr = secrets::fingerprint(&format!("a|{address}"));
        Self {
            keys: [Store::key(KIND, &user), Store::key(KIND, &addr)],
        }
    }
}

impl TokenService {
    /// `Err(Throttled)` if the user or the address is locked at `now`.
    pub(crate) async fn throttle_check(
        &self,
        tenant: &Tenant,
        keys: &ThrottleKeys,
        now: u64,
    ) -> Result<(), ServiceError> {
        let mut wait = 0;
        for key in &keys.keys {
            if let Some(record) = self.store.get::<Attempts>(tenant, key).await? {
                wait = wait.max(record.value.locked_until.saturating_sub(now));
            }
        }
        if wait > 0 {
            return Err(ServiceError::Throttled {
                retry_after_s: wait,
            });
        }
        Ok(())
    }

    /// Counts a failure against the user and the address.
    pub(crate) async fn throttle_failure(
        &self,
        tenant: &Tenant,
        keys: &ThrottleKeys,
        now: u64,
    ) -> Result<(), ServiceError> {
        let s = &self.settings;
        for key in &keys.keys {
            for _ in 0..CAS_ATTEMPTS {
                let current = self.store.get::<Attempts>(tenant, key).await?;
                let mut next = match &current {
                    Some(c) if now < c.value.last_failure.saturating_add(FORGET_AFTER_S) => {
                        c.value.clone()
                    }
                    _ => Attempts::default(),
                };
                next.failures = next.failures.saturating_add(1);
                next.last_failure = now;
                if next.failures > s.login_free_attempts {
                    let doublings = (next.failures - s.login_free_attempts - 1).min(32);
                    let delay = s
                        .login_base_delay_s
                        .saturating_mul(1u64 << doublings)
                        .min(s.login_max_delay_s);
                    next.locked_until = now.saturating_add(delay);
                }
                let expected = current.as_ref().map(|c| c.bytes.as_slice());
                if self.store.swap(tenant, key, expected, &next).await? {
                    break;
                }
            }
        }
        Ok(())
    }

    /// Clears the user's count after a successful login.
    pub(crate) async fn throttle_success(
        &self,
        tenant: &Tenant,
        keys: &ThrottleKeys,
    ) -> Result<(), ServiceError> {
        self.store.delete(tenant, &keys.keys[0]).await?;
        Ok(())
    }
}

//! A tenant's users: create, disable, enable, delete, set a password, and
//! the password step of a login.
//!
//! Passwords are argon2id. A login never says whether the user exists: an
//! unknown name costs the same argon2 work (a dummy hash), and unknown,
//! disabled and wrong-password answers are one `access_denied`. Throttling
//! (see `throttle.rs`) counts per user name and per client address.
//! A user with TOTP gets a short-lived login ticket after the password,
//! redeemed by [`TokenService::login_second_factor`].

use serde::{Deserialize, Serialize};
use warden_plugin_core::Tenant;

use super::issue::Authentication;
use super::store::{CAS_ATTEMPTS, Store, contended};
use super::throttle::ThrottleKeys;
use super::totp::TotpState;
use super::{ServiceError, TokenService, secrets};

const KIND: &str = "user";
const NAME_KIND: &str = "user-name";
const TICKET_KIND: &str = "login-ticket";
/// How long a login ticket (password done, TOTP pending) lives.
const TICKET_TTL_S: u64 = 300;
const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_BYTES: usize = 1024;

/// What the admin API creates.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Login name (case-insensitive, unique in the tenant).
    pub username: String,
    /// Initial password (at least 8 characters).
    pub password: String,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// A user as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserInfo {
    /// Stable id (`sub` of the user's tokens).
    pub user_id: String,
    /// Login name.
    pub username: String,
    /// A disabled user cannot log in or refresh.
    pub disabled: bool,
    /// Whether TOTP is enrolled and confirmed.
    pub mfa: bool,
    /// Seconds since the epoch.
    pub created_at: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserRecord {
    pub(crate) info: UserInfo,
    pub(crate) password_hash: String,
    #[serde(default)]
    pub(crate) totp: Option<TotpState>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Ticket {
    user_id: String,
    username: String,
    expires_at: u64,
}

/// The password step's result. `Debug` redacts the ticket.
pub enum LoginOutcome {
    /// Done: password only (`amr: ["pwd"]`).
    Authenticated(Authentication),
    /// The user has TOTP: ask for a code and pass it with this ticket to
    /// [`TokenService::login_second_factor`]. The ticket is a secret of
    /// the login form (five minutes, one use).
    SecondFactorRequired {
        /// Opaque, high-entropy.
        ticket: String,
    },
}

impl std::fmt::Debug for LoginOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Authenticated(auth) => f.debug_tuple("Authenticated").field(auth).finish(),
            Self::SecondFactorRequired { .. } => f.write_str("SecondFactorRequired([redacted])"),
        }
    }
}

fn name_key(username: &str) -> String {
    Store::key(NAME_KIND, &secrets::fingerprint(&username.to_lowercase()))
}

fn check_password(password: &str) -> Result<(), ServiceError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(ServiceError::InvalidRequest(
            "a password has 8 characters or more (at most 1024 bytes)",
        ));
    }
    Ok(())
}

impl TokenService {
    /// Creates a user; `Conflict` if the name is taken.
    pub async fn create_user(
        &self,
        tenant: &Tenant,
        spec: NewUser,
        now: u64,
    ) -> Result<UserInfo, ServiceError> {
        let name_ok = !spec.username.is_empty()
            && spec.username.len() <= 256
            && !spec.username.chars().any(char::is_control);
        if !name_ok {
            return Err(ServiceError::InvalidRequest(
                "username: 1 to 256 bytes, no control characters",
            ));
        }
        check_password(&spec.password)?;
        let info = UserInfo {
            user_id: secrets::id()?,
            username: spec.username,
            disabled: false,
            mfa: false,
            created_at: now,
        };
        if !self
            .store
            .insert_new(tenant, &name_key(&info.username), &info.user_id)
            .await?
        {
            return Err(ServiceError::Conflict);
        }
        let record = UserRecord {
            info: info.clone(),
            password_hash: self.hasher.hash(&spec.password)?,
            totp: None,
        };
        self.store
            .put(tenant, &Store::key(KIND, &info.user_id), &record)
            .await?;
        Ok(info)
    }

    /// One user.
    pub async fn user(&self, tenant: &Tenant, user_id: &str) -> Result<UserInfo, ServiceError> {
        Ok(self.user_record(tenant, user_id).await?.info)
    }

    pub(crate) async fn user_record(
        &self,
        tenant: &Tenant,
        user_id: &str,
    ) -> Result<UserRecord, ServiceError> {
        if user_id.is_empty() || user_id.len() > 64 {
            return Err(ServiceError::NotFound);
        }
        self.store
            .get::<UserRecord>(tenant, &Store::key(KIND, user_id))
            .await?
            .map(|v| v.value)
            .ok_or(ServiceError::NotFound)
    }

    /// Every user of the tenant.
    pub async fn list_users(&self, tenant: &Tenant) -> Result<Vec<UserInfo>, ServiceError> {
        let mut out = Vec::new();
        for key in self.store.keys(tenant, &Store::key(KIND, "")).await? {
            if let Some(record) = self.store.get::<UserRecord>(tenant, &key).await? {
                out.push(record.value.info);
            }
        }
        Ok(out)
    }

    /// Changes a user record with compare-and-swap.
    pub(crate) async fn update_user<T>(
        &self,
        tenant: &Tenant,
        user_id: &str,
        change: impl Fn(&mut UserRecord) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        let key = Store::key(KIND, user_id);
        for _ in 0..CAS_ATTEMPTS {
            let current = self
                .store
                .get::<UserRecord>(tenant, &key)
                .await?
                .ok_or(ServiceError::NotFound)?;
            let mut record = current.value;
            let out = change(&mut record)?;
            if self
                .store
                .swap(tenant, &key, Some(&current.bytes), &record)
                .await?
            {
                return Ok(out);
            }
        }
        Err(contended())
    }

    /// Disables (or re-enables) a user. Disabling also revokes every session
    /// of the user, so their access tokens stop at the gateway too.
    pub async fn set_user_disabled(
        &self,
        tenant: &Tenant,
        user_id: &str,
        disabled: bool,
        now: u64,
    ) -> Result<UserInfo, ServiceError> {
        let info = self
            .update_user(tenant, user_id, |r| {
                r.info.disabled = disabled;
                Ok(r.info.clone())
            })
            .await?;
        if disabled {
            self.revoke_user_sessions(tenant, user_id, now).await?;
        }
        Ok(info)
    }

    /// Sets a new password.
    pub async fn set_password(
        &self,
        tenant: &Tenant,
        user_id: &str,
        password: &str,
    ) -> Result<(), ServiceError> {
        check_password(password)?;
        let hash = self.hasher.hash(password)?;
        self.update_user(tenant, user_id, |r| {
            r.password_hash = hash.clone();
            Ok(())
        })
        .await
    }

    /// Deletes a user and revokes every session of theirs.
    pub async fn delete_user(
        &self,
        tenant: &Tenant,
        user_id: &str,
        now: u64,
    ) -> Result<(), ServiceError> {
        let record = self.user_record(tenant, user_id).await?;
        self.revoke_user_sessions(tenant, user_id, now).await?;
        self.store
            .delete(tenant, &name_key(&record.info.username))
            .await?;
        self.store
            .delete(tenant, &Store::key(KIND, user_id))
            .await?;
        Ok(())
    }

    /// The password step of a login from client address `address`.
    /// `access_denied` for an unknown user, a disabled user or a wrong
    /// password alike; `Throttled` once the name or the address has failed
    /// too often (for unknown names too).
    pub async fn login_password(
        &self,
        tenant: &Tenant,
        username: &str,
        password: &str,
        address: &str,
        now: u64,
    ) -> Result<LoginOutcome, ServiceError> {
        let throttle = ThrottleKeys::new(username, address);
        self.throttle_check(tenant, &throttle, now).await?;
        let user_id = if username.len() <= 256 {
            self.store
                .get::<String>(tenant, &name_key(username))
                .await?
                .map(|v| v.value)
        } else {
            None
        };
        let record = match user_id {
            Some(id) => match self.user_record(tenant, &id).await {
                Ok(record) => Some(record),
                Err(ServiceError::NotFound) => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        let good = match &record {
            Some(r) => self.hasher.verify(password, &r.password_hash) && !r.info.disabled,
            None => self.hasher.verify_dummy(password),
        };
        let Some(record) = record.filter(|_| good) else {
            self.throttle_failure(tenant, &throttle, now).await?;
            return Err(ServiceError::AccessDenied);
        };
        if record.totp.as_ref().is_some_and(|t| t.confirmed) {
            let ticket = secrets::token("wlt_")?;
            let value = Ticket {
                user_id: record.info.user_id,
                username: record.info.username,
                expires_at: now.saturating_add(TICKET_TTL_S),
            };
            self.store
                .put(
                    tenant,
                    &Store::key(TICKET_KIND, &secrets::fingerprint(&ticket)),
                    &value,
                )
                .await?;
            return Ok(LoginOutcome::SecondFactorRequired {
                ticket: ticket.to_string(),
            });
        }
        self.throttle_success(tenant, &throttle).await?;
        Ok(LoginOutcome::Authenticated(Authentication {
            user_id: record.info.user_id,
            acr: self.settings.password_acr.clone(),
            amr: vec!["pwd".into()],
            auth_time: now,
        }))
    }

    /// The second step: a TOTP code (6 digits) or a recovery code for the
    /// ticket of [`login_password`](Self::login_password). Success gives
    /// the MFA `acr` and `amr: ["pwd", "otp"]`; a wrong code counts as a
    /// failed login for throttling. The ticket is used up on success.
    pub async fn login_second_factor(
        &self,
        tenant: &Tenant,
        ticket: &str,
        code: &str,
        address: &str,
        now: u64,
    ) -> Result<Authentication, ServiceError> {
        let key = Store::key(TICKET_KIND, &secrets::fingerprint(ticket));
        let found = self
            .store
            .get::<Ticket>(tenant, &key)
            .await?
            .map(|v| v.value)
            .filter(|t| t.expires_at > now)
            .ok_or(ServiceError::AccessDenied)?;
        let throttle = ThrottleKeys::new(&found.username, address);
        self.throttle_check(tenant, &throttle, now).await?;
        let ok = match self
            .check_second_factor(tenant, &found.user_id, code, now)
            .await
        {
            Ok(ok) => ok,
            Err(ServiceError::NotFound) => false,
            Err(e) => return Err(e),
        };
        let disabled = self
            .user(tenant, &found.user_id)
            .await
            .map_or(true, |u| u.disabled);
        if !ok || disabled {
            self.throttle_failure(tenant, &throttle, now).await?;
            return Err(ServiceError::AccessDenied);
        }
        if !self.store.delete(tenant, &key).await? {
            // Another request used the ticket first.
            return Err(ServiceError::AccessDenied);
        }
        self.throttle_success(tenant, &throttle).await?;
        Ok(Authentication {
            user_id: found.user_id,
            acr: self.settings.mfa_acr.clone(),
            amr: vec!["pwd".into(), "otp".into()],
            auth_time: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use warden_plugin_kv::MemoryKv;

    use super::*;
    use crate::replay::MemoryReplayStore;
    use crate::service::{HashCost, ServiceSettings};
    use crate::{FamilyRevocations, Kek, KeyManager, KeySettings, MemoryKeyStore};

    fn service() -> TokenService {
        let kv = Arc::new(MemoryKv::new(1 << 20));
        let keys = Arc::new(KeyManager::new(
            Arc::new(MemoryKeyStore::default()),
            Kek::from_bytes(&[1; 32]),
            KeySettings::default(),
        ));
        TokenService::new(
            kv.clone(),
            keys,
            Arc::new(Kek::from_bytes(&[1; 32])),
            Arc::new(FamilyRevocations::new(kv, Duration::ZERO)),
            Arc::new(MemoryReplayStore::default()),
            ServiceSettings {
                hash_cost: HashCost {
                    memory_kib: 64,
                    iterations: 1,
                    parallelism: 1,
                },
                ..ServiceSettings::default()
            },
        )
        .unwrap()
    }

    #[tokio::test]
    async fn an_unknown_user_costs_the_same_argon2_work_as_a_wrong_password() {
        let service = service();
        let tenant = Tenant::new("acme").unwrap();
        let user = NewUser {
            username: "alice".into(),
            password: "correct horse".into(),
        };
        service.create_user(&tenant, user, 0).await.unwrap();
        let mut work = Vec::new();
        for name in ["alice", "mallory"] {
            let before = service.hasher.verifications();
            let error = service
                .login_password(&tenant, name, "wrong password", "a", 0)
                .await
                .unwrap_err();
            assert_eq!(error, ServiceError::AccessDenied);
            work.push(service.hasher.verifications() - before);
        }
        assert_eq!(work, vec![1, 1]);
    }
}

//! The token service (OAuth 2.0 / OIDC for each tenant's users and
//! machines), as plain Rust for the host's endpoints to call: clients,
//! users and login, authorization codes with PKCE, token issuance, refresh
//! rotation with reuse detection, revocation, TOTP, DPoP and scoped admin
//! tokens. Every piece of state lives in the tenant's kv namespace under
//! `__warden/auth/svc/` (redb embedded, Redis shared), so any node can
//! continue what another started.
//!
//! Each file adds one job to [`TokenService`] (`impl TokenService` blocks):
//! `clients.rs`, `users.rs`, `throttle.rs`, `codes.rs`, `issue.rs`,
//! `refresh.rs`, `totp.rs`, `introspect.rs`, `admin_tokens.rs`; `dpop.rs` is the proof
//! verifier the gateway also uses.

mod admin_tokens;
mod clients;
mod codes;
mod dpop;
mod error;
mod introspect;
mod issue;
mod metadata;
mod pkce;
mod refresh;
mod secrets;
mod settings;
mod store;
mod sweep;
mod throttle;
mod totp;
mod users;

use std::sync::Arc;

use warden_plugin_core::Tenant;
use warden_plugin_kv::KvStore;

pub use admin_tokens::{AdminScope, AdminTokenGrant, AdminTokenInfo, NewAdminToken, VerifiedAdmin};
pub use clients::{ClientAuth, ClientInfo, ClientKind, ClientSecret, GrantType, NewClient};
pub use codes::{AuthorizeError, AuthorizeRequest, AuthorizeResponse, ValidatedAuthorize};
pub use dpop::{DpopProof, DpopVerifier, access_token_hash};
pub use error::ServiceError;
pub use introspect::Introspection;
pub use issue::{Authentication, TokenRequest, TokenResponse};
pub use metadata::{Endpoints, discovery_document};
pub use pkce::s256_challenge;
pub use refresh::SessionInfo;
pub use secrets::HashCost;
pub use settings::{MAX_REFRESH_GRACE_S, ServiceSettings};
pub use store::KV_SERVICE_PREFIX;
pub use sweep::SweepReport;
pub use totp::{RecoveryCodes, TotpEnrolment, totp_code_from_uri};
pub use users::{LoginOutcome, NewUser, UserInfo};

use crate::replay::ReplayStore;
use crate::revocation::FamilyRevocations;
use crate::{ConfigError, Kek, KeyManager, TenantAuthConfig};

/// Who issues for a tenant: its `iss` and the `aud` of its access tokens,
/// from the tenant's auth settings (the ones the [`crate::Verifier`] checks
/// against, so what the service issues the gateway accepts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    /// The tenant.
    pub tenant: Tenant,
    /// `iss`.
    pub issuer: String,
    /// `aud` of access tokens.
    pub audience: String,
    /// The tenant's `max_token_lifetime_s`: access tokens never live longer
    /// than the gateway accepts, whatever the service's TTL says.
    pub max_lifetime_s: u64,
}

impl Issuer {
    /// The issuer of `tenant` from its settings: `issuer` and the first of
    /// `audiences`. An error when the tenant has no own issuer or switched
    /// the token service off (`token_service = false`): the host then
    /// serves none of its endpoints.
    pub fn from_config(tenant: &Tenant, config: &TenantAuthConfig) -> Result<Self, ConfigError> {
        if !config.token_service {
            return Err(ConfigError {
                problems: vec!["the tenant switched the token service off".into()],
            });
        }
        match (&config.issuer, config.audiences.first()) {
            (Some(issuer), Some(audience)) => Ok(Self {
                tenant: tenant.clone(),
                issuer: issuer.clone(),
                audience: audience.clone(),
                max_lifetime_s: config.max_token_lifetime_s,
            }),
            _ => Err(ConfigError {
                problems: vec!["the token service needs [auth] issuer and audiences".into()],
            }),
        }
    }
}

/// The token service of every tenant of the node. Cheap to share (`Arc`).
pub struct TokenService {
    pub(crate) store: store::Store,
    pub(crate) keys: Arc<KeyManager>,
    pub(crate) kek: Arc<Kek>,
    pub(crate) revocations: Arc<FamilyRevocations>,
    pub(crate) hasher: secrets::Hasher,
    pub(crate) dpop: DpopVerifier,
    pub(crate) settings: ServiceSettings,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl TokenService {
    /// A service over the node's kv store, signing with `keys`, sealing TOTP
    /// secrets with `kek`, recording family revocations in `revocations`
    /// (the same list the node's [`crate::Verifier`] checks) and DPoP proof
    /// ids in `replay` (shared across nodes).
    pub fn new(
        kv: Arc<dyn KvStore>,
        keys: Arc<KeyManager>,
        kek: Arc<Kek>,
        revocations: Arc<FamilyRevocations>,
        replay: Arc<dyn ReplayStore>,
        settings: ServiceSettings,
    ) -> Result<Self, ServiceError> {
        settings
            .validate()
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        Ok(Self {
            store: store::Store::new(kv),
            keys,
            kek,
            revocations,
            hasher: secrets::Hasher::new(settings.hash_cost)?,
            dpop: DpopVerifier::new(replay, settings.dpop_iat_window_s),
            settings,
        })
    }

    /// How long an access token of `issuer` lives: the service's TTL,
    /// capped by the tenant's lifetime limit.
    pub(crate) fn access_ttl(&self, issuer: &Issuer) -> u64 {
        self.settings.access_token_ttl_s.min(issuer.max_lifetime_s)
    }

    /// The settings in force.
    pub fn settings(&self) -> &ServiceSettings {
        &self.settings
    }

    /// The DPoP proof verifier (the gateway calls
    /// [`DpopVerifier::check_request`] with it).
    pub fn dpop(&self) -> &DpopVerifier {
        &self.dpop
    }
}

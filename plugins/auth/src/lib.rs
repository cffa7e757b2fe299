//! Warden's gateway auth: per-tenant signing keys, strict JWT validation,
//! external issuers over JWKS, route policies (scopes, step-up), replay
//! protection, the counters the host exports, and each tenant's OAuth 2.0
//! / OIDC token service ([`service::TokenService`]).
//!
//! The host calls [`Verifier::verify`] (or [`Verifier::authorize`] for
//! routes that may be public) once per request with the tenant, the
//! `Authorization` value, the route's [`RoutePolicy`] and the time; an
//! [`AuthError`] renders its own status, `WWW-Authenticate` challenge and
//! stable code, and never echoes the token. Key management (admin API,
//! token service, `/.well-known/jwks.json`) is [`KeyManager`].
//!
//! Choices an operator should know:
//! - Tokens carrying `jku`, `x5u`, `x5c` or `jwk` are refused, not merely
//!   ignored; `crit` is refused (no extension is understood).
//! - `kid` is required and selects among the issuer's trusted keys only;
//!   `alg` must equal the key's pinned algorithm.
//! - Private keys never leave [`KeyManager`]: the whole key set is sealed
//!   with the KEK (ChaCha20-Poly1305) before it reaches the [`KeyStore`].
//! - `jwks_url` is `https://` (rustls, ring provider), verified against the
//!   Mozilla roots plus the optional `jwks_ca_file`; `http://` is allowed
//!   for loopback only. Redirects are never followed.
//!
//! Backends: key sets in memory or in any `warden_plugin_kv::KvStore`
//! (`__warden/auth/keys`); replay ids in memory, in Redis
//! (`warden:{<tenant>}:auth:jti:<sha256>`), or in kv (`__warden/auth/jti/`).

#![forbid(unsafe_code)]
// Tests may unwrap: a panic is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod config;
mod error;
mod issuers;
mod keys;
mod policy;
mod principal;
mod reason;
pub mod replay;
mod revocation;
pub mod service;
mod stats;
pub mod token;
mod verified_cache;
mod verifier;

pub use warden_plugin_core::Tenant;

pub use config::{
    Auth, BuildError, Config, DEFAULT_MAX_LIFETIME_S, KeyStoreConfig, MAX_LEEWAY_S, ReplayConfig,
    TenantAuthConfig, build, unix_now,
};
pub use error::{AuthError, ConfigError, Denial, KeyError};
pub use issuers::fetch::{FetchError, MAX_JWKS_BYTES, check_jwks_url};
pub use issuers::{IssuerConfig, JwksSettings};
pub use keys::kek::{KEK_FILE, Kek, KekSource};
pub use keys::manager::{KeyManager, KeySettings};
pub use keys::material::{MIN_HMAC_SECRET_BYTES, MIN_RSA_BITS};
pub use keys::model::{KeyAlg, KeyInfo, KeyState, NewKey, PublicKey};
pub use keys::store::{KV_KEYS_KEY, KeyStore, KvKeyStore, MemoryKeyStore};
pub use policy::{RoutePolicy, StepUp};
pub use principal::VerifiedPrincipal;
pub use reason::Reason;
pub use replay::ReplayStore;
pub use revocation::{FamilyRevocations, KV_REVOKED_PREFIX};
pub use stats::{AuthStats, DecisionCount, StatsSnapshot};
pub use verifier::{Verifier, VerifierSettings};

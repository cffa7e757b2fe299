//! The admin API's request and response bodies. Records (tenants,
//! functions, versions) are the registry's own types, re-exported from the
//! crate root.

use serde::{Deserialize, Serialize};
use warden_plugin_auth::KeyAlg;
use warden_registry::{FunctionSpec, TenantSpec, VersionRecord};

/// Body of `PUT /v1/tenants/{tenant}`: the whole tenant (PUT replaces).
pub type PutTenant = TenantSpec;

/// Body of `PUT /v1/tenants/{tenant}/functions/{function}`.
pub type PutFunction = FunctionSpec;

/// Body of `POST .../activate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activate {
    /// sha256 of an uploaded version.
    pub digest: String,
}

/// Answer to `POST .../versions` (an upload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploaded {
    /// The version record.
    #[serde(flatten)]
    pub version: VersionRecord,
    /// False when these exact bytes were already uploaded.
    pub created: bool,
}

/// Body of `POST /v1/tenants/{tenant}/keys` (create) and
/// `POST /v1/tenants/{tenant}/keys/rotate`. Every field is optional: an
/// empty body makes an EdDSA key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKeyRequest {
    /// `EdDSA` (default), `ES256`, `RS256` or `HS256`.
    #[serde(default)]
    pub alg: Option<KeyAlg>,
    /// HS256 only: the secret to import, base64url without padding, at
    /// least 32 bytes decoded. Never returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// RS256 only: modulus size in bits (2048 when unset; less is refused).
    #[serde(default)]
    pub rsa_bits: Option<usize>,
    /// End of the key's validity window, seconds since the epoch.
    #[serde(default)]
    pub not_after: Option<u64>,
}

/// Body of `POST /v1/tenants/{tenant}/tokens`: an access token signed with
/// the tenant's active key, for operators and tests (the token service
/// issues tokens to users).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintToken {
    /// `sub`.
    pub subject: String,
    /// Granted scopes (`scope`, space-separated).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Lifetime in seconds; at most the tenant's `max_token_lifetime_s`
    /// (its default when unset).
    #[serde(default)]
    pub ttl_s: Option<u64>,
    /// `aud`; the tenant's first audience when unset.
    #[serde(default)]
    pub audience: Option<String>,
    /// Extra claims (`acr`, `amr`, `auth_time`, `jti`, `email`, ...); the
    /// registered ones above cannot be overridden here.
    #[serde(default)]
    pub claims: serde_json::Map<String, serde_json::Value>,
}

/// Answer to `POST /v1/tenants/{tenant}/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintedToken {
    /// The compact JWS.
    pub token: String,
    /// `exp`, seconds since the epoch.
    pub expires_at: u64,
    /// The key that signed it.
    pub kid: String,
}

/// Answer to `POST /v1/tenants/{tenant}/clients` and `.../rotate-secret`:
/// the client and, for a confidential one, its secret, shown this once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredClient {
    /// The client as stored.
    pub client: warden_plugin_auth::service::ClientInfo,
    /// The secret (`wcs_...`), confidential clients only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for RegisteredClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredClient")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// Answer to `POST /v1/tenants/{tenant}/admin-tokens`: the token, shown
/// this once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedAdminToken {
    /// Id, name, scopes and expiry.
    pub info: warden_plugin_auth::service::AdminTokenInfo,
    /// `wat_<id>.<secret>`.
    pub token: String,
}

impl std::fmt::Debug for CreatedAdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedAdminToken")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// Answer to `POST .../users/{user}/totp`: what the user scans; confirmed
/// with a first code.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpEnrolled {
    /// `otpauth://totp/...` (holds the secret).
    pub otpauth_uri: String,
    /// The URI as a QR code, PNG in base64.
    pub qr_png_base64: String,
}

impl std::fmt::Debug for TotpEnrolled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolled([redacted])")
    }
}

/// Body of `POST .../users/{user}/totp/confirm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmTotp {
    /// The current six-digit code.
    pub code: String,
}

/// Answer to `POST .../users/{user}/totp/confirm`: ten one-time recovery
/// codes, shown this once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodesIssued {
    /// The codes.
    pub recovery_codes: Vec<String>,
}

impl std::fmt::Debug for RecoveryCodesIssued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RecoveryCodesIssued([{} redacted])",
            self.recovery_codes.len()
        )
    }
}

//! Settings: the node's `[auth]` section (stores, KEK, JWKS caching) and
//! each tenant's auth settings (from its manifest).
//!
//! ```toml
//! [auth]
//! kek = { type = "file", dir = "/var/lib/warden" }  # or { type = "env", var = "WARDEN_AUTH_KEK" }
//! rotation_overlap_s = 86400       # previous key verifies this long after a rotation
//! key_snapshot_ttl_ms = 5000       # how late a retirement may reach other nodes
//! cache_max_entries = 100000       # verified-token cache
//! jwks_ca_file = "/etc/warden/idp-ca.pem"  # optional: extra roots for https:// JWKS
//! [auth.keys]
//! type = "kv"                      # default: the node's kv store (redb or Redis); or "memory"
//! [auth.replay]
//! type = "redis"                   # or "kv" (the default) | "memory"
//! url = "redis://10.0.0.5:6379"
//! [auth.jwks]
//! refresh_interval_s = 300
//! max_stale_s = 86400
//! min_refetch_interval_s = 30
//! max_backoff_s = 300
//! fetch_timeout_ms = 3000
//! [auth.service]                   # the token service, see service::ServiceSettings
//! refresh_grace_s = 0
//! ```
//!
//! A tenant (manifest `[auth]`):
//!
//! ```toml
//! issuer = "https://acme.example/"   # iss of tokens signed with the tenant's own keys
//! audiences = ["https://api.acme.example"]
//! max_token_lifetime_s = 900         # default 15 minutes
//! leeway_s = 30                      # default and maximum 30
//! realm = "acme"                     # default: the tenant id
//! token_service = true               # false switches the token service off
//! [[issuers]]
//! issuer = "https://login.example.com/"
//! audiences = ["acme-api"]
//! jwks_url = "https://login.example.com/.well-known/jwks.json"
//! ```

use std::sync::Arc;
use std::time::Duration;

use http::Uri;
use serde::{Deserialize, Serialize};
use warden_plugin_core::redis::{RedisConfig, RedisHandle};
use warden_plugin_core::{BackendError, Tenant};
use warden_plugin_kv::KvStore;

use crate::issuers::fetch::check_jwks_url;
use crate::keys::store::{KeyStore, KvKeyStore, MemoryKeyStore};
use crate::replay::{KvReplayStore, MemoryReplayStore, RedisReplayStore, ReplayStore};
use crate::revocation::FamilyRevocations;
use crate::service::{ServiceError, ServiceSettings, TokenService};
use crate::{
    ConfigError, IssuerConfig, JwksSettings, Kek, KekSource, KeyError, KeyManager, KeySettings,
    Verifier, VerifierSettings,
};

/// Largest leeway a tenant may set, in seconds.
pub const MAX_LEEWAY_S: u64 = 30;
/// Default longest token lifetime: 15 minutes.
pub const DEFAULT_MAX_LIFETIME_S: u64 = 15 * 60;

/// The node's `[auth]` section. Unknown keys are errors.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the key-encryption key comes from.
    pub kek: KekSource,
    /// Where key sets live.
    #[serde(default)]
    pub keys: KeyStoreConfig,
    /// Where single-use token ids live.
    #[serde(default)]
    pub replay: ReplayConfig,
    /// JWKS caching of external issuers.
    #[serde(default)]
    pub jwks: JwksSettings,
    /// How long the previous key verifies after a rotation, in seconds.
    #[serde(default = "default_overlap")]
    pub rotation_overlap_s: u64,
    /// How long a node reuses a tenant's verifying keys, in milliseconds.
    #[serde(default = "default_snapshot_ttl")]
    pub key_snapshot_ttl_ms: u64,
    /// Capacity of the verified-token cache.
    #[serde(default = "default_cache_entries")]
    pub cache_max_entries: u64,
    /// A PEM file of extra CA certificates trusted for `https://` JWKS
    /// URLs, next to the built-in Mozilla roots: for an IdP whose
    /// certificate comes from a private CA. Read once by [`build`].
    #[serde(default)]
    pub jwks_ca_file: Option<std::path::PathBuf>,
    /// How long a node reuses a "family not revoked" answer, in
    /// milliseconds: the bound on how late a logout or a detected refresh
    /// reuse on another node stops the family's access tokens here. Zero
    /// reads the revocation list on every request.
    #[serde(default = "default_revocation_cache")]
    pub revocation_cache_ms: u64,
    /// The token service's settings (`[auth.service]`), for
    /// [`Auth::token_service`]; validated by [`build`].
    #[serde(default)]
    pub service: ServiceSettings,
}

impl Config {
    /// The embedded default of a node: the KEK in `<data_dir>/auth-kek`,
    /// keys and replay ids in the node's kv store.
    pub fn embedded(data_dir: &std::path::Path) -> Self {
        Self {
            kek: KekSource::File {
                dir: data_dir.to_path_buf(),
            },
            keys: KeyStoreConfig::Kv,
            replay: ReplayConfig::Kv,
            jwks: JwksSettings::default(),
            rotation_overlap_s: default_overlap(),
            key_snapshot_ttl_ms: default_snapshot_ttl(),
            cache_max_entries: default_cache_entries(),
            jwks_ca_file: None,
            revocation_cache_ms: default_revocation_cache(),
            service: ServiceSettings::default(),
        }
    }
}

fn default_overlap() -> u64 {
    24 * 3600
}
fn default_snapshot_ttl() -> u64 {
    5000
}
fn default_revocation_cache() -> u64 {
    1000
}
fn default_cache_entries() -> u64 {
    100_000
}

/// Key store backend.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum KeyStoreConfig {
    /// In the process; keys are lost on exit.
    Memory,
    /// The node's kv store, under `__warden/auth/keys` in each tenant's
    /// namespace (redb embedded, Redis shared). The default: keys survive
    /// a restart and every node sharing the kv store sees them.
    #[default]
    Kv,
}

/// Replay store backend.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ReplayConfig {
    /// In the process: one node only.
    Memory,
    /// The node's kv store, under `__warden/auth/jti/`. The default: shared
    /// by every node that shares the kv store (Redis), durable on redb.
    #[default]
    Kv,
    /// Redis shared by all nodes.
    Redis(RedisConfig),
}

/// One tenant's auth settings. Unknown keys are errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantAuthConfig {
    /// The `iss` of tokens signed with the tenant's own keys. Without it,
    /// the tenant's own keys verify nothing (external issuers only).
    #[serde(default)]
    pub issuer: Option<String>,
    /// `aud` values accepted on tokens of the tenant's own keys.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Longest `exp - iat` (or `exp - now` without `iat`).
    #[serde(default = "default_max_lifetime")]
    pub max_token_lifetime_s: u64,
    /// Clock skew tolerated, at most [`MAX_LEEWAY_S`].
    #[serde(default = "default_leeway")]
    pub leeway_s: u64,
    /// The `realm` of challenges (default: the tenant id).
    #[serde(default)]
    pub realm: Option<String>,
    /// Trusted external issuers.
    #[serde(default)]
    pub issuers: Vec<IssuerConfig>,
    /// Whether the tenant's token-service endpoints (authorize, token,
    /// revoke, introspect, userinfo) are on: `token_service = false`
    /// switches them off. Left out of the serialized form when on, so
    /// stored settings and wire formats of tenants that never set it do not
    /// change.
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub token_service: bool,
}

fn default_true() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

fn default_max_lifetime() -> u64 {
    DEFAULT_MAX_LIFETIME_S
}
fn default_leeway() -> u64 {
    MAX_LEEWAY_S
}

impl Default for TenantAuthConfig {
    fn default() -> Self {
        Self {
            issuer: None,
            audiences: Vec::new(),
            max_token_lifetime_s: DEFAULT_MAX_LIFETIME_S,
            leeway_s: MAX_LEEWAY_S,
            realm: None,
            issuers: Vec::new(),
            token_service: true,
        }
    }
}

impl TenantAuthConfig {
    /// Checks every rule and returns the parsed JWKS URLs (one per issuer);
    /// all problems are reported together.
    pub fn validate(&self) -> Result<Vec<Uri>, ConfigError> {
        let mut problems = Vec::new();
        if self.leeway_s > MAX_LEEWAY_S {
            problems.push(format!(
                "leeway_s is {}, the maximum is {MAX_LEEWAY_S}",
                self.leeway_s
            ));
        }
        if self.max_token_lifetime_s == 0 {
            problems.push("max_token_lifetime_s must be at least 1".to_owned());
        }
        if let Some(issuer) = &self.issuer {
            if issuer.is_empty() {
                problems.push("issuer must not be empty".to_owned());
            }
            if self.audiences.is_empty() {
                problems
                    .push("audiences must list at least one value when issuer is set".to_owned());
            }
        }
        let mut uris = Vec::new();
        for (i, external) in self.issuers.iter().enumerate() {
            if external.issuer.is_empty() {
                problems.push(format!("issuers[{i}].issuer must not be empty"));
            }
            if external.audiences.is_empty() {
                problems.push(format!(
                    "issuers[{i}].audiences must list at least one value"
                ));
            }
            let seen_before = self.issuers[..i]
                .iter()
                .any(|o| o.issuer == external.issuer)
                || self.issuer.as_ref() == Some(&external.issuer);
            if seen_before {
                problems.push(format!(
                    "issuers[{i}].issuer {:?} is listed twice",
                    external.issuer
                ));
            }
            match check_jwks_url(&external.jwks_url) {
                Ok(uri) => uris.push(uri),
                Err(problem) => problems.push(format!("issuers[{i}]: {problem}")),
            }
        }
        if problems.is_empty() {
            Ok(uris)
        } else {
            Err(ConfigError { problems })
        }
    }
}

/// Why the plugin could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Settings are inconsistent.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The KEK could not be loaded.
    #[error(transparent)]
    Kek(#[from] KeyError),
    /// The Redis URL is malformed.
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// What the host wires: key management (admin API, token service, JWKS
/// endpoint) and the verifier (gateway).
#[derive(Clone)]
pub struct Auth {
    /// Create, list, rotate, retire, JWKS, sign.
    pub keys: Arc<KeyManager>,
    /// Per-request verification.
    pub verifier: Arc<Verifier>,
    /// The family revocation list the verifier checks (when the node has a
    /// kv store); the token service writes to the same one.
    pub revocations: Option<Arc<FamilyRevocations>>,
    replay: Arc<dyn ReplayStore>,
    kek: KekSource,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("keys", &self.keys)
            .field("verifier", &self.verifier)
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// The node's token service over `kv`, sharing this node's keys,
    /// revocation list (so a revocation here stops the family's tokens at
    /// this node's gateway at once) and replay store (DPoP proof ids).
    pub fn token_service(
        &self,
        kv: Arc<dyn KvStore>,
        settings: ServiceSettings,
    ) -> Result<TokenService, ServiceError> {
        let revocations = match &self.revocations {
            Some(revocations) => revocations.clone(),
            None => Arc::new(FamilyRevocations::new(kv.clone(), Duration::from_secs(1))),
        };
        let kek = Kek::load(&self.kek).map_err(ServiceError::from)?;
        TokenService::new(
            kv,
            self.keys.clone(),
            Arc::new(kek),
            revocations,
            self.replay.clone(),
            settings,
        )
    }
}

/// Builds the plugin. `kv` is the node's kv store, needed when keys or
/// replay ids live there (`type = "kv"`).
pub async fn build(config: &Config, kv: Option<Arc<dyn KvStore>>) -> Result<Auth, BuildError> {
    config.service.validate()?;
    let kv_needed = || {
        kv.clone().ok_or_else(|| ConfigError {
            problems: vec!["auth uses type = \"kv\" but the node has no kv store".to_owned()],
        })
    };
    let store: Arc<dyn KeyStore> = match config.keys {
        KeyStoreConfig::Memory => Arc::new(MemoryKeyStore::default()),
        KeyStoreConfig::Kv => Arc::new(KvKeyStore::new(kv_needed()?)),
    };
    let replay: Arc<dyn ReplayStore> = match &config.replay {
        ReplayConfig::Memory => Arc::new(MemoryReplayStore::default()),
        ReplayConfig::Kv => Arc::new(KvReplayStore::new(kv_needed()?)),
        ReplayConfig::Redis(redis) => Arc::new(RedisReplayStore::new(
            RedisHandle::connect(&redis.settings()).await?,
        )),
    };
    let replay_for_service = replay.clone();
    let keys = Arc::new(KeyManager::new(
        store,
        Kek::load(&config.kek)?,
        KeySettings {
            rotation_overlap: Duration::from_secs(config.rotation_overlap_s),
            snapshot_ttl: Duration::from_millis(config.key_snapshot_ttl_ms),
        },
    ));
    let mut verifier = Verifier::new(
        keys.clone(),
        replay,
        VerifierSettings {
            jwks: config.jwks,
            cache_max_entries: config.cache_max_entries,
        },
    );
    if let Some(path) = &config.jwks_ca_file {
        let named = |problem: String| ConfigError {
            problems: vec![format!("jwks_ca_file {}: {problem}", path.display())],
        };
        let pem = std::fs::read(path).map_err(|e| named(format!("cannot be read: {e}")))?;
        verifier = verifier
            .with_jwks_roots(&pem)
            .map_err(|e| named(e.problems.join("; ")))?;
    }
    let revocations = kv.as_ref().map(|kv| {
        Arc::new(FamilyRevocations::new(
            kv.clone(),
            Duration::from_millis(config.revocation_cache_ms),
        ))
    });
    if let Some(revocations) = &revocations {
        verifier = verifier.with_revocations(revocations.clone());
    }
    let verifier = Arc::new(verifier);
    Ok(Auth {
        keys,
        verifier,
        revocations,
        replay: replay_for_service,
        kek: config.kek.clone(),
    })
}

/// Seconds since the Unix epoch, for the `now` arguments.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The tenant id as a realm, when the tenant sets none.
pub(crate) fn realm_of(tenant: &Tenant, config: &TenantAuthConfig) -> Arc<str> {
    Arc::from(config.realm.as_deref().unwrap_or(tenant.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_config_parses_and_rejects_unknown_keys() {
        let config: Config = toml::from_str(
            "kek = { type = \"env\", var = \"K\" }\n[keys]\ntype = \"kv\"\n[replay]\ntype = \"redis\"\nurl = \"redis://h/\"\n[jwks]\nmax_stale_s = 60\n",
        )
        .unwrap();
        assert_eq!(config.keys, KeyStoreConfig::Kv);
        assert!(matches!(config.replay, ReplayConfig::Redis(_)));
        let defaults: Config = toml::from_str("kek = { type = \"env\", var = \"K\" }").unwrap();
        assert_eq!(defaults.keys, KeyStoreConfig::Kv, "keys survive a restart");
        assert!(
            matches!(defaults.replay, ReplayConfig::Kv),
            "replay ids are shared"
        );
        assert_eq!(config.jwks.max_stale_s, 60);
        assert_eq!(config.jwks.min_refetch_interval_s, 30);
        assert_eq!(config.jwks_ca_file, None);
        let with_ca: Config = toml::from_str(
            "kek = { type = \"env\", var = \"K\" }\njwks_ca_file = \"/etc/ca.pem\"\n",
        )
        .unwrap();
        assert_eq!(
            with_ca.jwks_ca_file.as_deref(),
            Some(std::path::Path::new("/etc/ca.pem"))
        );
        assert!(
            toml::from_str::<Config>("kek = { type = \"env\", var = \"K\" }\nttl = 1\n").is_err()
        );
        assert!(toml::from_str::<Config>("kek = { type = \"vault\" }\n").is_err());
    }

    #[tokio::test]
    async fn the_token_service_section_is_parsed_and_validated_by_build() {
        let config: Config = toml::from_str(
            "kek = { type = \"env\", var = \"K\" }\n[keys]\ntype = \"memory\"\n[replay]\ntype = \"memory\"\n[service]\nrefresh_grace_s = 6\n",
        )
        .unwrap();
        assert_eq!(config.service.refresh_grace_s, 6);
        assert!(matches!(
            build(&config, None).await,
            Err(BuildError::Config(_))
        ));
        assert!(
            toml::from_str::<Config>(
                "kek = { type = \"env\", var = \"K\" }\n[service]\ngrace = 1\n"
            )
            .is_err()
        );
    }

    #[test]
    fn tenant_config_reports_every_problem() {
        let config: TenantAuthConfig = toml::from_str(
            r#"
            issuer = "https://acme/"
            leeway_s = 31
            [[issuers]]
            issuer = "https://acme/"
            audiences = []
            jwks_url = "http://idp.example.com/jwks"
            "#,
        )
        .unwrap();
        let problems = config.validate().unwrap_err().problems;
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert_eq!(TenantAuthConfig::default().max_token_lifetime_s, 900);
        let off: TenantAuthConfig = toml::from_str("token_service = false").unwrap();
        assert!(!off.token_service && TenantAuthConfig::default().token_service);
        let json = serde_json::to_string(&TenantAuthConfig::default()).unwrap();
        assert!(
            !json.contains("token_service"),
            "unchanged wire format: {json}"
        );
        assert!(toml::from_str::<TenantAuthConfig>("issuers = [{ issuer = \"i\", audiences = [\"a\"], jwks_url = \"https://x/\", jku = \"y\" }]").is_err());
    }
}

//! Key management for the admin API and the token service: create, list,
//! rotate, retire, publish the JWKS, sign; and the verifier's view of the
//! keys that may verify (cached briefly per node).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{DecodingKey, Header};
use serde::{Deserialize, Serialize};
use warden_plugin_core::{BackendError, Tenant};

use super::kek::Kek;
use super::material;
use super::secret::SecretBytes;
use super::store::KeyStore;
use crate::{KeyAlg, KeyError, KeyInfo, KeyState, NewKey, PublicKey};

/// How often a key-set update is retried when another writer wins.
const CAS_ATTEMPTS: usize = 8;

/// One key as sealed in the store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyRecord {
    kid: String,
    alg: KeyAlg,
    state: KeyState,
    created_at: u64,
    not_before: u64,
    not_after: Option<u64>,
    public: PublicKey,
    secret: SecretBytes,
}

impl KeyRecord {
    fn info(&self) -> KeyInfo {
        KeyInfo {
            kid: self.kid.clone(),
            alg: self.alg,
            state: self.state,
            created_at: self.created_at,
            not_before: self.not_before,
            not_after: self.not_after,
            public_jwk: self.public.jwk(&self.kid, self.alg),
        }
    }

    /// Not retired and inside its window at `now`.
    fn verifies_at(&self, now: u64) -> bool {
        self.state != KeyState::Retired
            && now >= self.not_before
            && self.not_after.is_none_or(|end| now < end)
    }
}

/// The plaintext of a sealed key set.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeySetDoc {
    keys: Vec<KeyRecord>,
}

/// A key that may verify tokens: public material (or the HMAC secret,
/// which never leaves the process) and the pinned algorithm.
#[derive(Clone)]
pub(crate) struct TrustedKey {
    pub(crate) alg: KeyAlg,
    pub(crate) decoding: DecodingKey,
    pub(crate) not_before: u64,
    pub(crate) not_after: Option<u64>,
}

impl TrustedKey {
    pub(crate) fn valid_at(&self, now: u64) -> bool {
        now >= self.not_before && self.not_after.is_none_or(|end| now < end)
    }
}

/// A tenant's verifying keys by `kid`.
pub(crate) type TrustedKeys = HashMap<String, TrustedKey>;

/// Tuning of the key manager.
#[derive(Debug, Clone, Copy)]
pub struct KeySettings {
    /// How long the previous key keeps verifying after a rotation.
    pub rotation_overlap: Duration,
    /// How long a node reuses a tenant's verifying keys before reading the
    /// store again: the bound on how late a retirement reaches other nodes.
    pub snapshot_ttl: Duration,
}

impl Default for KeySettings {
    fn default() -> Self {
        Self {
            rotation_overlap: Duration::from_secs(24 * 3600),
            snapshot_ttl: Duration::from_secs(5),
        }
    }
}

/// Per-tenant signing keys over a [`KeyStore`], sealed with a [`Kek`].
pub struct KeyManager {
    store: Arc<dyn KeyStore>,
    kek: Kek,
    settings: KeySettings,
    snapshots: moka::future::Cache<Tenant, Arc<TrustedKeys>>,
}

impl std::fmt::Debug for KeyManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyManager")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl KeyManager {
    /// A manager over `store`, sealing with `kek`.
    pub fn new(store: Arc<dyn KeyStore>, kek: Kek, settings: KeySettings) -> Self {
        let snapshots = moka::future::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(settings.snapshot_ttl)
            .build();
        Self {
            store,
            kek,
            settings,
            snapshots,
        }
    }

    /// Generates a key. It becomes active if the tenant has no active key,
    /// else verify-only (published ahead, so relying parties learn it before
    /// it signs; a later [`rotate`](Self::rotate) makes a new active key).
    pub async fn create(
        &self,
        tenant: &Tenant,
        spec: NewKey,
        now: u64,
    ) -> Result<KeyInfo, KeyError> {
        let record = self.new_record(&spec, now)?;
        self.update(tenant, move |doc| {
            let mut record = record.clone();
            if doc.keys.iter().any(|k| k.state == KeyState::Active) {
                record.state = KeyState::VerifyOnly;
            }
            doc.keys.push(record.clone());
            Ok(record.info())
        })
        .await
    }

    /// Every key of the tenant, public information only, newest last.
    pub async fn list(&self, tenant: &Tenant) -> Result<Vec<KeyInfo>, KeyError> {
        let (doc, _) = self.read(tenant).await?;
        Ok(doc.keys.iter().map(KeyRecord::info).collect())
    }

    /// Makes a new active key; the previous active key becomes verify-only
    /// until `now + rotation_overlap` (or its own earlier end).
    pub async fn rotate(
        &self,
        tenant: &Tenant,
        spec: NewKey,
        now: u64,
    ) -> Result<KeyInfo, KeyError> {
        let record = self.new_record(&spec, now)?;
        let overlap_end = now.saturating_add(self.settings.rotation_overlap.as_secs());
        self.update(tenant, move |doc| {
            for key in &mut doc.keys {
                if key.state == KeyState::Active {
                    key.state = KeyState::VerifyOnly;
                    key.not_after = Some(key.not_after.map_or(overlap_end, |e| e.min(overlap_end)));
                }
            }
            doc.keys.push(record.clone());
            Ok(record.info())
        })
        .await
    }

    /// Retires a key: it stops signing and verifying at once on this node,
    /// and within the snapshot TTL on the others. Retiring the active key
    /// leaves the tenant unable to sign until the next rotation.
    pub async fn retire(&self, tenant: &Tenant, kid: &str) -> Result<KeyInfo, KeyError> {
        self.update(tenant, |doc| {
            let key = doc
                .keys
                .iter_mut()
                .find(|k| k.kid == kid)
                .ok_or(KeyError::UnknownKid)?;
            key.state = KeyState::Retired;
            Ok(key.info())
        })
        .await
    }

    /// The tenant's public JWKS (RFC 7517), for `/.well-known/jwks.json`:
    /// every asymmetric key that verifies at `now`.
    pub async fn jwks(&self, tenant: &Tenant, now: u64) -> Result<String, KeyError> {
        let (doc, _) = self.read(tenant).await?;
        let keys: Vec<_> = doc
            .keys
            .iter()
            .filter(|k| k.verifies_at(now))
            .filter_map(|k| k.public.jwk(&k.kid, k.alg))
            .collect();
        serde_json::to_string(&serde_json::json!({ "keys": keys }))
            .map_err(|e| KeyError::Crypto(e.to_string()))
    }

    /// Signs `claims` with the tenant's active key; the header has `alg`,
    /// `kid` and `typ: at+jwt`. The caller sets `iss`, `aud`, `sub`, `exp`.
    pub async fn sign(
        &self,
        tenant: &Tenant,
        claims: &impl Serialize,
        now: u64,
    ) -> Result<String, KeyError> {
        self.sign_typed(tenant, claims, "at+jwt", now).await
    }

    /// As [`sign`](Self::sign) with another `typ`: ID tokens are `JWT`, so
    /// a resource server that insists on `at+jwt` (RFC 9068 section 4)
    /// never takes an ID token for an access token.
    pub async fn sign_typed(
        &self,
        tenant: &Tenant,
        claims: &impl Serialize,
        typ: &str,
        now: u64,
    ) -> Result<String, KeyError> {
        let (doc, _) = self.read(tenant).await?;
        let key = doc
            .keys
            .iter()
            .find(|k| k.state == KeyState::Active && k.verifies_at(now))
            .ok_or(KeyError::NoActiveKey)?;
        let mut header = Header::new(key.alg.jsonwebtoken());
        header.kid = Some(key.kid.clone());
        header.typ = Some(typ.into());
        let encoding = material::encoding_key(key.alg, &key.secret)?;
        jsonwebtoken::encode(&header, claims, &encoding)
            .map_err(|e| KeyError::Crypto(e.to_string()))
    }

    /// The keys that may verify the tenant's tokens (retired ones left
    /// out), from a snapshot at most `snapshot_ttl` old.
    pub(crate) async fn trusted(&self, tenant: &Tenant) -> Result<Arc<TrustedKeys>, KeyError> {
        if let Some(keys) = self.snapshots.get(tenant).await {
            return Ok(keys);
        }
        let (doc, _) = self.read(tenant).await?;
        let mut keys = TrustedKeys::new();
        for k in doc.keys.iter().filter(|k| k.state != KeyState::Retired) {
            let trusted = TrustedKey {
                alg: k.alg,
                decoding: material::decoding_key(k.alg, &k.public, &k.secret)?,
                not_before: k.not_before,
                not_after: k.not_after,
            };
            keys.insert(k.kid.clone(), trusted);
        }
        let keys = Arc::new(keys);
        self.snapshots.insert(tenant.clone(), keys.clone()).await;
        Ok(keys)
    }

    fn new_record(&self, spec: &NewKey, now: u64) -> Result<KeyRecord, KeyError> {
        let alg = spec.alg.unwrap_or(KeyAlg::EdDSA);
        let (public, secret) = material::generate(alg, spec)?;
        Ok(KeyRecord {
            kid: material::new_kid()?,
            alg,
            state: KeyState::Active,
            created_at: now,
            not_before: now,
            not_after: spec.not_after,
            public,
            secret,
        })
    }

    async fn read(&self, tenant: &Tenant) -> Result<(KeySetDoc, Option<Vec<u8>>), KeyError> {
        let Some(sealed) = self.store.load(tenant).await? else {
            return Ok((KeySetDoc::default(), None));
        };
        let plain = self.kek.open(tenant, &sealed)?;
        let doc = serde_json::from_slice(&plain)
            .map_err(|_| KeyError::Store(BackendError::failed("stored key set is not readable")))?;
        Ok((doc, Some(sealed)))
    }

    /// Read, change, compare-and-swap; retried when another writer wins.
    async fn update<T>(
        &self,
        tenant: &Tenant,
        change: impl Fn(&mut KeySetDoc) -> Result<T, KeyError>,
    ) -> Result<T, KeyError> {
        for _ in 0..CAS_ATTEMPTS {
            let (mut doc, previous) = self.read(tenant).await?;
            let out = change(&mut doc)?;
            let plain = zeroize::Zeroizing::new(
                serde_json::to_vec(&doc).map_err(|e| KeyError::Crypto(e.to_string()))?,
            );
            let sealed = self.kek.seal(tenant, &plain)?;
            if self
                .store
                .replace(tenant, previous.as_deref(), sealed)
                .await?
            {
                self.snapshots.invalidate(tenant).await;
                return Ok(out);
            }
        }
        Err(KeyError::Conflict)
    }
}

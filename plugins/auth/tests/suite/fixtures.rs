//! A tenant with keys and a verifier around it, and ways to make tokens:
//! signed by the tenant's key manager, or forged byte by byte and signed
//! with an HS256 key whose secret the test knows (so a hostile header is
//! refused for what it says, not for a bad signature).

use std::sync::Arc;

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use warden_plugin_auth::replay::{MemoryReplayStore, ReplayStore};
use warden_plugin_auth::{
    AuthError, Kek, KeyAlg, KeyInfo, KeyManager, KeySettings, KeyStore, MemoryKeyStore, NewKey,
    Reason, RoutePolicy, Tenant, TenantAuthConfig, VerifiedPrincipal, Verifier, VerifierSettings,
};

pub const NOW: u64 = 1_900_000_000;
pub const ACME_ISS: &str = "https://acme.test/";
pub const ACME_AUD: &str = "acme-api";
/// The secret of the test's HS256 key (256 bits).
pub const HS_SECRET: &[u8; 32] = b"0123456789abcdef0123456789abcdef";

pub fn tenant(id: &str) -> Tenant {
    Tenant::new(id).unwrap()
}

pub fn kek() -> Kek {
    Kek::from_bytes(&[42; 32])
}

pub fn acme_config() -> TenantAuthConfig {
    TenantAuthConfig {
        issuer: Some(ACME_ISS.into()),
        audiences: vec![ACME_AUD.into()],
        ..TenantAuthConfig::default()
    }
}

/// One node: a key manager and a verifier over the given stores.
pub struct Node {
    pub keys: Arc<KeyManager>,
    pub verifier: Verifier,
}

impl Node {
    pub fn new(store: Arc<dyn KeyStore>, replay: Arc<dyn ReplayStore>) -> Self {
        let keys = Arc::new(KeyManager::new(store, kek(), KeySettings::default()));
        let verifier = Verifier::new(keys.clone(), replay, VerifierSettings::default());
        Self { keys, verifier }
    }

    pub fn memory() -> Self {
        Self::new(
            Arc::new(MemoryKeyStore::default()),
            Arc::new(MemoryReplayStore::default()),
        )
    }
}

/// Tenant `acme` with an active EdDSA key and a verify-only HS256 key of
/// known secret.
pub struct Env {
    pub node: Node,
    pub acme: Tenant,
    pub ed: KeyInfo,
    pub hs: KeyInfo,
}

impl Env {
    pub async fn new() -> Self {
        Self::on(Node::memory()).await
    }

    pub async fn on(node: Node) -> Self {
        let acme = tenant("acme");
        node.verifier.set_tenant(&acme, acme_config()).unwrap();
        let ed = node
            .keys
            .create(&acme, NewKey::default(), NOW - 60)
            .await
            .unwrap();
        let hs = node
            .keys
            .create(
                &acme,
                NewKey {
                    alg: Some(KeyAlg::HS256),
                    secret: Some(HS_SECRET.to_vec()),
                    ..NewKey::default()
                },
                NOW - 60,
            )
            .await
            .unwrap();
        Self { node, acme, ed, hs }
    }

    /// A token signed by acme's active key.
    pub async fn sign(&self, claims: &impl serde::Serialize) -> String {
        self.node.keys.sign(&self.acme, claims, NOW).await.unwrap()
    }

    pub async fn verify(
        &self,
        token: &str,
        policy: &RoutePolicy,
    ) -> Result<VerifiedPrincipal, AuthError> {
        self.verify_at(token, policy, NOW).await
    }

    pub async fn verify_at(
        &self,
        token: &str,
        policy: &RoutePolicy,
        now: u64,
    ) -> Result<VerifiedPrincipal, AuthError> {
        let header = format!("Bearer {token}");
        self.node
            .verifier
            .verify(&self.acme, Some(&header), policy, now)
            .await
    }

    /// A header for the HS256 key (`kid` set) plus `extra` members.
    pub fn hs_header(&self, extra: Value) -> Value {
        let mut header = json!({"alg": "HS256", "kid": self.hs.kid, "typ": "at+jwt"});
        for (k, v) in extra.as_object().unwrap() {
            header[k] = v.clone();
        }
        header
    }

    /// Refusal of `token` with `reason`, as 401 `invalid_token`, with a
    /// challenge that does not echo the token.
    pub async fn assert_invalid(&self, token: &str, reason: Reason) {
        let error = self
            .verify(token, &RoutePolicy::default())
            .await
            .unwrap_err();
        assert_invalid_token(&error, reason, token);
    }
}

pub fn assert_invalid_token(error: &AuthError, reason: Reason, token: &str) {
    assert_eq!(error.reason(), reason, "{error}");
    assert_eq!((error.status(), error.code()), (401, "invalid_token"));
    let challenge = error.www_authenticate().unwrap();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(
        challenge.starts_with("Bearer realm=\"acme\""),
        "{challenge}"
    );
    if token.len() > 8 {
        assert!(!challenge.contains(token) && !error.to_string().contains(token));
    }
}

/// Good claims for acme at [`NOW`].
pub fn claims() -> Value {
    json!({
        "iss": ACME_ISS,
        "aud": ACME_AUD,
        "sub": "user-1",
        "iat": NOW,
        "exp": NOW + 300,
        "scope": "orders:read orders:write",
        "jti": "jti-1",
    })
}

/// `claims()` with `changes` applied (`null` removes a member).
pub fn claims_with(changes: Value) -> Value {
    let mut out = claims();
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            out.as_object_mut().unwrap().remove(k);
        } else {
            out[k] = v.clone();
        }
    }
    out
}

pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `b64(header).b64(payload)` signed with HMAC-SHA-256 under `secret`.
pub fn hs_token_raw(header: &str, payload: &str, secret: &[u8]) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let key = EncodingKey::from_secret(secret).unwrap();
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::HS256).unwrap();
    format!("{input}.{signature}")
}

/// A token with the test's HS256 key.
pub fn hs_token(header: &Value, payload: &Value) -> String {
    hs_token_raw(&header.to_string(), &payload.to_string(), HS_SECRET)
}

pub fn b64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

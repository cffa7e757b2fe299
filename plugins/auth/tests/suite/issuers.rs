//! External issuers against a real JWKS server: the IdP is another Warden
//! key manager (tenant `idp`) whose JWKS the server serves. Proves the
//! background fetch, the rate-limited refetch on an unknown `kid`, stale
//! keys while the issuer is down, the stale bound, backoff, the
//! loopback-only rule for `http://`, and HTTPS: a server whose certificate
//! comes from a test CA is trusted with that CA as an extra root (given to
//! the verifier, or as `jwks_ca_file` to `build()`) and refused without it.

use std::time::Duration;

use serde_json::{Value, json};
use warden_plugin_auth::replay::MemoryReplayStore;
use warden_plugin_auth::{
    IssuerConfig, JwksSettings, Kek, KeyManager, KeySettings, MemoryKeyStore, NewKey, Reason,
    RoutePolicy, Tenant, TenantAuthConfig, Verifier, VerifierSettings,
};

use crate::fixtures::*;
use crate::jwks_server::{JwksServer, TestCa};

const IDP_ISS: &str = "https://login.idp.test/";

struct Idp {
    keys: KeyManager,
    tenant: Tenant,
}

impl Idp {
    async fn new() -> Self {
        let keys = KeyManager::new(
            std::sync::Arc::new(MemoryKeyStore::default()),
            Kek::from_bytes(&[9; 32]),
            KeySettings::default(),
        );
        let tenant = tenant("idp");
        keys.create(&tenant, NewKey::default(), NOW - 60)
            .await
            .unwrap();
        Self { keys, tenant }
    }

    async fn jwks(&self) -> String {
        self.keys.jwks(&self.tenant, NOW).await.unwrap()
    }

    async fn token(&self, sub: &str) -> String {
        let claims =
            json!({"iss": IDP_ISS, "aud": "acme-api", "sub": sub, "iat": NOW, "exp": NOW + 300});
        self.keys.sign(&self.tenant, &claims, NOW).await.unwrap()
    }
}

fn verifier(jwks: JwksSettings) -> Verifier {
    let keys = std::sync::Arc::new(KeyManager::new(
        std::sync::Arc::new(MemoryKeyStore::default()),
        kek(),
        KeySettings::default(),
    ));
    Verifier::new(
        keys,
        std::sync::Arc::new(MemoryReplayStore::default()),
        VerifierSettings {
            jwks,
            cache_max_entries: 1000,
        },
    )
}

fn trusting(url: &str) -> TenantAuthConfig {
    TenantAuthConfig {
        issuers: vec![IssuerConfig {
            issuer: IDP_ISS.into(),
            audiences: vec!["acme-api".into()],
            jwks_url: url.into(),
        }],
        ..TenantAuthConfig::default()
    }
}

async fn verify(
    v: &Verifier,
    token: &str,
) -> Result<warden_plugin_auth::VerifiedPrincipal, warden_plugin_auth::AuthError> {
    v.verify(
        &tenant("acme"),
        Some(&format!("Bearer {token}")),
        &RoutePolicy::default(),
        NOW,
    )
    .await
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

fn settings() -> JwksSettings {
    JwksSettings {
        min_refetch_interval_s: 60,
        ..JwksSettings::default()
    }
}

/// A token with the IdP's issuer but a `kid` the IdP never had.
fn forged(kid: &str) -> String {
    let header = json!({"alg": "EdDSA", "kid": kid}).to_string();
    let claims =
        json!({"iss": IDP_ISS, "aud": "acme-api", "sub": "x", "exp": NOW + 60}).to_string();
    format!(
        "{}.{}.{}",
        b64(header.as_bytes()),
        b64(claims.as_bytes()),
        b64(&[0; 64])
    )
}

#[tokio::test]
async fn tokens_of_a_trusted_issuer_verify_with_its_fetched_keys() {
    let idp = Idp::new().await;
    let server = JwksServer::start(idp.jwks().await).await;
    let v = verifier(settings());
    v.set_tenant(&tenant("acme"), trusting(&server.url))
        .unwrap();
    let principal = verify(&v, &idp.token("alice").await).await.unwrap();
    assert_eq!(
        (principal.issuer.as_str(), principal.subject.as_str()),
        (IDP_ISS, "alice")
    );
    assert!(server.hits() >= 1);
    // The issuer's audience rules apply.
    let other_aud = idp
        .keys
        .sign(
            &idp.tenant,
            &json!({"iss": IDP_ISS, "aud": "x", "sub": "a", "exp": NOW + 60}),
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(
        verify(&v, &other_aud).await.unwrap_err().reason(),
        Reason::WrongAudience
    );
    // An issuer nobody configured.
    let stranger = idp
        .keys
        .sign(
            &idp.tenant,
            &json!({"iss": "https://other/", "aud": "acme-api", "sub": "a", "exp": NOW + 60}),
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(
        verify(&v, &stranger).await.unwrap_err().reason(),
        Reason::UnknownIssuer
    );
}

#[tokio::test]
async fn an_unknown_kid_triggers_at_most_one_rate_limited_refetch() {
    let idp = Idp::new().await;
    let server = JwksServer::start(idp.jwks().await).await;
    let v = verifier(settings());
    v.set_tenant(&tenant("acme"), trusting(&server.url))
        .unwrap();
    wait_for("the background fetch", || server.hits() == 1).await;
    verify(&v, &idp.token("alice").await).await.unwrap();
    assert_eq!(server.hits(), 1);

    // The IdP rotates: its new kid is unknown here, one refetch finds it.
    idp.keys
        .rotate(&idp.tenant, NewKey::default(), NOW)
        .await
        .unwrap();
    server.set_body(idp.jwks().await);
    verify(&v, &idp.token("bob").await).await.unwrap();
    assert_eq!(server.hits(), 2);

    // Made-up kids: no more fetches within the interval.
    for i in 0..10 {
        let error = verify(&v, &forged(&format!("bogus-{i}")))
            .await
            .unwrap_err();
        assert_eq!(error.reason(), Reason::UnknownKid);
    }
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn stale_keys_keep_working_while_the_issuer_is_down() {
    let idp = Idp::new().await;
    let server = JwksServer::start(idp.jwks().await).await;
    let v = verifier(JwksSettings {
        min_refetch_interval_s: 0,
        ..settings()
    });
    v.set_tenant(&tenant("acme"), trusting(&server.url))
        .unwrap();
    wait_for("the background fetch", || server.hits() == 1).await;
    server.stop().await;

    verify(&v, &idp.token("carol").await).await.unwrap();
    // An unknown kid makes a refetch, which fails; the known keys stay.
    assert_eq!(
        verify(&v, &forged("gone")).await.unwrap_err().reason(),
        Reason::UnknownKid
    );
    assert!(v.stats().jwks_refresh_failures >= 1);
    verify(&v, &idp.token("dave").await).await.unwrap();
}

#[tokio::test]
async fn past_the_stale_bound_the_issuers_tokens_are_refused() {
    let idp = Idp::new().await;
    let server = JwksServer::start(idp.jwks().await).await;
    let v = verifier(JwksSettings {
        max_stale_s: 1,
        ..settings()
    });
    v.set_tenant(&tenant("acme"), trusting(&server.url))
        .unwrap();
    wait_for("the background fetch", || server.hits() == 1).await;
    server.stop().await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let error = verify(&v, &idp.token("erin").await).await.unwrap_err();
    assert_eq!(
        (error.status(), error.reason()),
        (503, Reason::JwksUnavailable)
    );
}

#[tokio::test]
async fn background_retries_back_off() {
    let idp = Idp::new().await;
    let server = JwksServer::start(idp.jwks().await).await;
    let url = server.url.clone();
    server.stop().await;
    let v = verifier(settings());
    v.set_tenant(&tenant("acme"), trusting(&url)).unwrap();
    // Attempts at about 0 s, 1 s, 3 s: two by 2.5 s, not a hot loop.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let failures = v.stats().jwks_refresh_failures;
    assert!((1..=3).contains(&failures), "{failures}");
}

#[tokio::test]
async fn an_https_issuer_verifies_when_its_ca_is_an_extra_root() {
    let idp = Idp::new().await;
    let ca = TestCa::new();
    let server = JwksServer::start_tls(idp.jwks().await, &ca).await;
    assert!(
        server.url.starts_with("https://localhost:"),
        "{}",
        server.url
    );
    let v = verifier(settings())
        .with_jwks_roots(ca.ca_pem.as_bytes())
        .unwrap();
    v.set_tenant(&tenant("acme"), trusting(&server.url))
        .unwrap();
    let principal = verify(&v, &idp.token("frank").await).await.unwrap();
    assert_eq!(
        (principal.issuer.as_str(), principal.subject.as_str()),
        (IDP_ISS, "frank")
    );
    assert!(server.hits() >= 1);
    assert_eq!(v.stats().jwks_refresh_failures, 0);
}

#[tokio::test]
async fn an_https_issuer_with_an_untrusted_certificate_is_unavailable() {
    let idp = Idp::new().await;
    let ca = TestCa::new();
    let server = JwksServer::start_tls(idp.jwks().await, &ca).await;
    // Only the built-in roots; then another CA's root: neither trusts it.
    let other_ca = TestCa::new();
    let untrusting = [
        verifier(settings()),
        verifier(settings())
            .with_jwks_roots(other_ca.ca_pem.as_bytes())
            .unwrap(),
    ];
    for v in &untrusting {
        v.set_tenant(&tenant("acme"), trusting(&server.url))
            .unwrap();
        let error = verify(v, &idp.token("frank").await).await.unwrap_err();
        assert_eq!(
            (error.status(), error.reason()),
            (503, Reason::JwksUnavailable)
        );
        assert!(v.stats().jwks_refresh_failures >= 1);
    }
    // The handshake failed: no request ever reached the server.
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn extra_jwks_roots_must_be_pem_certificates() {
    for bad in [
        &b""[..],
        b"hello",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    ] {
        let error = verifier(settings()).with_jwks_roots(bad).unwrap_err();
        assert!(error.problems[0].contains("certificate"), "{error}");
    }
}

#[tokio::test]
async fn build_trusts_https_issuers_of_the_jwks_ca_file() {
    let idp = Idp::new().await;
    let ca = TestCa::new();
    let server = JwksServer::start_tls(idp.jwks().await, &ca).await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.ca_pem).unwrap();
    let mut config = warden_plugin_auth::Config::embedded(dir.path());
    config.keys = warden_plugin_auth::KeyStoreConfig::Memory;
    config.replay = warden_plugin_auth::ReplayConfig::Memory;
    config.jwks_ca_file = Some(ca_file);
    let auth = warden_plugin_auth::build(&config, None).await.unwrap();
    auth.verifier
        .set_tenant(&tenant("acme"), trusting(&server.url))
        .unwrap();
    let principal = verify(&auth.verifier, &idp.token("gail").await)
        .await
        .unwrap();
    assert_eq!(principal.subject, "gail");
}

#[tokio::test]
async fn plain_http_jwks_urls_must_be_loopback() {
    let v = verifier(settings());
    let error = v
        .set_tenant(&tenant("acme"), trusting("http://idp.example.com/jwks"))
        .unwrap_err();
    assert!(error.problems[0].contains("loopback"), "{error}");
}

#[tokio::test]
async fn the_tenants_own_jwks_is_a_valid_rfc_7517_document_for_other_verifiers() {
    // acme's published JWKS, served over HTTP, lets a second verifier
    // trust acme's tokens as an external issuer.
    let env = Env::new().await;
    let server = JwksServer::start(env.node.keys.jwks(&env.acme, NOW).await.unwrap()).await;
    let v = verifier(settings());
    let config = TenantAuthConfig {
        issuers: vec![IssuerConfig {
            issuer: ACME_ISS.into(),
            audiences: vec![ACME_AUD.into()],
            jwks_url: server.url.clone(),
        }],
        ..TenantAuthConfig::default()
    };
    v.set_tenant(&tenant("acme"), config).unwrap();
    let token = env.sign(&claims()).await;
    verify(&v, &token).await.unwrap();
    let doc: Value =
        serde_json::from_str(&env.node.keys.jwks(&env.acme, NOW).await.unwrap()).unwrap();
    assert_eq!(doc["keys"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_reload_during_an_outage_keeps_the_stale_keys_of_unchanged_issuers() {
    let idp = Idp::new().await;
    let server = JwksServer::start(idp.jwks().await).await;
    let v = verifier(settings());
    v.set_tenant(&tenant("acme"), trusting(&server.url))
        .unwrap();
    wait_for("the background fetch", || server.hits() == 1).await;
    let url = server.url.clone();
    server.stop().await;
    // The host reloads the tenant (a deploy) while the IdP is down.
    let mut reloaded = trusting(&url);
    reloaded.max_token_lifetime_s = 600;
    v.set_tenant(&tenant("acme"), reloaded).unwrap();
    verify(&v, &idp.token("gina").await).await.unwrap();
    // A changed issuer starts afresh (and cannot fetch now).
    let mut changed = trusting(&url);
    changed.issuers[0].audiences.push("more".into());
    v.set_tenant(&tenant("acme"), changed).unwrap();
    let error = verify(&v, &idp.token("hank").await).await.unwrap_err();
    assert_eq!(error.reason(), Reason::JwksUnavailable);
}

#[tokio::test]
async fn an_external_issuers_fid_is_not_looked_up_in_the_revocation_list() {
    let idp = Idp::new().await;
    let server = JwksServer::start(idp.jwks().await).await;
    let kv = std::sync::Arc::new(warden_plugin_kv::MemoryKv::new(1 << 20));
    let revocations = std::sync::Arc::new(warden_plugin_auth::FamilyRevocations::new(
        kv,
        Duration::ZERO,
    ));
    let v = verifier(settings()).with_revocations(revocations.clone());
    let acme = tenant("acme");
    v.set_tenant(&acme, trusting(&server.url)).unwrap();
    // acme's own token service revoked a family named "f-1"...
    revocations.revoke(&acme, "f-1", NOW + 900).await.unwrap();
    // ...which says nothing about the IdP's token that happens to carry it.
    let claims = json!({"iss": IDP_ISS, "aud": "acme-api", "sub": "a", "iat": NOW,
                        "exp": NOW + 300, "fid": "f-1"});
    let token = idp.keys.sign(&idp.tenant, &claims, NOW).await.unwrap();
    let principal = verify(&v, &token).await.unwrap();
    assert_eq!(principal.family, None);
}

//! Key management: every algorithm signs and verifies, weak keys are
//! refused at creation, rotation overlaps, retirement is immediate, the
//! JWKS shows public material only, and nothing private leaks through
//! `list` or `Debug`.

use std::sync::Arc;

use serde_json::Value;
use warden_plugin_auth::replay::MemoryReplayStore;
use warden_plugin_auth::{
    KV_KEYS_KEY, Kek, KeyAlg, KeyError, KeyManager, KeySettings, KeyState, KeyStore, KvKeyStore,
    NewKey, Reason, RoutePolicy,
};
use warden_plugin_kv::{KvStore, MemoryKv};

use crate::fixtures::*;

fn spec(alg: KeyAlg) -> NewKey {
    NewKey {
        alg: Some(alg),
        ..NewKey::default()
    }
}

#[tokio::test]
async fn every_algorithm_signs_and_verifies() {
    let node = Node::memory();
    let acme = tenant("acme");
    node.verifier.set_tenant(&acme, acme_config()).unwrap();
    for alg in [KeyAlg::EdDSA, KeyAlg::ES256, KeyAlg::RS256, KeyAlg::HS256] {
        let key = node.keys.rotate(&acme, spec(alg), NOW - 10).await.unwrap();
        assert_eq!((key.alg, key.state), (alg, KeyState::Active));
        let token = node.keys.sign(&acme, &claims(), NOW).await.unwrap();
        let header: Value =
            serde_json::from_slice(&base64_decode(token.split('.').next().unwrap())).unwrap();
        assert_eq!(header["alg"], alg.as_jws());
        assert_eq!(header["kid"], key.kid.as_str());
        assert_eq!(header["typ"], "at+jwt");
        let principal = node
            .verifier
            .verify(
                &acme,
                Some(&format!("Bearer {token}")),
                &RoutePolicy::default(),
                NOW,
            )
            .await
            .unwrap();
        assert_eq!(principal.subject, "user-1", "{alg:?}");
    }
    let rsa = node.keys.list(&acme).await.unwrap()[2]
        .public_jwk
        .clone()
        .unwrap();
    assert_eq!(base64_decode(rsa["n"].as_str().unwrap()).len(), 256);
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

#[tokio::test]
async fn weak_keys_are_refused_at_creation() {
    let node = Node::memory();
    let acme = tenant("acme");
    let weak = NewKey {
        alg: Some(KeyAlg::HS256),
        secret: Some(vec![7; 31]),
        ..NewKey::default()
    };
    assert!(matches!(
        node.keys.create(&acme, weak, NOW).await,
        Err(KeyError::WeakSecret { bits: 248 })
    ));
    let small_rsa = NewKey {
        rsa_bits: Some(1024),
        ..spec(KeyAlg::RS256)
    };
    assert!(matches!(
        node.keys.create(&acme, small_rsa, NOW).await,
        Err(KeyError::RsaTooSmall { bits: 1024 })
    ));
    let imported_ed = NewKey {
        secret: Some(vec![7; 32]),
        ..spec(KeyAlg::EdDSA)
    };
    assert!(matches!(
        node.keys.create(&acme, imported_ed, NOW).await,
        Err(KeyError::SecretNotAllowed)
    ));
    assert!(node.keys.list(&acme).await.unwrap().is_empty());
    assert!(matches!(
        node.keys.sign(&acme, &claims(), NOW).await,
        Err(KeyError::NoActiveKey)
    ));
}

#[tokio::test]
async fn rotation_overlaps_then_the_old_key_stops() {
    let env = Env::new().await;
    let old_token = env.sign(&claims()).await;
    let new = env
        .node
        .keys
        .rotate(&env.acme, NewKey::default(), NOW)
        .await
        .unwrap();
    let keys = env.node.keys.list(&env.acme).await.unwrap();
    let old = keys.iter().find(|k| k.kid == env.ed.kid).unwrap();
    assert_eq!(old.state, KeyState::VerifyOnly);
    assert_eq!(old.not_after, Some(NOW + 24 * 3600));
    let new_token = env
        .sign(&claims_with(serde_json::json!({"jti": "2"})))
        .await;
    let header: Value =
        serde_json::from_slice(&base64_decode(new_token.split('.').next().unwrap())).unwrap();
    assert_eq!(header["kid"], new.kid.as_str());
    // Both verify during the overlap.
    env.verify(&old_token, &RoutePolicy::default())
        .await
        .unwrap();
    env.verify(&new_token, &RoutePolicy::default())
        .await
        .unwrap();
    let active = env
        .node
        .keys
        .list(&env.acme)
        .await
        .unwrap()
        .iter()
        .filter(|k| k.state == KeyState::Active)
        .count();
    assert_eq!(active, 1);
    // After the overlap, the old key verifies nothing (its kid is unknown).
    let after = NOW + 24 * 3600 + 1;
    let forged_late = hs_token(
        &env.hs_header(serde_json::json!({"alg": "EdDSA", "kid": env.ed.kid})),
        &claims_with(serde_json::json!({"iat": after, "exp": after + 60})),
    );
    let error = env
        .verify_at(&forged_late, &RoutePolicy::default(), after)
        .await
        .unwrap_err();
    assert_eq!(error.reason(), Reason::UnknownKid);
}

#[tokio::test]
async fn the_jwks_has_public_verifying_keys_only() {
    let env = Env::new().await;
    let spare = env
        .node
        .keys
        .create(&env.acme, spec(KeyAlg::ES256), NOW)
        .await
        .unwrap();
    assert_eq!(spare.state, KeyState::VerifyOnly);
    let retired = env
        .node
        .keys
        .create(&env.acme, NewKey::default(), NOW)
        .await
        .unwrap();
    env.node.keys.retire(&env.acme, &retired.kid).await.unwrap();
    let jwks: Value =
        serde_json::from_str(&env.node.keys.jwks(&env.acme, NOW).await.unwrap()).unwrap();
    let kids: Vec<_> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [env.ed.kid.as_str(), spare.kid.as_str()]);
    for key in jwks["keys"].as_array().unwrap() {
        assert_eq!(key["use"], "sig");
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(key.get(private).is_none(), "{private} in {key}");
        }
    }
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][1]["crv"], "P-256");
    // Nothing private in list() or Debug either.
    let listed = format!("{:?}", env.node.keys.list(&env.acme).await.unwrap());
    let hs_hex = String::from_utf8_lossy(HS_SECRET).to_string();
    assert!(!listed.contains(&hs_hex) && !listed.contains(&b64(HS_SECRET)));
    let debug = format!(
        "{:?} {:?} {:?}",
        env.node.keys,
        kek(),
        NewKey {
            secret: Some(HS_SECRET.to_vec()),
            ..NewKey::default()
        }
    );
    assert!(
        !debug.contains(&hs_hex) && !debug.contains("42, 42"),
        "{debug}"
    );
}

#[tokio::test]
async fn a_kv_store_keeps_sealed_key_sets_that_other_nodes_read() {
    let kv: Arc<dyn KvStore> = Arc::new(MemoryKv::new(1 << 20));
    let store: Arc<dyn KeyStore> = Arc::new(KvKeyStore::new(kv.clone()));
    let replay = Arc::new(MemoryReplayStore::default());
    let env = Env::on(Node::new(store.clone(), replay.clone())).await;
    let token = env.sign(&claims()).await;

    let sealed = kv.get(&env.acme, KV_KEYS_KEY).await.unwrap().unwrap();
    assert!(sealed.starts_with(b"WAK1"));
    assert!(!sealed.windows(HS_SECRET.len()).any(|w| w == HS_SECRET));
    assert!(!sealed.windows(6).any(|w| w == b"HS256\""));

    let other = Node::new(store.clone(), replay);
    other.verifier.set_tenant(&env.acme, acme_config()).unwrap();
    let principal = other
        .verifier
        .verify(
            &env.acme,
            Some(&format!("Bearer {token}")),
            &RoutePolicy::default(),
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(principal.subject, "user-1");

    let wrong_kek = KeyManager::new(store, Kek::from_bytes(&[1; 32]), KeySettings::default());
    assert!(matches!(
        wrong_kek.list(&env.acme).await,
        Err(KeyError::Kek(_))
    ));
}

//! The family revocation list at the gateway: tokens with a revoked `fid`
//! are refused on every request, cached as verified or not; tokens without
//! `fid` never pay for the check.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use warden_plugin_auth::replay::MemoryReplayStore;
use warden_plugin_auth::{
    FamilyRevocations, KeyManager, KeySettings, MemoryKeyStore, NewKey, Reason, RoutePolicy,
    Verifier, VerifierSettings,
};
use warden_plugin_kv::MemoryKv;

use crate::fixtures::*;

#[tokio::test]
async fn a_cached_token_of_a_revoked_family_is_refused() {
    let kv = Arc::new(MemoryKv::new(1 << 20));
    // A long negative cache: a revocation through the same list still
    // takes effect at once.
    let revocations = Arc::new(FamilyRevocations::new(kv.clone(), Duration::from_secs(60)));
    let keys = Arc::new(KeyManager::new(
        Arc::new(MemoryKeyStore::default()),
        kek(),
        KeySettings::default(),
    ));
    let verifier = Verifier::new(
        keys.clone(),
        Arc::new(MemoryReplayStore::default()),
        VerifierSettings::default(),
    )
    .with_revocations(revocations.clone());
    let acme = tenant("acme");
    verifier.set_tenant(&acme, acme_config()).unwrap();
    keys.create(&acme, NewKey::default(), NOW - 60)
        .await
        .unwrap();
    let with_fid = keys
        .sign(&acme, &claims_with(json!({"fid": "family-1"})), NOW)
        .await
        .unwrap();
    let without = keys.sign(&acme, &claims(), NOW).await.unwrap();
    let verify = |token: String| {
        let verifier = &verifier;
        let acme = acme.clone();
        async move {
            verifier
                .verify(
                    &acme,
                    Some(&format!("Bearer {token}")),
                    &RoutePolicy::default(),
                    NOW,
                )
                .await
        }
    };
    let principal = verify(with_fid.clone()).await.unwrap();
    assert_eq!(principal.family.as_deref(), Some("family-1"));
    verify(with_fid.clone()).await.unwrap();
    assert!(verifier.stats().cache_hits >= 1, "the token is cached");
    revocations
        .revoke(&acme, "family-1", NOW + 900)
        .await
        .unwrap();
    let error = verify(with_fid.clone()).await.unwrap_err();
    assert_invalid_token(&error, Reason::FamilyRevoked, &with_fid);
    verify(without).await.unwrap();
    // Another tenant's family of the same name is not affected.
    assert!(
        !revocations
            .is_revoked(&tenant("globex"), "family-1")
            .await
            .unwrap()
    );
}

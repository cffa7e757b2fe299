//! Refresh rotation, reuse detection, the grace window, sessions, and the
//! revocation list at the gateway (cached tokens included).

use warden_plugin_auth::Reason;
use warden_plugin_auth::service::ServiceSettings;

use crate::fixtures::{NOW, assert_invalid_token};
use crate::service_fixtures::*;

fn grace(seconds: u64) -> ServiceSettings {
    ServiceSettings {
        refresh_grace_s: seconds,
        ..test_settings()
    }
}

#[tokio::test]
async fn a_refresh_rotates_the_token_and_retires_the_old_one() {
    let svc = Svc::new().await;
    let first = svc.tokens().await;
    let r1 = first.refresh_token.unwrap();
    let second = svc.refresh(&r1, NOW + 10).await.unwrap();
    let r2 = second.refresh_token.clone().unwrap();
    assert_ne!(r1, r2);
    assert_ne!(first.access_token, second.access_token);
    assert_eq!(
        payload(&second.access_token)["fid"],
        payload(&first.access_token)["fid"],
        "one family"
    );
    svc.gateway(&second.access_token, NOW + 10).await.unwrap();
    let third = svc.refresh(&r2, NOW + 20).await.unwrap();
    assert!(third.refresh_token.is_some());
}

#[tokio::test]
async fn refresh_reuse_revokes_the_family_and_its_access_tokens_fail_at_the_verifier() {
    let svc = Svc::new().await;
    let first = svc.tokens().await;
    let r1 = first.refresh_token.unwrap();
    let second = svc.refresh(&r1, NOW + 10).await.unwrap();
    // Both access tokens verify (and are now in the verified-token cache).
    svc.gateway(&first.access_token, NOW + 11).await.unwrap();
    svc.gateway(&second.access_token, NOW + 11).await.unwrap();
    // An attacker replays the retired r1.
    let error = svc.refresh(&r1, NOW + 12).await.unwrap_err();
    assert_eq!(error.code(), "invalid_grant");
    // The whole family is gone: the legitimate r2 too, and every access
    // token at the gateway, although they were cached as verified.
    let r2 = second.refresh_token.unwrap();
    assert_eq!(
        svc.refresh(&r2, NOW + 13).await.unwrap_err().code(),
        "invalid_grant"
    );
    for access in [&first.access_token, &second.access_token] {
        let error = svc.gateway(access, NOW + 14).await.unwrap_err();
        assert_invalid_token(&error, Reason::FamilyRevoked, access);
    }
    assert!(
        svc.service()
            .list_sessions(&svc.acme, &svc.alice.user_id, NOW)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn grace_window_off_by_default_so_a_concurrent_refresh_is_reuse() {
    let svc = Svc::new().await;
    assert_eq!(svc.service().settings().refresh_grace_s, 0);
    let r1 = svc.tokens().await.refresh_token.unwrap();
    svc.refresh(&r1, NOW + 10).await.unwrap();
    assert_eq!(
        svc.refresh(&r1, NOW + 10).await.unwrap_err().code(),
        "invalid_grant"
    );
}

#[tokio::test]
async fn grace_window_returns_the_same_pair_for_the_immediately_previous_token() {
    let svc = Svc::with(grace(3)).await;
    let r1 = svc.tokens().await.refresh_token.unwrap();
    let a = svc.refresh(&r1, NOW + 10).await.unwrap();
    let b = svc.refresh(&r1, NOW + 12).await.unwrap();
    assert_eq!(a, b, "the same new pair");
    // The family lives on: the new token refreshes.
    let r2 = a.refresh_token.unwrap();
    svc.refresh(&r2, NOW + 13).await.unwrap();
}

#[tokio::test]
async fn grace_window_expired_previous_token_revokes_the_family() {
    let svc = Svc::with(grace(3)).await;
    let r1 = svc.tokens().await.refresh_token.unwrap();
    let a = svc.refresh(&r1, NOW + 10).await.unwrap();
    assert_eq!(
        svc.refresh(&r1, NOW + 13).await.unwrap_err().code(),
        "invalid_grant"
    );
    let r2 = a.refresh_token.unwrap();
    assert!(svc.refresh(&r2, NOW + 14).await.is_err(), "family revoked");
    assert!(svc.gateway(&a.access_token, NOW + 14).await.is_err());
}

#[tokio::test]
async fn grace_window_never_passes_an_older_token() {
    let svc = Svc::with(grace(5)).await;
    let r1 = svc.tokens().await.refresh_token.unwrap();
    let a = svc.refresh(&r1, NOW + 10).await.unwrap();
    let r2 = a.refresh_token.unwrap();
    let b = svc.refresh(&r2, NOW + 11).await.unwrap();
    // r1 is two rotations old, within seconds: never passes.
    assert_eq!(
        svc.refresh(&r1, NOW + 11).await.unwrap_err().code(),
        "invalid_grant"
    );
    assert!(
        svc.refresh(&b.refresh_token.unwrap(), NOW + 12)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_on_two_service_instances_admit_one_rotation() {
    // Grace off: exactly one wins; the other is a reuse and revokes.
    let svc = Svc::new().await;
    let other = SvcNode::new(svc.kv.clone(), test_settings());
    let r1 = svc.tokens().await.refresh_token.unwrap();
    let issuer = svc.issuer.clone();
    let (a, b) = tokio::join!(
        svc.service()
            .token(&issuer, svc.refresh_request(&r1), NOW + 10),
        other
            .service
            .token(&issuer, svc.refresh_request(&r1), NOW + 10),
    );
    let wins = usize::from(a.is_ok()) + usize::from(b.is_ok());
    assert!(wins <= 1, "two nodes must not both rotate one token");
}

#[tokio::test]
async fn concurrent_refreshes_within_grace_on_two_instances_get_the_same_pair() {
    let svc = Svc::with(grace(5)).await;
    let other = SvcNode::new(svc.kv.clone(), grace(5));
    let r1 = svc.tokens().await.refresh_token.unwrap();
    let issuer = svc.issuer.clone();
    let (a, b) = tokio::join!(
        svc.service()
            .token(&issuer, svc.refresh_request(&r1), NOW + 10),
        other
            .service
            .token(&issuer, svc.refresh_request(&r1), NOW + 10),
    );
    assert_eq!(a.unwrap(), b.unwrap());
}

#[tokio::test]
async fn a_disabled_users_refresh_fails() {
    let svc = Svc::new().await;
    let tokens = svc.tokens().await;
    svc.service()
        .set_user_disabled(&svc.acme, &svc.alice.user_id, true, NOW)
        .await
        .unwrap();
    let r1 = tokens.refresh_token.unwrap();
    assert_eq!(
        svc.refresh(&r1, NOW + 1).await.unwrap_err().code(),
        "invalid_grant"
    );
    assert!(svc.gateway(&tokens.access_token, NOW + 1).await.is_err());
}

#[tokio::test]
async fn sessions_are_listed_and_revocable_per_user() {
    let svc = Svc::new().await;
    let one = svc.tokens().await;
    let two = svc.tokens().await;
    let user = &svc.alice.user_id;
    let sessions = svc
        .service()
        .list_sessions(&svc.acme, user, NOW)
        .await
        .unwrap();
    assert_eq!(sessions.len(), 2);
    let fid = payload(&one.access_token)["fid"]
        .as_str()
        .unwrap()
        .to_owned();
    let error = svc
        .service()
        .revoke_session(&svc.acme, "someone-else", &fid, NOW)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "not_found");
    svc.service()
        .revoke_session(&svc.acme, user, &fid, NOW)
        .await
        .unwrap();
    assert!(svc.gateway(&one.access_token, NOW).await.is_err());
    svc.gateway(&two.access_token, NOW).await.unwrap();
    assert_eq!(
        svc.service()
            .list_sessions(&svc.acme, user, NOW)
            .await
            .unwrap()
            .len(),
        1
    );
    svc.service()
        .revoke_user_sessions(&svc.acme, user, NOW)
        .await
        .unwrap();
    assert!(svc.gateway(&two.access_token, NOW).await.is_err());
}

#[tokio::test]
async fn responses_and_secrets_are_redacted_in_debug() {
    let svc = Svc::new().await;
    let tokens = svc.tokens().await;
    let text = format!("{tokens:?}");
    assert!(!text.contains(&tokens.access_token));
    assert!(!text.contains(tokens.refresh_token.as_deref().unwrap()));
}

#[tokio::test]
async fn sweep_removes_only_records_nobody_can_use() {
    let svc = Svc::new().await;
    let live = svc.tokens().await;
    let revoked = svc.tokens().await;
    let fid = payload(&revoked.access_token)["fid"]
        .as_str()
        .unwrap()
        .to_owned();
    svc.service()
        .revoke_family(&svc.acme, &fid, NOW)
        .await
        .unwrap();
    let keys = |kv: std::sync::Arc<dyn warden_plugin_kv::KvStore>,
                acme: warden_plugin_auth::Tenant| async move {
        kv.list(&acme, "__warden/auth/", None, 1000)
            .await
            .unwrap()
            .keys
    };
    let before = keys(svc.kv.clone(), svc.acme.clone()).await;
    // Now: nothing is dead yet (codes are kept a day, families live 30 days,
    // the revocation entry until the access tokens expire).
    assert_eq!(
        svc.service().sweep(&svc.acme, NOW).await.unwrap().removed,
        0
    );
    assert_eq!(keys(svc.kv.clone(), svc.acme.clone()).await, before);
    // Two days later: the codes, the revocation entry and the idle
    // throttle-free state go; both families (30 days) and the live
    // session stay.
    let report = svc
        .service()
        .sweep(&svc.acme, NOW + 2 * 86400)
        .await
        .unwrap();
    assert!(report.removed >= 3, "{report:?}");
    let after = keys(svc.kv.clone(), svc.acme.clone()).await;
    assert!(
        !after
            .iter()
            .any(|k| k.starts_with("__warden/auth/svc/code/")),
        "{after:?}"
    );
    assert!(
        !after
            .iter()
            .any(|k| k.starts_with("__warden/auth/revoked/")),
        "{after:?}"
    );
    let r = live.refresh_token.unwrap();
    svc.refresh(&r, NOW + 2 * 86400).await.unwrap();
    // After the families' lifetime, everything of theirs goes.
    svc.service()
        .sweep(&svc.acme, NOW + 31 * 86400)
        .await
        .unwrap();
    let left = keys(svc.kv.clone(), svc.acme.clone()).await;
    for gone in ["family/", "refresh/", "session/"] {
        assert!(
            !left
                .iter()
                .any(|k| k.starts_with(&format!("__warden/auth/svc/{gone}"))),
            "{gone}: {left:?}"
        );
    }
    assert!(
        left.iter()
            .any(|k| k.starts_with("__warden/auth/svc/client/"))
    );
    assert!(
        left.iter()
            .any(|k| k.starts_with("__warden/auth/svc/user/"))
    );
}

//! Users, login without user enumeration, throttling, TOTP and recovery
//! codes.

use warden_plugin_auth::service::{LoginOutcome, NewUser, ServiceError, totp_code_from_uri};
use warden_plugin_auth::{RoutePolicy, StepUp};

use crate::fixtures::NOW;
use crate::service_fixtures::*;

async fn attempt(
    svc: &Svc,
    user: &str,
    password: &str,
    addr: &str,
    now: u64,
) -> Result<LoginOutcome, ServiceError> {
    svc.service()
        .login_password(&svc.acme, user, password, addr, now)
        .await
}

#[tokio::test]
async fn users_are_created_disabled_and_deleted() {
    let svc = Svc::new().await;
    let service = svc.service();
    let dup = service
        .create_user(
            &svc.acme,
            NewUser {
                username: "ALICE".into(),
                password: PASSWORD.into(),
            },
            NOW,
        )
        .await
        .unwrap_err();
    assert_eq!(dup.code(), "conflict", "names are case-insensitive");
    let short = service
        .create_user(
            &svc.acme,
            NewUser {
                username: "bob".into(),
                password: "short".into(),
            },
            NOW,
        )
        .await
        .unwrap_err();
    assert_eq!(short.code(), "invalid_request");
    assert!(
        !format!(
            "{:?}",
            NewUser {
                username: "x".into(),
                password: "hunter22".into()
            }
        )
        .contains("hunter22")
    );
    service
        .set_user_disabled(&svc.acme, &svc.alice.user_id, true, NOW)
        .await
        .unwrap();
    assert_eq!(
        attempt(&svc, "alice", PASSWORD, "10.0.0.1", NOW)
            .await
            .unwrap_err(),
        ServiceError::AccessDenied
    );
    service
        .set_user_disabled(&svc.acme, &svc.alice.user_id, false, NOW)
        .await
        .unwrap();
    attempt(&svc, "alice", PASSWORD, "10.0.0.1", NOW)
        .await
        .unwrap();
    service
        .delete_user(&svc.acme, &svc.alice.user_id, NOW)
        .await
        .unwrap();
    assert_eq!(
        attempt(&svc, "alice", PASSWORD, "10.0.0.1", NOW)
            .await
            .unwrap_err(),
        ServiceError::AccessDenied
    );
    assert!(service.list_users(&svc.acme).await.unwrap().is_empty());
}

#[tokio::test]
async fn brute_force_is_throttled_without_user_enumeration() {
    let svc = Svc::new().await;
    // Unknown and known users get the same answers, in the same order.
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..8 {
        known.push(
            attempt(&svc, "alice", "wrong-password", "10.0.0.7", NOW)
                .await
                .unwrap_err(),
        );
        unknown.push(
            attempt(&svc, "mallory", "wrong-password", "10.0.0.8", NOW)
                .await
                .unwrap_err(),
        );
    }
    assert_eq!(known, unknown);
    assert_eq!(known[0], ServiceError::AccessDenied);
    assert!(
        matches!(known[7], ServiceError::Throttled { .. }),
        "{known:?}"
    );
    // While locked, even the right password is refused, and says nothing more.
    let locked = attempt(&svc, "alice", PASSWORD, "10.0.0.9", NOW)
        .await
        .unwrap_err();
    assert!(matches!(locked, ServiceError::Throttled { .. }));
    assert_eq!(locked.status(), 429);
    // Delays grow: after the lock expires, one more failure locks longer.
    let ServiceError::Throttled {
        retry_after_s: first,
    } = known[7].clone()
    else {
        unreachable!()
    };
    let later = NOW + first + 1;
    attempt(&svc, "alice", "wrong-password", "10.0.0.10", later)
        .await
        .unwrap_err();
    let ServiceError::Throttled {
        retry_after_s: second,
    } = attempt(&svc, "alice", PASSWORD, "10.0.0.10", later)
        .await
        .unwrap_err()
    else {
        panic!("locked again")
    };
    assert!(second > first, "{second} > {first}");
    // Another user from another address is unaffected.
    svc.service()
        .create_user(
            &svc.acme,
            NewUser {
                username: "bob".into(),
                password: PASSWORD.into(),
            },
            NOW,
        )
        .await
        .unwrap();
    attempt(&svc, "bob", PASSWORD, "10.0.0.11", NOW + 9)
        .await
        .unwrap();
}

#[tokio::test]
async fn one_address_trying_many_users_is_throttled() {
    let svc = Svc::new().await;
    let mut last = None;
    for i in 0..8 {
        last = Some(
            attempt(&svc, &format!("user{i}"), "wrong-password", "10.9.9.9", NOW)
                .await
                .unwrap_err(),
        );
    }
    assert!(matches!(last, Some(ServiceError::Throttled { .. })));
    let error = attempt(&svc, "alice", PASSWORD, "10.9.9.9", NOW)
        .await
        .unwrap_err();
    assert!(matches!(error, ServiceError::Throttled { .. }));
}

/// Enrols alice in TOTP; returns the otpauth URI.
async fn enrol(svc: &Svc) -> String {
    let enrolment = svc
        .service()
        .enroll_totp(&svc.acme, &svc.alice.user_id, "Acme")
        .await
        .unwrap();
    assert!(
        enrolment
            .otpauth_uri
            .starts_with("otpauth://totp/Acme:alice?"),
        "{}",
        enrolment.otpauth_uri
    );
    assert!(enrolment.otpauth_uri.contains("secret="));
    assert!(!format!("{enrolment:?}").contains("secret"));
    use base64::Engine as _;
    let png = base64::engine::general_purpose::STANDARD
        .decode(&enrolment.qr_png_base64)
        .unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    enrolment.otpauth_uri
}

#[tokio::test]
async fn totp_login_yields_mfa_acr_and_pwd_otp_amr() {
    let svc = Svc::new().await;
    let uri = enrol(&svc).await;
    // Unconfirmed enrolment does not change the login yet.
    assert!(matches!(
        attempt(&svc, "alice", PASSWORD, "10.0.0.1", NOW)
            .await
            .unwrap(),
        LoginOutcome::Authenticated(_)
    ));
    let codes = svc
        .service()
        .confirm_totp(
            &svc.acme,
            &svc.alice.user_id,
            &totp_code_from_uri(&uri, NOW).unwrap(),
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(codes.0.len(), 10);
    assert!(
        svc.service()
            .user(&svc.acme, &svc.alice.user_id)
            .await
            .unwrap()
            .mfa
    );
    let LoginOutcome::SecondFactorRequired { ticket } =
        attempt(&svc, "alice", PASSWORD, "10.0.0.1", NOW + 30)
            .await
            .unwrap()
    else {
        panic!("TOTP is required now")
    };
    let code = totp_code_from_uri(&uri, NOW + 30).unwrap();
    let auth = svc
        .service()
        .login_second_factor(&svc.acme, &ticket, &code, "10.0.0.1", NOW + 30)
        .await
        .unwrap();
    assert_eq!(auth.acr, "mfa");
    assert_eq!(auth.amr, vec!["pwd", "otp"]);
    // The whole step-up loop: the MFA token passes a step_up route.
    let code = svc.code_for(&auth).await;
    let tokens = svc
        .service()
        .token(&svc.issuer, svc.code_request(&code), NOW + 31)
        .await
        .unwrap();
    let policy = RoutePolicy {
        step_up: Some(StepUp {
            acr: Some("mfa".into()),
            max_age_s: Some(300),
        }),
        ..RoutePolicy::default()
    };
    let principal = svc
        .node
        .verifier
        .verify(
            &svc.acme,
            Some(&format!("Bearer {}", tokens.access_token)),
            &policy,
            NOW + 32,
        )
        .await
        .unwrap();
    assert_eq!(principal.amr, vec!["pwd", "otp"]);
}

#[tokio::test]
async fn totp_replay_within_its_window_is_refused() {
    let svc = Svc::new().await;
    let uri = enrol(&svc).await;
    svc.service()
        .confirm_totp(
            &svc.acme,
            &svc.alice.user_id,
            &totp_code_from_uri(&uri, NOW).unwrap(),
            NOW,
        )
        .await
        .unwrap();
    let svc_ref = &svc;
    let login = move |now| async move {
        match attempt(svc_ref, "alice", PASSWORD, "10.0.0.1", now)
            .await
            .unwrap()
        {
            LoginOutcome::SecondFactorRequired { ticket } => ticket,
            other => panic!("{other:?}"),
        }
    };
    let code = totp_code_from_uri(&uri, NOW + 60).unwrap();
    let t1 = login(NOW + 60).await;
    svc.service()
        .login_second_factor(&svc.acme, &t1, &code, "10.0.0.1", NOW + 60)
        .await
        .unwrap();
    // Same code, same 30 s step and the next one (still within ±1): refused.
    for now in [NOW + 61, NOW + 75] {
        let t = login(now).await;
        let error = svc
            .service()
            .login_second_factor(&svc.acme, &t, &code, "10.0.0.1", now)
            .await
            .unwrap_err();
        assert_eq!(error, ServiceError::AccessDenied);
    }
    // The confirmation code (an earlier step) can never come back either.
    let old = totp_code_from_uri(&uri, NOW).unwrap();
    let t = login(NOW + 62).await;
    assert!(
        svc.service()
            .login_second_factor(&svc.acme, &t, &old, "10.0.0.1", NOW + 62)
            .await
            .is_err()
    );
    // A ticket is used up by a success.
    let fresh = totp_code_from_uri(&uri, NOW + 120).unwrap();
    svc.service()
        .login_second_factor(&svc.acme, &t, &fresh, "10.0.0.1", NOW + 120)
        .await
        .unwrap();
    let again = totp_code_from_uri(&uri, NOW + 150).unwrap();
    assert!(
        svc.service()
            .login_second_factor(&svc.acme, &t, &again, "10.0.0.1", NOW + 150)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn recovery_codes_work_once_each() {
    let svc = Svc::new().await;
    let uri = enrol(&svc).await;
    let codes = svc
        .service()
        .confirm_totp(
            &svc.acme,
            &svc.alice.user_id,
            &totp_code_from_uri(&uri, NOW).unwrap(),
            NOW,
        )
        .await
        .unwrap();
    assert!(!format!("{codes:?}").contains(&codes.0[0]));
    for (i, expect_ok) in [(0, true), (0, false), (1, true)] {
        let LoginOutcome::SecondFactorRequired { ticket } =
            attempt(&svc, "alice", PASSWORD, "10.0.0.1", NOW)
                .await
                .unwrap()
        else {
            panic!()
        };
        let result = svc
            .service()
            .login_second_factor(&svc.acme, &ticket, &codes.0[i], "10.0.0.1", NOW)
            .await;
        assert_eq!(result.is_ok(), expect_ok, "code {i}");
    }
}

#[tokio::test]
async fn totp_secrets_are_sealed_at_rest() {
    let svc = Svc::new().await;
    let uri = enrol(&svc).await;
    let secret = uri
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let key = format!("__warden/auth/svc/user/{}", svc.alice.user_id);
    let stored = svc.kv.get(&svc.acme, &key).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&stored);
    assert!(!text.contains(&secret) && text.contains("sealed_secret"));
}

#[tokio::test]
async fn one_totp_code_sent_to_two_nodes_at_once_is_accepted_once() {
    let svc = Svc::new().await;
    let other = SvcNode::new(svc.kv.clone(), test_settings());
    let uri = enrol(&svc).await;
    svc.service()
        .confirm_totp(
            &svc.acme,
            &svc.alice.user_id,
            &totp_code_from_uri(&uri, NOW).unwrap(),
            NOW,
        )
        .await
        .unwrap();
    let ticket = |outcome| match outcome {
        LoginOutcome::SecondFactorRequired { ticket } => ticket,
        other => panic!("{other:?}"),
    };
    let t1 = ticket(
        attempt(&svc, "alice", PASSWORD, "10.0.0.1", NOW + 60)
            .await
            .unwrap(),
    );
    let t2 = ticket(
        attempt(&svc, "alice", PASSWORD, "10.0.0.2", NOW + 60)
            .await
            .unwrap(),
    );
    let code = totp_code_from_uri(&uri, NOW + 60).unwrap();
    let (a, b) = tokio::join!(
        svc.service()
            .login_second_factor(&svc.acme, &t1, &code, "10.0.0.1", NOW + 60),
        other
            .service
            .login_second_factor(&svc.acme, &t2, &code, "10.0.0.2", NOW + 60),
    );
    assert_eq!(usize::from(a.is_ok()) + usize::from(b.is_ok()), 1);
}

//! Route policies: scopes (403), step-up (401 RFC 9470), public routes,
//! the principal handed to the function, the verified-token cache and the
//! decision counters.

use serde_json::json;
use warden_plugin_auth::{Denial, Reason, RoutePolicy, StepUp, TenantAuthConfig};

use crate::fixtures::*;

fn scopes(list: &[&str]) -> RoutePolicy {
    RoutePolicy {
        scopes: list.iter().map(|s| s.to_string()).collect(),
        ..RoutePolicy::default()
    }
}

#[tokio::test]
async fn a_missing_scope_is_403_insufficient_scope() {
    let env = Env::new().await;
    let token = env.sign(&claims()).await;
    env.verify(&token, &scopes(&["orders:read"])).await.unwrap();
    let error = env
        .verify(&token, &scopes(&["orders:read", "admin"]))
        .await
        .unwrap_err();
    assert_eq!((error.status(), error.code()), (403, "insufficient_scope"));
    assert_eq!(
        error.www_authenticate().unwrap(),
        r#"Bearer realm="acme", error="insufficient_scope", scope="orders:read admin""#
    );
}

#[tokio::test]
async fn scp_arrays_count_as_scopes() {
    let env = Env::new().await;
    let token = env
        .sign(&claims_with(json!({"scope": null, "scp": ["a", "b"]})))
        .await;
    let principal = env.verify(&token, &scopes(&["b"])).await.unwrap();
    assert_eq!(principal.scopes, ["a", "b"]);
}

#[tokio::test]
async fn step_up_acr_mismatch_is_401_insufficient_user_authentication() {
    let env = Env::new().await;
    let policy = RoutePolicy {
        step_up: Some(StepUp {
            acr: Some("mfa".into()),
            max_age_s: Some(300),
        }),
        ..RoutePolicy::default()
    };
    let weak = env
        .sign(&claims_with(json!({"acr": "pwd", "auth_time": NOW - 10})))
        .await;
    let error = env.verify(&weak, &policy).await.unwrap_err();
    assert_eq!(error.status(), 401);
    assert_eq!(error.code(), "insufficient_user_authentication");
    assert_eq!(
        error.denial(),
        &Denial::InsufficientUserAuthentication {
            acr_values: Some("mfa".into()),
            max_age: Some(300)
        }
    );
    assert_eq!(
        error.www_authenticate().unwrap(),
        r#"Bearer realm="acme", error="insufficient_user_authentication", acr_values="mfa", max_age=300"#
    );
    let old = env
        .sign(&claims_with(json!({"acr": "mfa", "auth_time": NOW - 1000})))
        .await;
    assert_eq!(
        env.verify(&old, &policy).await.unwrap_err().reason(),
        Reason::StepUpRequired
    );
    let no_time = env.sign(&claims_with(json!({"acr": "mfa"}))).await;
    assert!(env.verify(&no_time, &policy).await.is_err());
    let strong = env
        .sign(&claims_with(
            json!({"acr": "mfa", "auth_time": NOW - 10, "amr": ["pwd", "otp"]}),
        ))
        .await;
    let principal = env.verify(&strong, &policy).await.unwrap();
    assert_eq!(principal.auth_time, Some(NOW - 10));
    assert_eq!(principal.amr, ["pwd", "otp"]);
    assert_eq!(principal.acr.as_deref(), Some("mfa"));
}

#[tokio::test]
async fn the_principal_carries_exposed_claims_as_json() {
    let env = Env::new().await;
    let token = env
        .sign(&claims_with(
            json!({"email": "a@b.c", "org": {"id": 7}, "secret": "s"}),
        ))
        .await;
    let policy = RoutePolicy {
        expose_claims: vec!["org".into(), "email".into(), "absent".into()],
        ..RoutePolicy::default()
    };
    let principal = env.verify(&token, &policy).await.unwrap();
    assert_eq!(principal.tenant, env.acme);
    assert_eq!(principal.subject, "user-1");
    assert_eq!(
        principal.claims,
        [
            ("org".to_owned(), r#"{"id":7}"#.to_owned()),
            ("email".to_owned(), r#""a@b.c""#.to_owned())
        ]
    );
    assert_eq!(principal.expires_at, NOW + 300);
}

#[tokio::test]
async fn public_routes_pass_without_a_token_but_check_one_that_is_sent() {
    let env = Env::new().await;
    let public = RoutePolicy {
        public: true,
        ..RoutePolicy::default()
    };
    let verifier = &env.node.verifier;
    assert_eq!(
        verifier
            .authorize(&env.acme, None, &public, NOW)
            .await
            .unwrap(),
        None
    );
    let error = verifier
        .authorize(&env.acme, Some("Bearer a.b.c"), &public, NOW)
        .await
        .unwrap_err();
    assert_eq!(error.status(), 401);
    let token = format!("Bearer {}", env.sign(&claims()).await);
    let principal = verifier
        .authorize(&env.acme, Some(&token), &public, NOW)
        .await
        .unwrap();
    assert_eq!(principal.unwrap().subject, "user-1");
    let private = RoutePolicy::default();
    assert!(
        verifier
            .authorize(&env.acme, None, &private, NOW)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn verified_tokens_are_cached_and_counted() {
    let env = Env::new().await;
    let token = env.sign(&claims()).await;
    let policy = RoutePolicy::default();
    for _ in 0..3 {
        env.verify(&token, &policy).await.unwrap();
    }
    let stats = env.node.verifier.stats();
    assert_eq!((stats.cache_misses, stats.cache_hits), (1, 2));
    // A cached token still expires on time.
    let error = env.verify_at(&token, &policy, NOW + 330).await.unwrap_err();
    assert_eq!(error.reason(), Reason::Expired);
    // And a cached token is still held to each route's scopes.
    assert_eq!(
        env.verify(&token, &scopes(&["admin"]))
            .await
            .unwrap_err()
            .status(),
        403
    );
    let stats = env.node.verifier.stats();
    assert_eq!(stats.allowed(), 3);
    assert_eq!(stats.refused(Reason::Expired), 1);
    assert_eq!(stats.refused(Reason::InsufficientScope), 1);
    assert_eq!(stats.refused(Reason::AlgNone), 0);
}

#[tokio::test]
async fn a_new_tenant_config_drops_cached_verdicts() {
    let env = Env::new().await;
    let token = env.sign(&claims()).await;
    env.verify(&token, &RoutePolicy::default()).await.unwrap();
    let mut config = acme_config();
    config.audiences = vec!["another-api".into()];
    env.node.verifier.set_tenant(&env.acme, config).unwrap();
    assert_eq!(
        env.verify(&token, &RoutePolicy::default())
            .await
            .unwrap_err()
            .reason(),
        Reason::WrongAudience
    );
}

#[tokio::test]
async fn an_unknown_tenant_trusts_nothing() {
    let env = Env::new().await;
    let token = format!("Bearer {}", env.sign(&claims()).await);
    let error = env
        .node
        .verifier
        .verify(
            &tenant("nobody"),
            Some(&token),
            &RoutePolicy::default(),
            NOW,
        )
        .await
        .unwrap_err();
    assert_eq!(error.reason(), Reason::UnknownIssuer);
    assert!(
        error
            .www_authenticate()
            .unwrap()
            .starts_with("Bearer realm=\"nobody\"")
    );
}

#[tokio::test]
async fn reinstalling_the_same_settings_keeps_verified_tokens_and_new_ones_drop_them() {
    let env = Env::new().await;
    let token = env.sign(&claims()).await;
    let policy = RoutePolicy::default();
    env.verify(&token, &policy).await.unwrap();
    // The host reinstalls a tenant's settings on every reload of it.
    env.node
        .verifier
        .set_tenant(&env.acme, acme_config())
        .unwrap();
    env.verify(&token, &policy).await.unwrap();
    let stats = env.node.verifier.stats();
    assert_eq!((stats.cache_misses, stats.cache_hits), (1, 1));
    let changed = TenantAuthConfig {
        leeway_s: 10,
        ..acme_config()
    };
    env.node.verifier.set_tenant(&env.acme, changed).unwrap();
    env.verify(&token, &policy).await.unwrap();
    let stats = env.node.verifier.stats();
    assert_eq!(
        (stats.cache_misses, stats.cache_hits),
        (2, 1),
        "verified again"
    );
}

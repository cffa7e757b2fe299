//! Clients, the authorization-code flow with PKCE, token issuance, and the
//! gateway's acceptance of what the service issues.

use warden_plugin_auth::service::{
    AuthorizeError, AuthorizeRequest, ClientAuth, ClientKind, GrantType, NewClient, ServiceError,
    TokenRequest,
};
use warden_plugin_auth::{Reason, RoutePolicy, StepUp};

use crate::fixtures::{ACME_AUD, ACME_ISS, NOW, acme_config, assert_invalid_token, tenant};
use crate::service_fixtures::*;

fn no_redirect(result: Result<impl std::fmt::Debug, AuthorizeError>) {
    match result {
        Err(AuthorizeError::NoRedirect(ServiceError::InvalidRedirect)) => {}
        other => panic!("expected an error page without redirect, got {other:?}"),
    }
}

fn redirected(result: Result<impl std::fmt::Debug, AuthorizeError>, code: &str) -> String {
    match result {
        Err(AuthorizeError::Redirect { error, location }) => {
            assert_eq!(error.code(), code, "{error}");
            assert!(location.starts_with(REDIRECT), "{location}");
            location
        }
        other => panic!("expected a redirect with {code}, got {other:?}"),
    }
}

#[tokio::test]
async fn access_tokens_follow_rfc_9068_and_the_verifier_accepts_them() {
    let svc = Svc::new().await;
    let tokens = svc.tokens().await;
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.expires_in, 900, "15 minutes by default");
    assert_eq!(tokens.scope, "openid orders:read");
    assert_eq!(header(&tokens.access_token)["typ"], "at+jwt");
    let claims = payload(&tokens.access_token);
    for name in [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "jti",
        "client_id",
        "scope",
        "acr",
        "amr",
        "auth_time",
        "fid",
    ] {
        assert!(claims.get(name).is_some(), "{name} missing: {claims}");
    }
    assert_eq!(claims["iss"], ACME_ISS);
    assert_eq!(claims["aud"], ACME_AUD);
    assert_eq!(claims["sub"], svc.alice.user_id.as_str());
    assert_eq!(claims["client_id"], svc.app.client_id.as_str());
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        900
    );
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
    let principal = svc.gateway(&tokens.access_token, NOW + 1).await.unwrap();
    assert_eq!(principal.subject, svc.alice.user_id);
    assert_eq!(principal.scopes, vec!["openid", "orders:read"]);
    assert_eq!(principal.acr.as_deref(), Some("pwd"));
    assert_eq!(principal.family.as_deref(), claims["fid"].as_str());
    assert_eq!(principal.dpop_jkt, None);
    // A step-up route wants MFA: a password login is not enough.
    let step_up = RoutePolicy {
        step_up: Some(StepUp {
            acr: Some("mfa".into()),
            max_age_s: None,
        }),
        ..RoutePolicy::default()
    };
    let header = format!("Bearer {}", tokens.access_token);
    let error = svc
        .node
        .verifier
        .verify(&svc.acme, Some(&header), &step_up, NOW)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "insufficient_user_authentication");
}

#[tokio::test]
async fn id_tokens_carry_the_nonce_and_are_not_access_tokens() {
    let svc = Svc::new().await;
    let tokens = svc.tokens().await;
    let id_token = tokens.id_token.unwrap();
    assert_eq!(header(&id_token)["typ"], "JWT");
    let claims = payload(&id_token);
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["aud"], svc.app.client_id.as_str());
    assert_eq!(claims["sub"], svc.alice.user_id.as_str());
    // Its audience is the client, so the gateway refuses it as a bearer token.
    let error = svc.gateway(&id_token, NOW).await.unwrap_err();
    assert_invalid_token(&error, Reason::WrongAudience, &id_token);
}

#[tokio::test]
async fn client_credentials_gives_a_machine_token_without_refresh() {
    let svc = Svc::new().await;
    let request = TokenRequest {
        grant_type: "client_credentials",
        client_id: &svc.machine.client_id,
        client_secret: Some(&svc.machine_secret),
        ..TokenRequest::default()
    };
    let tokens = svc
        .service()
        .token(&svc.issuer, request, NOW)
        .await
        .unwrap();
    assert!(tokens.refresh_token.is_none() && tokens.id_token.is_none());
    let claims = payload(&tokens.access_token);
    assert_eq!(claims["sub"], svc.machine.client_id.as_str());
    assert!(claims.get("fid").is_none() && claims.get("acr").is_none());
    svc.gateway(&tokens.access_token, NOW).await.unwrap();
    // A public client may not use it; the machine may not use the code flow.
    let public = TokenRequest {
        grant_type: "client_credentials",
        client_id: &svc.app.client_id,
        ..TokenRequest::default()
    };
    let error = svc
        .service()
        .token(&svc.issuer, public, NOW)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "unauthorized_client");
    let error = svc
        .service()
        .token(
            &svc.issuer,
            TokenRequest {
                grant_type: "password",
                client_id: &svc.app.client_id,
                ..TokenRequest::default()
            },
            NOW,
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "unsupported_grant_type");
}

#[tokio::test]
async fn wrong_client_secret_is_invalid_client() {
    let svc = Svc::new().await;
    for secret in [Some("wcs_wrong"), None] {
        let request = TokenRequest {
            grant_type: "client_credentials",
            client_id: &svc.machine.client_id,
            client_secret: secret,
            ..TokenRequest::default()
        };
        let error = svc
            .service()
            .token(&svc.issuer, request, NOW)
            .await
            .unwrap_err();
        assert_eq!((error.code(), error.status()), ("invalid_client", 401));
    }
}

#[tokio::test]
async fn client_of_another_tenant_is_invalid_client() {
    let svc = Svc::new().await;
    let globex = tenant("globex");
    let auth = ClientAuth {
        client_id: &svc.machine.client_id,
        client_secret: Some(&svc.machine_secret),
    };
    svc.service()
        .authenticate_client(&svc.acme, &auth)
        .await
        .unwrap();
    let error = svc
        .service()
        .authenticate_client(&globex, &auth)
        .await
        .unwrap_err();
    assert_eq!(error, ServiceError::InvalidClient);
}

#[tokio::test]
async fn client_secrets_are_shown_once_rotatable_and_redacted() {
    let svc = Svc::new().await;
    let old = svc.machine_secret.clone();
    let new = svc
        .service()
        .rotate_client_secret(&svc.acme, &svc.machine.client_id)
        .await
        .unwrap();
    assert!(new.expose().starts_with("wcs_") && new.expose().len() >= 43);
    assert!(!format!("{new:?}").contains(new.expose()));
    let auth = |secret| ClientAuth {
        client_id: &svc.machine.client_id,
        client_secret: Some(secret),
    };
    let service = svc.service();
    assert!(
        service
            .authenticate_client(&svc.acme, &auth(&old))
            .await
            .is_err()
    );
    service
        .authenticate_client(&svc.acme, &auth(new.expose()))
        .await
        .unwrap();
    let listed = serde_json::to_string(&service.list_clients(&svc.acme).await.unwrap()).unwrap();
    assert!(!listed.contains(new.expose()) && !listed.contains("argon2"));
}

#[tokio::test]
async fn a_public_client_cannot_get_client_credentials_and_uris_are_checked() {
    let svc = Svc::new().await;
    let spec = |kind, uris: Vec<&str>, grants| NewClient {
        name: "x".into(),
        kind,
        redirect_uris: uris.into_iter().map(str::to_owned).collect(),
        grant_types: grants,
        scopes: vec![],
    };
    for bad in [
        spec(
            ClientKind::Public,
            vec![],
            vec![GrantType::ClientCredentials],
        ),
        spec(
            ClientKind::Public,
            vec![],
            vec![GrantType::AuthorizationCode],
        ),
        spec(
            ClientKind::Public,
            vec!["https://a.example/cb#frag"],
            vec![GrantType::AuthorizationCode],
        ),
        spec(
            ClientKind::Public,
            vec!["http://a.example/cb"],
            vec![GrantType::AuthorizationCode],
        ),
    ] {
        let error = svc
            .service()
            .register_client(&svc.acme, bad, NOW)
            .await
            .unwrap_err();
        assert_eq!(error.code(), "invalid_request");
    }
}

async fn refused_without_redirect(svc: &Svc, uri: Option<&str>) {
    let request = AuthorizeRequest {
        redirect_uri: uri.map(str::to_owned),
        ..svc.authorize_request()
    };
    no_redirect(svc.service().validate_authorize(&svc.acme, &request).await);
}

#[tokio::test]
async fn redirect_uri_with_an_added_path_is_refused_without_redirect() {
    let svc = Svc::new().await;
    refused_without_redirect(&svc, Some("https://app.example/cb/extra")).await;
    refused_without_redirect(&svc, Some("https://app.example/cb/")).await;
    refused_without_redirect(&svc, Some("https://app.example/c")).await;
}

#[tokio::test]
async fn redirect_uri_with_an_added_query_is_refused_without_redirect() {
    let svc = Svc::new().await;
    refused_without_redirect(
        &svc,
        Some("https://app.example/cb?next=https://evil.example"),
    )
    .await;
    refused_without_redirect(&svc, Some("https://app.example/cb?")).await;
}

#[tokio::test]
async fn redirect_uri_with_an_added_fragment_is_refused_without_redirect() {
    let svc = Svc::new().await;
    refused_without_redirect(&svc, Some("https://app.example/cb#frag")).await;
    refused_without_redirect(&svc, Some("https://app.example/cb#")).await;
}

#[tokio::test]
async fn redirect_uri_mismatch_or_missing_or_unknown_client_is_refused_without_redirect() {
    let svc = Svc::new().await;
    refused_without_redirect(&svc, Some("https://APP.example/cb")).await;
    refused_without_redirect(&svc, Some("https://evil.example/cb")).await;
    refused_without_redirect(&svc, None).await;
    let unknown_client = AuthorizeRequest {
        client_id: Some("nobody".into()),
        ..svc.authorize_request()
    };
    no_redirect(
        svc.service()
            .validate_authorize(&svc.acme, &unknown_client)
            .await,
    );
}

#[tokio::test]
async fn state_missing_is_refused() {
    let svc = Svc::new().await;
    for state in [None, Some(String::new())] {
        let request = AuthorizeRequest {
            state,
            ..svc.authorize_request()
        };
        let location = redirected(
            svc.service().validate_authorize(&svc.acme, &request).await,
            "invalid_request",
        );
        assert!(location.contains("error=invalid_request"));
    }
}

#[tokio::test]
async fn pkce_missing_is_refused() {
    let svc = Svc::new().await;
    let request = AuthorizeRequest {
        code_challenge: None,
        code_challenge_method: None,
        ..svc.authorize_request()
    };
    let location = redirected(
        svc.service().validate_authorize(&svc.acme, &request).await,
        "invalid_request",
    );
    assert!(location.ends_with("&state=xyz"), "{location}");
    let no_method = AuthorizeRequest {
        code_challenge_method: None,
        ..svc.authorize_request()
    };
    redirected(
        svc.service()
            .validate_authorize(&svc.acme, &no_method)
            .await,
        "invalid_request",
    );
}

#[tokio::test]
async fn pkce_plain_is_refused() {
    let svc = Svc::new().await;
    let request = AuthorizeRequest {
        code_challenge: Some(VERIFIER.into()),
        code_challenge_method: Some("plain".into()),
        ..svc.authorize_request()
    };
    redirected(
        svc.service().validate_authorize(&svc.acme, &request).await,
        "invalid_request",
    );
}

#[tokio::test]
async fn pkce_wrong_verifier_is_invalid_grant() {
    let svc = Svc::new().await;
    let auth = svc.login().await;
    let code = svc.code_for(&auth).await;
    let other = "x".repeat(43);
    for verifier in [Some(other.as_str()), None] {
        let request = TokenRequest {
            code_verifier: verifier,
            ..svc.code_request(&code)
        };
        let error = svc
            .service()
            .token(&svc.issuer, request, NOW)
            .await
            .unwrap_err();
        assert!(
            matches!(error.code(), "invalid_grant" | "invalid_request"),
            "{error}"
        );
    }
    // The right verifier still works: a failed attempt does not burn it.
    svc.service()
        .token(&svc.issuer, svc.code_request(&code), NOW)
        .await
        .unwrap();
}

#[tokio::test]
async fn code_reuse_is_refused_and_revokes_what_it_issued() {
    let svc = Svc::new().await;
    let auth = svc.login().await;
    let code = svc.code_for(&auth).await;
    let first = svc
        .service()
        .token(&svc.issuer, svc.code_request(&code), NOW)
        .await
        .unwrap();
    svc.gateway(&first.access_token, NOW).await.unwrap();
    let error = svc
        .service()
        .token(&svc.issuer, svc.code_request(&code), NOW + 1)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_grant");
    let refused = svc.gateway(&first.access_token, NOW + 1).await.unwrap_err();
    assert_invalid_token(&refused, Reason::FamilyRevoked, &first.access_token);
    let refresh = first.refresh_token.unwrap();
    assert_eq!(
        svc.refresh(&refresh, NOW + 2).await.unwrap_err().code(),
        "invalid_grant"
    );
}

#[tokio::test]
async fn codes_are_short_lived_and_bound_to_redirect_uri_and_client() {
    let svc = Svc::new().await;
    let auth = svc.login().await;
    let code = svc.code_for(&auth).await;
    let expired = svc
        .service()
        .token(&svc.issuer, svc.code_request(&code), NOW + 60)
        .await
        .unwrap_err();
    assert_eq!(expired.code(), "invalid_grant");
    let code = svc.code_for(&auth).await;
    let other_uri = TokenRequest {
        redirect_uri: Some("https://app.example/cb/"),
        ..svc.code_request(&code)
    };
    let error = svc
        .service()
        .token(&svc.issuer, other_uri, NOW)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_grant");
}

#[tokio::test]
async fn a_token_of_tenant_a_is_refused_for_tenant_b() {
    let svc = Svc::new().await;
    let tokens = svc.tokens().await;
    let globex = tenant("globex");
    // Globex trusts the very same issuer name and audience: still no.
    svc.node
        .verifier
        .set_tenant(&globex, acme_config())
        .unwrap();
    let error = gateway(&svc.node.verifier, &globex, &tokens.access_token, NOW)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_token");
    // Its refresh token and code-less grants do not work at globex either.
    let globex_issuer = warden_plugin_auth::service::Issuer {
        tenant: globex.clone(),
        ..svc.issuer.clone()
    };
    let refresh = tokens.refresh_token.unwrap();
    let error = svc
        .service()
        .token(&globex_issuer, svc.refresh_request(&refresh), NOW)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_client");
}

#[tokio::test]
async fn scopes_outside_the_client_are_invalid_scope() {
    let svc = Svc::new().await;
    let request = AuthorizeRequest {
        scope: Some("openid admin".into()),
        ..svc.authorize_request()
    };
    redirected(
        svc.service().validate_authorize(&svc.acme, &request).await,
        "invalid_scope",
    );
}

#[tokio::test]
async fn acr_values_and_max_age_require_a_fresh_strong_login() {
    let svc = Svc::new().await;
    let request = AuthorizeRequest {
        acr_values: Some("mfa".into()),
        max_age: Some(300),
        ..svc.authorize_request()
    };
    let validated = svc
        .service()
        .validate_authorize(&svc.acme, &request)
        .await
        .unwrap();
    let auth = svc.login().await;
    assert!(!validated.satisfied_by(&auth, NOW));
    let error = svc
        .service()
        .issue_code(&svc.acme, &validated, &auth, NOW)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "access_denied");
}

#[tokio::test]
async fn introspection_and_revocation_follow_rfc_7662_and_7009() {
    let svc = Svc::new().await;
    let tokens = svc.tokens().await;
    let rs = ClientAuth {
        client_id: &svc.machine.client_id,
        client_secret: Some(&svc.machine_secret),
    };
    let active = svc
        .service()
        .introspect(&svc.issuer, &rs, &tokens.access_token, NOW)
        .await
        .unwrap();
    assert!(active.active);
    assert_eq!(active.sub.as_deref(), Some(svc.alice.user_id.as_str()));
    let info = svc
        .service()
        .userinfo(&svc.issuer, &tokens.access_token, NOW)
        .await
        .unwrap();
    assert_eq!(info["preferred_username"], "alice");
    // Logout: the app revokes its refresh token.
    let app = ClientAuth {
        client_id: &svc.app.client_id,
        client_secret: None,
    };
    // A public client cannot introspect (it proves nothing but its id).
    let error = svc
        .service()
        .introspect(&svc.issuer, &app, &tokens.access_token, NOW)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "unauthorized_client");
    let refresh = tokens.refresh_token.clone().unwrap();
    svc.service()
        .revoke(&svc.issuer, &app, &refresh, NOW)
        .await
        .unwrap();
    svc.service()
        .revoke(&svc.issuer, &app, "unknown", NOW)
        .await
        .unwrap();
    let inactive = svc
        .service()
        .introspect(&svc.issuer, &rs, &tokens.access_token, NOW)
        .await
        .unwrap();
    assert!(!inactive.active);
    assert_eq!(
        serde_json::to_value(&inactive).unwrap(),
        serde_json::json!({"active": false})
    );
    let error = svc.gateway(&tokens.access_token, NOW).await.unwrap_err();
    assert_invalid_token(&error, Reason::FamilyRevoked, &tokens.access_token);
    assert_eq!(
        svc.refresh(&refresh, NOW).await.unwrap_err().code(),
        "invalid_grant"
    );
}

#[tokio::test]
async fn revoking_by_access_token_revokes_the_family() {
    let svc = Svc::new().await;
    let tokens = svc.tokens().await;
    let app = ClientAuth {
        client_id: &svc.app.client_id,
        client_secret: None,
    };
    svc.service()
        .revoke(&svc.issuer, &app, &tokens.access_token, NOW)
        .await
        .unwrap();
    assert!(svc.gateway(&tokens.access_token, NOW).await.is_err());
    let refresh = tokens.refresh_token.unwrap();
    assert!(svc.refresh(&refresh, NOW).await.is_err());
}

#[tokio::test]
async fn a_confidential_web_client_uses_the_code_flow_with_its_secret() {
    let svc = Svc::new().await;
    let (web, secret) = svc
        .service()
        .register_client(
            &svc.acme,
            NewClient {
                name: "Web".into(),
                kind: ClientKind::Confidential,
                redirect_uris: vec![REDIRECT.into()],
                grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
                scopes: vec!["orders:read".into()],
            },
            NOW,
        )
        .await
        .unwrap();
    let secret = secret.unwrap();
    let request = AuthorizeRequest {
        client_id: Some(web.client_id.clone()),
        scope: None,
        ..svc.authorize_request()
    };
    let validated = svc
        .service()
        .validate_authorize(&svc.acme, &request)
        .await
        .unwrap();
    assert_eq!(validated.scopes, vec!["orders:read"]);
    let auth = svc.login().await;
    let location = svc
        .service()
        .issue_code(&svc.acme, &validated, &auth, NOW)
        .await
        .unwrap()
        .location;
    let code = param(&location, "code").unwrap();
    let without_secret = TokenRequest {
        client_id: &web.client_id,
        ..svc.code_request(&code)
    };
    let error = svc
        .service()
        .token(&svc.issuer, without_secret, NOW)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_client");
    let with_secret = TokenRequest {
        client_id: &web.client_id,
        client_secret: Some(secret.expose()),
        ..svc.code_request(&code)
    };
    let tokens = svc
        .service()
        .token(&svc.issuer, with_secret, NOW)
        .await
        .unwrap();
    assert!(tokens.id_token.is_none(), "no openid scope, no ID token");
    svc.gateway(&tokens.access_token, NOW).await.unwrap();
}

#[tokio::test]
async fn access_tokens_never_outlive_the_tenants_lifetime_limit() {
    let svc = Svc::with(warden_plugin_auth::service::ServiceSettings {
        access_token_ttl_s: 3600,
        ..test_settings()
    })
    .await;
    // acme accepts 15 minutes at most: the service caps its hour.
    assert_eq!(svc.issuer.max_lifetime_s, 900);
    let tokens = svc.tokens().await;
    assert_eq!(tokens.expires_in, 900);
    let claims = payload(&tokens.access_token);
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        900
    );
    svc.gateway(&tokens.access_token, NOW).await.unwrap();
}

#[tokio::test]
async fn a_refresh_may_narrow_the_scope_but_never_widen_it() {
    let svc = Svc::new().await;
    let first = svc.tokens().await;
    let r1 = first.refresh_token.unwrap();
    let narrowed = TokenRequest {
        scope: Some("orders:read"),
        ..svc.refresh_request(&r1)
    };
    let second = svc
        .service()
        .token(&svc.issuer, narrowed, NOW + 1)
        .await
        .unwrap();
    assert_eq!(second.scope, "orders:read");
    let r2 = second.refresh_token.unwrap();
    let widened = TokenRequest {
        scope: Some("orders:read orders:write"),
        ..svc.refresh_request(&r2)
    };
    let error = svc
        .service()
        .token(&svc.issuer, widened, NOW + 2)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_scope");
}

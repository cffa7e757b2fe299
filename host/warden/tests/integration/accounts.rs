//! The admin API of a tenant's token service through the admin client:
//! users (disable, delete, TOTP enrolment), clients (secret shown once,
//! rotation stops the old secret at the token endpoint), sessions and
//! scoped admin tokens; a secret never appears in a listing.

use crate::common::TestNode;
use base64::Engine as _;
use http::{Method, StatusCode};
use warden::api::{AdminScope, ClientKind, GrantType, NewAdminToken, NewClient, NewUser};
use warden_plugin_auth::service::totp_code_from_uri;

async fn node() -> TestNode {
    let node = TestNode::start_with_token_service().await;
    node.put_issuing_tenant("acme", "https://acme.test/", "acme-api", true)
        .await;
    node
}

async fn client_credentials(node: &TestNode, id: &str, secret: &str) -> StatusCode {
    let pair = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    node.call_with(
        Method::POST,
        "acme.localhost",
        "/oauth2/token",
        "grant_type=client_credentials",
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("authorization", &format!("Basic {pair}")),
        ],
    )
    .await
    .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_are_registered_with_a_secret_shown_once_and_rotated() {
    let node = node().await;
    let api = node.api();
    let registered = api
        .register_client(
            "acme",
            &NewClient {
                name: "Billing".into(),
                kind: ClientKind::Confidential,
                redirect_uris: vec![],
                grant_types: vec![GrantType::ClientCredentials],
                scopes: vec![],
            },
        )
        .await
        .expect("registered");
    let id = registered.client.client_id.clone();
    let secret = registered.client_secret.clone().expect("secret");
    assert!(secret.starts_with("wcs_"), "shown once");
    assert_eq!(
        client_credentials(&node, &id, &secret).await,
        StatusCode::OK
    );

    let listing = node
        .admin(Method::GET, "/v1/tenants/acme/clients", "")
        .await;
    assert_eq!(listing.status, StatusCode::OK);
    assert!(listing.text().contains(&id));
    assert!(!listing.text().contains(&secret), "no secret in listings");

    let rotated = api
        .rotate_client_secret("acme", &id)
        .await
        .expect("rotated");
    let new_secret = rotated.client_secret.expect("new secret");
    assert_ne!(new_secret, secret);
    assert_eq!(
        client_credentials(&node, &id, &secret).await,
        StatusCode::UNAUTHORIZED,
        "the old secret stops"
    );
    assert_eq!(
        client_credentials(&node, &id, &new_secret).await,
        StatusCode::OK
    );

    api.delete_client("acme", &id).await.expect("deleted");
    assert!(api.clients("acme").await.expect("clients").is_empty());
    assert_eq!(
        client_credentials(&node, &id, &new_secret).await,
        StatusCode::UNAUTHORIZED
    );
    let missing = api.delete_client("acme", &id).await.expect_err("gone");
    assert_eq!(missing.code(), Some("not_found"), "{missing}");
    let nobody = api.clients("nobody").await.expect_err("no tenant");
    assert_eq!(nobody.code(), Some("not_found"), "{nobody}");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_created_disabled_enrolled_and_deleted() {
    let node = node().await;
    let api = node.api();
    let user = api
        .create_user(
            "acme",
            &NewUser {
                username: "alice".into(),
                password: "correct horse battery".into(),
            },
        )
        .await
        .expect("user");
    let taken = api
        .create_user(
            "acme",
            &NewUser {
                username: "Alice".into(),
                password: "another password".into(),
            },
        )
        .await
        .expect_err("taken");
    assert_eq!(taken.code(), Some("conflict"), "{taken}");
    let short = node
        .admin(
            Method::POST,
            "/v1/tenants/acme/users",
            r#"{"username":"bob","password":"short"}"#,
        )
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST, "{}", short.text());

    let listing = node.admin(Method::GET, "/v1/tenants/acme/users", "").await;
    assert!(listing.text().contains("alice"));
    assert!(
        !listing.text().contains("correct horse"),
        "{}",
        listing.text()
    );

    let disabled = api
        .set_user_disabled("acme", &user.user_id, true)
        .await
        .expect("disabled");
    assert!(disabled.disabled);
    let enabled = api
        .set_user_disabled("acme", &user.user_id, false)
        .await
        .expect("enabled");
    assert!(!enabled.disabled);

    let enrolled = api
        .enroll_totp("acme", &user.user_id)
        .await
        .expect("enrolled");
    assert!(enrolled.otpauth_uri.starts_with("otpauth://totp/"), "uri");
    let now = warden_plugin_auth::unix_now();
    let code = totp_code_from_uri(&enrolled.otpauth_uri, now).expect("code");
    let wrong = api.confirm_totp("acme", &user.user_id, "000000").await;
    if code != "000000" {
        assert!(wrong.is_err(), "a wrong first code is refused");
    }
    let codes = api
        .confirm_totp("acme", &user.user_id, &code)
        .await
        .expect("confirmed");
    assert_eq!(codes.recovery_codes.len(), 10);
    let shown = api.users("acme").await.expect("users");
    assert!(shown.iter().any(|u| u.user_id == user.user_id && u.mfa));

    assert!(
        api.sessions("acme", &user.user_id)
            .await
            .expect("sessions")
            .is_empty()
    );
    api.delete_user("acme", &user.user_id)
        .await
        .expect("deleted");
    let gone = api.sessions("acme", &user.user_id).await.expect_err("gone");
    assert_eq!(gone.code(), Some("not_found"), "{gone}");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_tokens_are_shown_once_listed_without_secret_and_revoked() {
    let node = node().await;
    let api = node.api();
    let expires_at = warden_plugin_auth::unix_now() + 3600;
    let created = api
        .create_admin_token(
            "acme",
            &NewAdminToken {
                name: "ci".into(),
                scopes: vec![AdminScope::Deploy, AdminScope::Read],
                expires_at,
            },
        )
        .await
        .expect("created");
    assert!(created.token.starts_with("wat_"), "shown once");
    let listing = node
        .admin(Method::GET, "/v1/tenants/acme/admin-tokens", "")
        .await;
    assert!(listing.text().contains(&created.info.token_id));
    assert!(
        !listing.text().contains(&created.token),
        "no secret in listings"
    );
    let bad = node
        .admin(
            Method::POST,
            "/v1/tenants/acme/admin-tokens",
            format!(r#"{{"name":"x","scopes":["root"],"expires_at":{expires_at}}}"#),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text());
    api.revoke_admin_token("acme", &created.info.token_id)
        .await
        .expect("revoked");
    assert!(api.admin_tokens("acme").await.expect("tokens").is_empty());
    node.shutdown().await;
}

//! Scoped admin tokens at every admin route: a tenant's token reaches its
//! own tenant's routes with the scope of the action (403 without it), is
//! unknown at another tenant's routes (401), and may not use node-wide
//! routes (403); revoked or expired tokens are 401.

use crate::common::TestNode;
use http::{Method, StatusCode};
use warden::api::{AdminScope, NewAdminToken, PutTenant};

use AdminScope::{Admin, Deploy, Keys, Read, Users};

/// Every `/v1` route of a tenant, with a body that passes parsing where
/// one is needed, and the scope it requires.
fn tenant_routes(t: &str) -> Vec<(Method, String, &'static str, AdminScope)> {
    let p = |s: &str| format!("/v1/tenants/{t}{s}");
    vec![
        (Method::GET, p(""), "", Read),
        (Method::GET, p("/functions"), "", Read),
        (
            Method::PUT,
            p("/functions/f"),
            r#"{"routes":["/f"]}"#,
            Deploy,
        ),
        (Method::GET, p("/functions/f"), "", Read),
        (Method::GET, p("/functions/f/versions"), "", Read),
        (Method::POST, p("/functions/f/versions"), "not wasm", Deploy),
        (
            Method::POST,
            p("/functions/f/activate"),
            r#"{"digest":"x"}"#,
            Deploy,
        ),
        (Method::GET, p("/keys"), "", Keys),
        (Method::POST, p("/keys"), "", Keys),
        (Method::POST, p("/keys/rotate"), "", Keys),
        (Method::POST, p("/keys/nokid/retire"), "", Keys),
        (Method::POST, p("/tokens"), r#"{"subject":"a"}"#, Keys),
        (Method::GET, p("/users"), "", Users),
        (
            Method::POST,
            p("/users"),
            r#"{"username":"u","password":"long enough pw"}"#,
            Users,
        ),
        (Method::GET, p("/users/nouser"), "", Users),
        (Method::POST, p("/users/nouser/disable"), "", Users),
        (Method::POST, p("/users/nouser/enable"), "", Users),
        (Method::POST, p("/users/nouser/totp"), "", Users),
        (
            Method::POST,
            p("/users/nouser/totp/confirm"),
            r#"{"code":"1"}"#,
            Users,
        ),
        (Method::DELETE, p("/users/nouser/totp"), "", Users),
        (Method::GET, p("/users/nouser/sessions"), "", Users),
        (Method::DELETE, p("/users/nouser/sessions"), "", Users),
        (Method::DELETE, p("/users/nouser/sessions/s"), "", Users),
        (Method::DELETE, p("/users/nouser"), "", Users),
        (Method::GET, p("/clients"), "", Users),
        (
            Method::POST,
            p("/clients"),
            r#"{"name":"c","kind":"public","redirect_uris":["https://a.example/cb"],"grant_types":["authorization_code"],"scopes":[]}"#,
            Users,
        ),
        (Method::GET, p("/clients/noclient"), "", Users),
        (
            Method::POST,
            p("/clients/noclient/rotate-secret"),
            "",
            Users,
        ),
        (Method::DELETE, p("/clients/noclient"), "", Users),
        (Method::GET, p("/admin-tokens"), "", Admin),
        (
            Method::POST,
            p("/admin-tokens"),
            r#"{"name":"n","scopes":["read"],"expires_at":1}"#,
            Admin,
        ),
        (Method::DELETE, p("/admin-tokens/notoken"), "", Admin),
        (Method::DELETE, p(""), "", Admin),
    ]
}

async fn node() -> TestNode {
    let node = TestNode::start_with_token_service().await;
    for t in ["acme", "globex"] {
        node.api()
            .put_tenant(t, &PutTenant::default())
            .await
            .expect("tenant");
    }
    node
}

async fn token(node: &TestNode, scopes: &[AdminScope], ttl: u64) -> String {
    node.api()
        .create_admin_token(
            "acme",
            &NewAdminToken {
                name: "t".into(),
                scopes: scopes.to_vec(),
                expires_at: warden_plugin_auth::unix_now() + ttl,
            },
        )
        .await
        .expect("token")
        .token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scoped_token_reaches_only_its_tenant_and_only_with_the_scope() {
    let node = node().await;
    let all = token(&node, &[Admin], 3600).await;

    for (method, path, body, _) in tenant_routes("globex") {
        let r = node
            .admin_with_token(method.clone(), &path, body, Some(&all))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path}: {}",
            r.text()
        );
    }
    for (method, path) in [
        (Method::GET, "/v1/tenants"),
        (Method::PUT, "/v1/tenants/acme"),
        (Method::PUT, "/v1/tenants/newco"),
    ] {
        let r = node
            .admin_with_token(method.clone(), path, "{}", Some(&all))
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {}",
            r.text()
        );
        assert_eq!(r.error_code(), "forbidden");
    }

    let mut tokens = std::collections::HashMap::new();
    for scope in [Read, Deploy, Keys, Users, Admin] {
        tokens.insert(scope, token(&node, &[scope], 3600).await);
    }
    for (method, path, body, needed) in tenant_routes("acme") {
        let other = if needed == Read { Deploy } else { Read };
        let r = node
            .admin_with_token(method.clone(), &path, body, Some(&tokens[&other]))
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{method} {path} with {other:?}: {}",
            r.text()
        );
    }
    for (method, path, body, needed) in tenant_routes("acme") {
        let r = node
            .admin_with_token(method.clone(), &path, body, Some(&tokens[&needed]))
            .await;
        assert!(
            r.status != StatusCode::UNAUTHORIZED && r.status != StatusCode::FORBIDDEN,
            "{method} {path} with {needed:?}: {} {}",
            r.status,
            r.text()
        );
    }
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_expired_and_forged_scoped_tokens_are_refused() {
    let node = node().await;
    let read = token(&node, &[Read], 3600).await;
    let r = node
        .admin_with_token(Method::GET, "/v1/tenants/acme", "", Some(&read))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let forged = format!("{}x", read);
    let r = node
        .admin_with_token(Method::GET, "/v1/tenants/acme", "", Some(&forged))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    let id = read
        .strip_prefix("wat_")
        .and_then(|rest| rest.split_once('.'))
        .map(|(id, _)| id.to_owned())
        .expect("id");
    node.api()
        .revoke_admin_token("acme", &id)
        .await
        .expect("revoked");
    let r = node
        .admin_with_token(Method::GET, "/v1/tenants/acme", "", Some(&read))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "revoked: {}", r.text());

    let short = token(&node, &[Read], 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = node
        .admin_with_token(Method::GET, "/v1/tenants/acme", "", Some(&short))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "expired: {}", r.text());
    node.shutdown().await;
}

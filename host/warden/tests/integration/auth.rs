//! Gateway auth end to end: a tenant's keys through the admin API, its
//! JWKS on its hosts, tokens minted with its active key and checked in the
//! gateway (scopes, step-up, single use, rotation, retirement, tenant
//! isolation) before the guest runs; the guest sees the principal, never
//! the token. The hostile-token suite is the auth plugin's
//! (`plugins/auth/tests/suite/hostile.rs`); here each refusal is checked as
//! the client sees it: status, `WWW-Authenticate`, and the JSON body.

use crate::common::{Reply, TestNode, component};
use bytes::Bytes;
use http::{Method, StatusCode, header};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use warden::api::{
    KeyState, MintToken, NewKeyRequest, PutFunction, PutTenant, RoutePolicy, TenantAuthConfig,
};
use warden_test_components as guests;

const ISSUER: &str = "https://acme.test/";
const AUDIENCE: &str = "acme-api";

fn tenant_auth() -> TenantAuthConfig {
    TenantAuthConfig {
        issuer: Some(ISSUER.into()),
        audiences: vec![AUDIENCE.into()],
        ..TenantAuthConfig::default()
    }
}

/// A node whose key snapshots are never reused, so a retirement is seen
/// by the next request (the default allows 5 s).
async fn node() -> TestNode {
    TestNode::start_with(|c| {
        let mut auth = warden_plugin_auth::Config::embedded(&c.data_dir);
        auth.key_snapshot_ttl_ms = 0;
        c.auth = Some(auth);
    })
    .await
}

/// Tenant `name` with `[auth]`, an EdDSA key, and the probe at `/whoami`
/// under `policy` (plus `rules`).
async fn secured(
    node: &TestNode,
    name: &str,
    policy: Option<RoutePolicy>,
    rules: &[(&str, RoutePolicy)],
) {
    let api = node.api();
    let spec = PutTenant {
        auth: Some(tenant_auth()),
        ..PutTenant::default()
    };
    api.put_tenant(name, &spec).await.expect("tenant");
    if api.keys(name).await.expect("keys").is_empty() {
        api.create_key(name, &NewKeyRequest::default())
            .await
            .expect("key");
    }
    deploy_probe(node, name, policy, rules).await;
}

async fn deploy_probe(
    node: &TestNode,
    tenant: &str,
    policy: Option<RoutePolicy>,
    rules: &[(&str, RoutePolicy)],
) {
    let api = node.api();
    let spec = PutFunction {
        routes: vec!["/whoami".into()],
        auth: policy,
        route_auth: rules
            .iter()
            .map(|(k, p)| (k.to_string(), p.clone()))
            .collect::<BTreeMap<_, _>>(),
        ..PutFunction::default()
    };
    api.put_function(tenant, "probe", &spec)
        .await
        .expect("function");
    let bytes = Bytes::from(component(guests::AUTH_PROBE));
    let uploaded = api.upload(tenant, "probe", bytes).await.expect("upload");
    api.activate(tenant, "probe", &uploaded.version.digest)
        .await
        .expect("activate");
}

async fn mint(node: &TestNode, tenant: &str, scopes: &[&str], claims: Value) -> String {
    let request = MintToken {
        subject: "alice".into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        ttl_s: Some(300),
        audience: None,
        claims: claims.as_object().cloned().unwrap_or_default(),
    };
    node.api()
        .mint_token(tenant, &request)
        .await
        .expect("minted")
        .token
}

async fn whoami(node: &TestNode, tenant: &str, path: &str, token: Option<&str>) -> Reply {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = bearer
        .as_deref()
        .map(|b| vec![("authorization", b)])
        .unwrap_or_default();
    node.call_with(
        Method::GET,
        &format!("{tenant}.localhost"),
        path,
        "",
        &headers,
    )
    .await
}

fn challenge(r: &Reply) -> String {
    r.headers
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no WWW-Authenticate on {} {}", r.status, r.text()))
        .to_string()
}

fn scoped(scopes: &[&str]) -> RoutePolicy {
    RoutePolicy {
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        ..RoutePolicy::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_managed_and_published_without_private_material() {
    let node = node().await;
    let api = node.api();
    api.put_tenant("acme", &PutTenant::default())
        .await
        .expect("tenant");
    let r = node
        .admin(Method::POST, "/v1/tenants/acme/keys", r#"{"alg":"ES256"}"#)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let created = r.json();
    assert_eq!(created["state"], "active");
    assert!(created["public_jwk"]["d"].is_null(), "{created}");
    let kid = created["kid"].as_str().expect("kid").to_string();

    let short = node
        .admin(
            Method::POST,
            "/v1/tenants/acme/keys",
            r#"{"alg":"HS256","secret":"c2hvcnQ"}"#,
        )
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST, "{}", short.text());
    assert_eq!(short.error_code(), "invalid_key");
    let secret = format!("{}A", "b".repeat(42)); // 32 bytes of base64url, canonical
    let hs = node
        .admin(
            Method::POST,
            "/v1/tenants/acme/keys",
            format!(r#"{{"alg":"HS256","secret":"{secret}"}}"#),
        )
        .await;
    assert_eq!(hs.status, StatusCode::CREATED, "{}", hs.text());
    assert!(!hs.text().contains(&secret), "secret echoed: {}", hs.text());
    assert_eq!(
        hs.json()["state"],
        "verify_only",
        "a second key does not sign"
    );

    let jwks = node.get("acme.localhost", "/.well-known/jwks.json").await;
    assert_eq!(jwks.status, StatusCode::OK, "{}", jwks.text());
    assert_eq!(
        jwks.headers[header::CONTENT_TYPE],
        "application/jwk-set+json"
    );
    let cache = jwks.headers[header::CACHE_CONTROL].to_str().expect("ascii");
    assert!(cache.contains("max-age="), "{cache}");
    let keys = jwks.json()["keys"].as_array().expect("keys").clone();
    assert_eq!(keys.len(), 1, "HS256 is never published: {keys:?}");
    assert_eq!(keys[0]["kid"], kid.as_str());
    assert!(keys[0]["d"].is_null(), "{keys:?}");

    let rotated = api
        .rotate_key("acme", &NewKeyRequest::default())
        .await
        .expect("rotate");
    let listed = api.keys("acme").await.expect("list");
    let state_of = |kid: &str| listed.iter().find(|k| k.kid == kid).map(|k| k.state);
    assert_eq!(state_of(&rotated.kid), Some(KeyState::Active));
    assert_eq!(state_of(&kid), Some(KeyState::VerifyOnly));
    api.retire_key("acme", &kid).await.expect("retire");
    let missing = api
        .retire_key("acme", "no-such-kid")
        .await
        .expect_err("unknown");
    assert_eq!(missing.code(), Some("not_found"));
    let unknown_tenant = api.keys("nobody").await.expect_err("no tenant");
    assert_eq!(unknown_tenant.code(), Some("not_found"));
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_with_auth_needs_a_valid_token_and_the_guest_sees_only_the_principal() {
    let node = node().await;
    secured(&node, "acme", None, &[]).await;

    let none = whoami(&node, "acme", "/whoami", None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED, "{}", none.text());
    assert_eq!(none.error_code(), "invalid_token");
    let c = challenge(&none);
    assert!(c.starts_with("Bearer realm=\"acme\""), "{c}");
    assert!(c.contains("error=\"invalid_token\""), "{c}");

    let garbage = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.";
    let bad = whoami(&node, "acme", "/whoami", Some(garbage)).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED, "{}", bad.text());
    assert!(
        !bad.text().contains(garbage),
        "token echoed: {}",
        bad.text()
    );

    let token = mint(
        &node,
        "acme",
        &["orders:read"],
        json!({"email": "a@acme.test"}),
    )
    .await;
    let ok = whoami(&node, "acme", "/whoami?scope=orders:read", Some(&token)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let seen = ok.json();
    assert_eq!(seen["principal"]["subject"], "alice", "{seen}");
    assert_eq!(seen["principal"]["tenant"], "acme", "{seen}");
    assert_eq!(seen["has_scope"], true, "{seen}");
    assert_eq!(seen["saw_authorization"], false, "token stripped: {seen}");
    assert_eq!(
        seen["principal"]["claims"],
        json!([]),
        "no claim is exposed unless the route says so"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_are_checked_in_the_gateway_and_claims_exposed_on_request() {
    let node = node().await;
    let mut policy = scoped(&["orders:write"]);
    policy.expose_claims = vec!["email".into()];
    secured(&node, "acme", Some(policy), &[]).await;

    let reader = mint(&node, "acme", &["orders:read"], json!({})).await;
    let r = whoami(&node, "acme", "/whoami", Some(&reader)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.error_code(), "insufficient_scope");
    let c = challenge(&r);
    assert!(c.contains("error=\"insufficient_scope\""), "{c}");
    assert!(c.contains("scope=\"orders:write\""), "{c}");

    let writer = mint(
        &node,
        "acme",
        &["orders:write"],
        json!({"email": "a@acme.test"}),
    )
    .await;
    let r = whoami(&node, "acme", "/whoami", Some(&writer)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json()["principal"]["claims"],
        json!([["email", "\"a@acme.test\""]])
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_up_routes_ask_for_recent_mfa_per_rfc_9470() {
    let node = node().await;
    let policy = RoutePolicy {
        step_up: Some(warden_plugin_auth::StepUp {
            acr: Some("mfa".into()),
            max_age_s: Some(300),
        }),
        ..RoutePolicy::default()
    };
    secured(&node, "acme", Some(policy), &[]).await;
    let now = warden_plugin_auth::unix_now();

    let password_only = mint(&node, "acme", &[], json!({"acr": "pwd", "auth_time": now})).await;
    let r = whoami(&node, "acme", "/whoami", Some(&password_only)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    assert_eq!(r.error_code(), "insufficient_user_authentication");
    let c = challenge(&r);
    assert!(
        c.contains("error=\"insufficient_user_authentication\""),
        "{c}"
    );
    assert!(c.contains("acr_values=\"mfa\""), "{c}");
    assert!(c.contains("max_age=300"), "{c}");

    let stale = mint(
        &node,
        "acme",
        &[],
        json!({"acr": "mfa", "auth_time": now - 3600}),
    )
    .await;
    let r = whoami(&node, "acme", "/whoami", Some(&stale)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());

    let fresh = mint(
        &node,
        "acme",
        &[],
        json!({"acr": "mfa", "auth_time": now, "amr": ["pwd", "otp"]}),
    )
    .await;
    let r = whoami(&node, "acme", "/whoami", Some(&fresh)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["principal"]["methods"], json!(["pwd", "otp"]));
    assert_eq!(r.json()["principal"]["auth_time"], now);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_use_token_is_accepted_once() {
    let node = node().await;
    let policy = RoutePolicy {
        single_use: true,
        ..RoutePolicy::default()
    };
    secured(&node, "acme", Some(policy), &[]).await;
    let token = mint(&node, "acme", &[], json!({})).await;
    let first = whoami(&node, "acme", "/whoami", Some(&token)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    let replay = whoami(&node, "acme", "/whoami", Some(&token)).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "{}", replay.text());
    assert!(replay.text().contains("replayed"), "{}", replay.text());
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_overlaps_and_retirement_cuts_off() {
    let node = node().await;
    secured(&node, "acme", None, &[]).await;
    let api = node.api();
    let old_kid = api.keys("acme").await.expect("keys")[0].kid.clone();
    let old = mint(&node, "acme", &[], json!({})).await;
    api.rotate_key("acme", &NewKeyRequest::default())
        .await
        .expect("rotate");
    let new = mint(&node, "acme", &[], json!({})).await;
    for token in [&old, &new] {
        let r = whoami(&node, "acme", "/whoami", Some(token)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    api.retire_key("acme", &old_kid).await.expect("retire");
    let r = whoami(&node, "acme", "/whoami", Some(&old)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    assert!(r.text().contains("unknown_kid"), "{}", r.text());
    let r = whoami(&node, "acme", "/whoami", Some(&new)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_of_one_tenant_is_refused_by_another() {
    let node = node().await;
    secured(&node, "acme", None, &[]).await;
    // Same issuer and audience strings: only the keys tell them apart.
    secured(&node, "globex", None, &[]).await;
    let acme = mint(&node, "acme", &[], json!({})).await;
    assert_eq!(
        whoami(&node, "acme", "/whoami", Some(&acme)).await.status,
        StatusCode::OK
    );
    let r = whoami(&node, "globex", "/whoami", Some(&acme)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_paths_run_without_a_token_yet_refuse_a_bad_one_and_can_forward() {
    let node = node().await;
    let public = RoutePolicy {
        public: true,
        ..RoutePolicy::default()
    };
    let forward = RoutePolicy {
        forward_token: true,
        ..RoutePolicy::default()
    };
    secured(
        &node,
        "acme",
        None,
        &[("GET /whoami/public", public), ("/whoami/forward", forward)],
    )
    .await;
    let r = whoami(&node, "acme", "/whoami/public", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.json()["principal"].is_null());
    let r = whoami(&node, "acme", "/whoami/public", Some("x.y.z")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    let r = node
        .call(Method::POST, "acme.localhost", "/whoami/public", "")
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "only GET is public");
    let r = whoami(&node, "acme", "/whoami", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "the rest is protected");

    let token = mint(&node, "acme", &[], json!({})).await;
    let r = whoami(&node, "acme", "/whoami/forward", Some(&token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["saw_authorization"], true);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_are_counted_and_the_subject_is_logged_never_the_token() {
    let node = node().await;
    secured(&node, "acme", None, &[]).await;
    let mut lines = node
        .warden
        .as_ref()
        .expect("running")
        .subscribe_access_log();
    let token = mint(&node, "acme", &[], json!({})).await;
    for _ in 0..3 {
        let r = whoami(&node, "acme", "/whoami", Some(&token)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let r = whoami(&node, "acme", "/whoami", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let allowed = node
        .metric(r#"warden_auth_decisions_total{tenant="acme",outcome="allowed",reason="ok"}"#)
        .await;
    assert_eq!(allowed, 3.0);
    let refused = node
        .metric(
            r#"warden_auth_decisions_total{tenant="acme",outcome="refused",reason="missing_token"}"#,
        )
        .await;
    assert_eq!(refused, 1.0);
    assert!(node.metric("warden_auth_token_cache_hits").await >= 2.0);

    let mut subjects = Vec::new();
    while subjects.len() < 4 {
        let line = tokio::time::timeout(std::time::Duration::from_secs(5), lines.recv())
            .await
            .expect("an access line")
            .expect("line");
        assert!(!line.contains(&token), "token logged: {line}");
        let line: Value = serde_json::from_str(&line).expect("json line");
        subjects.push(line["subject"].as_str().unwrap_or("").to_string());
    }
    assert_eq!(subjects, ["alice", "alice", "alice", ""]);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_auth_settings_are_refused_with_a_reason() {
    let node = node().await;
    let r = node
        .admin(
            Method::PUT,
            "/v1/tenants/acme",
            r#"{"auth":{"issuer":"https://a/","audiences":["x"],"leeway_s":99}}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.text().contains("leeway_s"), "{}", r.text());
    let r = node
        .admin(
            Method::PUT,
            "/v1/tenants/acme",
            r#"{"auth":{"issuers":[{"issuer":"https://idp/","audiences":["a"],"jwks_url":"http://idp.example/jwks"}]}}"#,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "plain http off loopback: {}",
        r.text()
    );
    node.admin(Method::PUT, "/v1/tenants/acme", "{}").await;
    let r = node
        .admin(
            Method::PUT,
            "/v1/tenants/acme/functions/f",
            r#"{"routes":["/f"],"route_auth":{"GET /g":{"public":true}}}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let r = node
        .admin(
            Method::PUT,
            "/v1/tenants/acme/functions/f",
            r#"{"routes":["/.well-known/jwks.json"]}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    for reserved in [
        "/oauth2",
        "/oauth2/token",
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ] {
        let r = node
            .admin(
                Method::PUT,
                "/v1/tenants/acme/functions/f",
                format!(r#"{{"routes":["{reserved}"]}}"#),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{reserved}: {}",
            r.text()
        );
        assert!(r.text().contains("reserved"), "{}", r.text());
    }
    let r = node
        .admin(
            Method::POST,
            "/v1/tenants/acme/tokens",
            r#"{"subject":"alice"}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "no issuer: {}", r.text());
    assert_eq!(r.error_code(), "no_issuer");
    node.shutdown().await;
}

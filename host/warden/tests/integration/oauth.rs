//! The token service over HTTP: discovery documents, the token endpoint
//! (client_credentials, authorization_code with PKCE, refresh), revocation,
//! introspection and userinfo, and the hosted login page (CSRF, password,
//! TOTP, `acr_values`), all on a tenant's host of a real node. The
//! service's rules themselves are tested in plugins/auth; here each is
//! checked as a client sees it: status, headers and body.

use crate::common::{Reply, TestNode, component};
use base64::Engine as _;
use http::{Method, StatusCode, header};
use serde_json::Value;
use warden::api::{PutFunction, PutTenant, TenantAuthConfig};
use warden_plugin_auth::Tenant;
use warden_plugin_auth::service::{
    ClientKind, GrantType, NewClient, NewUser, TokenService, s256_challenge, totp_code_from_uri,
};
use warden_test_components as guests;

const ISSUER: &str = "https://acme.test/";
const AUDIENCE: &str = "acme-api";
const HOST: &str = "acme.localhost";
const REDIRECT: &str = "https://app.example/cb";
const PASSWORD: &str = "correct horse battery";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const FORM: &str = "application/x-www-form-urlencoded";

/// A node with cheap argon2 (the cost is a setting; the default is OWASP's
/// and takes seconds in a debug build).
async fn node() -> TestNode {
    TestNode::start_with_token_service().await
}

/// Tenant `acme` with its own issuer and a key, and the auth probe at
/// `/whoami` (any valid token).
async fn tenant(node: &TestNode, token_service: bool) {
    node.put_issuing_tenant("acme", ISSUER, AUDIENCE, token_service)
        .await;
    // `/whoami/admin` is a step-up route: MFA within five minutes.
    let step_up = warden::api::RoutePolicy {
        step_up: Some(warden_plugin_auth::StepUp {
            acr: Some("mfa".into()),
            max_age_s: Some(300),
        }),
        ..warden::api::RoutePolicy::default()
    };
    let function = PutFunction {
        routes: vec!["/whoami".into()],
        route_auth: [("/whoami/admin".to_owned(), step_up)]
            .into_iter()
            .collect(),
        ..PutFunction::default()
    };
    node.deploy_spec("acme", "probe", &function, &component(guests::AUTH_PROBE))
        .await;
}

fn service(node: &TestNode) -> &TokenService {
    node.warden.as_ref().expect("running").token_service()
}

fn acme() -> Tenant {
    Tenant::new("acme").expect("tenant")
}

fn now() -> u64 {
    warden_plugin_auth::unix_now()
}

/// A confidential machine client: (id, secret).
async fn machine(node: &TestNode) -> (String, String) {
    let (info, secret) = service(node)
        .register_client(
            &acme(),
            NewClient {
                name: "Billing".into(),
                kind: ClientKind::Confidential,
                redirect_uris: vec![],
                grant_types: vec![GrantType::ClientCredentials],
                scopes: vec!["orders:read".into()],
            },
            now(),
        )
        .await
        .expect("client");
    (info.client_id, secret.expect("secret").expose().to_owned())
}

/// A public browser client with the code flow: its id.
async fn browser_app(node: &TestNode) -> String {
    let (info, _) = service(node)
        .register_client(
            &acme(),
            NewClient {
                name: "Acme <App>".into(),
                kind: ClientKind::Public,
                redirect_uris: vec![REDIRECT.into()],
                grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
                scopes: vec!["openid".into(), "orders:read".into()],
            },
            now(),
        )
        .await
        .expect("client");
    info.client_id
}

async fn user(node: &TestNode, name: &str) -> String {
    service(node)
        .create_user(
            &acme(),
            NewUser {
                username: name.into(),
                password: PASSWORD.into(),
            },
            now(),
        )
        .await
        .expect("user")
        .user_id
}

fn basic(id: &str, secret: &str) -> String {
    let pair = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    format!("Basic {pair}")
}

async fn post(node: &TestNode, path: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
    let mut all = vec![("content-type", FORM)];
    all.extend_from_slice(headers);
    node.call_with(Method::POST, HOST, path, body.to_owned(), &all)
        .await
}

fn header_of(r: &Reply, name: header::HeaderName) -> String {
    r.headers
        .get(&name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} on {} {}", r.status, r.text()))
        .to_owned()
}

fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("json")
}

/// A query or fragment parameter of `url`.
fn param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn percent(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_documents_name_this_hosts_endpoints_and_only_s256() {
    let node = node().await;
    tenant(&node, true).await;
    for path in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ] {
        let r = node.get(HOST, path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
        let doc = r.json();
        assert_eq!(doc["issuer"], ISSUER);
        assert_eq!(doc["token_endpoint"], "https://acme.localhost/oauth2/token");
        assert_eq!(
            doc["authorization_endpoint"],
            "https://acme.localhost/oauth2/authorize"
        );
        assert_eq!(
            doc["jwks_uri"],
            "https://acme.localhost/.well-known/jwks.json"
        );
        assert_eq!(
            doc["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
    }
    let r = node.get(HOST, "/oauth2/nothing").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_that_switched_the_service_off_or_has_no_issuer_answers_404() {
    let node = node().await;
    tenant(&node, false).await;
    node.api()
        .put_tenant("globex", &PutTenant::default())
        .await
        .expect("tenant");
    for host in [HOST, "globex.localhost"] {
        for path in ["/.well-known/openid-configuration", "/oauth2/token"] {
            let r = node.get(host, path).await;
            assert_eq!(
                r.status,
                StatusCode::NOT_FOUND,
                "{host}{path}: {}",
                r.text()
            );
            assert_eq!(r.json()["error"], "not_found");
        }
    }
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_by_basic_or_form_are_never_cached_and_pass_the_gateway() {
    let node = node().await;
    tenant(&node, true).await;
    let (id, secret) = machine(&node).await;

    let r = post(
        &node,
        "/oauth2/token",
        "grant_type=client_credentials",
        &[("authorization", &basic(&id, &secret))],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(header_of(&r, header::CACHE_CONTROL), "no-store");
    let body = r.json();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body.get("refresh_token").is_none(), "{body}");
    let access = body["access_token"].as_str().expect("token").to_owned();
    assert_eq!(payload(&access)["sub"], id.as_str());

    let bearer = format!("Bearer {access}");
    let r = node
        .call_with(
            Method::GET,
            HOST,
            "/whoami",
            "",
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the gateway accepts it: {}",
        r.text()
    );

    let form = format!(
        "grant_type=client_credentials&client_id={id}&client_secret={}",
        percent(&secret)
    );
    let r = post(&node, "/oauth2/token", &form, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "form credentials: {}", r.text());

    // Introspection by the (confidential) client itself.
    let r = post(
        &node,
        "/oauth2/introspect",
        &format!("token={access}"),
        &[("authorization", &basic(&id, &secret))],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["active"], true);
    assert_eq!(r.json()["client_id"], id.as_str());
    let r = post(
        &node,
        "/oauth2/introspect",
        "token=not-a-token",
        &[("authorization", &basic(&id, &secret))],
    )
    .await;
    assert_eq!(r.json()["active"], false, "{}", r.text());
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_errors_follow_rfc_6749() {
    let node = node().await;
    tenant(&node, true).await;
    let (id, secret) = machine(&node).await;
    let good = basic(&id, &secret);

    let r = post(
        &node,
        "/oauth2/token",
        "grant_type=client_credentials",
        &[("authorization", &basic(&id, "wcs_wrong"))],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    assert_eq!(r.json()["error"], "invalid_client");
    assert!(header_of(&r, header::WWW_AUTHENTICATE).starts_with("Basic realm=\"acme\""));
    assert_eq!(header_of(&r, header::CACHE_CONTROL), "no-store");

    let r = post(&node, "/oauth2/token", "grant_type=client_credentials", &[]).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "no credentials: {}",
        r.text()
    );

    let both = format!(
        "grant_type=client_credentials&client_secret={}",
        percent(&secret)
    );
    let r = post(&node, "/oauth2/token", &both, &[("authorization", &good)]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.json()["error"], "invalid_request");

    let r = post(
        &node,
        "/oauth2/token",
        "grant_type=password",
        &[("authorization", &good)],
    )
    .await;
    assert_eq!(r.json()["error"], "unsupported_grant_type", "{}", r.text());

    let r = post(
        &node,
        "/oauth2/token",
        "grant_type=client_credentials&grant_type=client_credentials",
        &[("authorization", &good)],
    )
    .await;
    assert_eq!(
        r.json()["error"],
        "invalid_request",
        "repeated: {}",
        r.text()
    );

    let r = node
        .call_with(
            Method::POST,
            HOST,
            "/oauth2/token",
            r#"{"grant_type":"client_credentials"}"#,
            &[
                ("content-type", "application/json"),
                ("authorization", &good),
            ],
        )
        .await;
    assert_eq!(
        r.json()["error"],
        "invalid_request",
        "json body: {}",
        r.text()
    );

    let big = format!(
        "grant_type=client_credentials&pad={}",
        "a".repeat(64 * 1024)
    );
    let r = post(&node, "/oauth2/token", &big, &[("authorization", &good)]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "oversize: {}", r.text());

    let r = node.get(HOST, "/oauth2/token").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{}", r.text());

    let r = post(
        &node,
        "/oauth2/token",
        "grant_type=client_credentials",
        &[("authorization", &good), ("dpop", "not.a.proof")],
    )
    .await;
    assert_eq!(r.json()["error"], "invalid_dpop_proof", "{}", r.text());

    // The client of tenant acme is unknown at tenant globex's endpoints.
    node.api()
        .put_tenant(
            "globex",
            &PutTenant {
                auth: Some(TenantAuthConfig {
                    issuer: Some("https://globex.test/".into()),
                    audiences: vec!["globex-api".into()],
                    ..TenantAuthConfig::default()
                }),
                ..PutTenant::default()
            },
        )
        .await
        .expect("globex");
    let r = node
        .call_with(
            Method::POST,
            "globex.localhost",
            "/oauth2/token",
            "grant_type=client_credentials",
            &[("content-type", FORM), ("authorization", &good)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    assert_eq!(r.json()["error"], "invalid_client");
    node.shutdown().await;
}

/// What the login page gave: its csrf token and the login cookie.
struct LoginPage {
    csrf: String,
    cookie: String,
    reply: Reply,
}

fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("csrf field") + marker.len();
    let end = html[start..].find('"').expect("end of csrf");
    html[start..start + end].to_owned()
}

async fn authorize(node: &TestNode, client_id: &str, extra: &str) -> LoginPage {
    let query = format!(
        "/oauth2/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid&state=st-1&code_challenge={}&code_challenge_method=S256{extra}",
        percent(REDIRECT),
        s256_challenge(VERIFIER)
    );
    let reply = node.get(HOST, &query).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let cookie = header_of(&reply, header::SET_COOKIE);
    let cookie = cookie.split(';').next().expect("pair").to_owned();
    LoginPage {
        csrf: csrf_of(&reply.text()),
        cookie,
        reply,
    }
}

async fn login(node: &TestNode, page: &LoginPage, form: &str) -> Reply {
    post(node, "/oauth2/login", form, &[("cookie", &page.cookie)]).await
}

async fn exchange(node: &TestNode, client_id: &str, code: &str) -> Reply {
    let form = format!(
        "grant_type=authorization_code&client_id={client_id}&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        percent(REDIRECT)
    );
    post(node, "/oauth2/token", &form, &[]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_code_flow_through_the_login_page_over_http() {
    let node = node().await;
    tenant(&node, true).await;
    let client_id = browser_app(&node).await;
    user(&node, "alice").await;

    let page = authorize(&node, &client_id, "").await;
    let csp = header_of(&page.reply, header::CONTENT_SECURITY_POLICY);
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(header_of(&page.reply, header::X_FRAME_OPTIONS), "DENY");
    assert!(
        page.reply.text().contains("Acme &lt;App&gt;"),
        "escaped name"
    );
    assert!(header_of(&page.reply, header::SET_COOKIE).contains("HttpOnly"));

    let creds = format!("username=alice&password={}", percent(PASSWORD));
    let r = login(&node, &page, &creds).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "csrf missing: {}",
        r.text()
    );
    let r = login(&node, &page, &format!("{creds}&csrf=forged")).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "csrf wrong: {}",
        r.text()
    );
    let r = post(
        &node,
        "/oauth2/login",
        &format!("{creds}&csrf={}", page.csrf),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "no cookie: {}", r.text());

    let r = login(
        &node,
        &page,
        &format!("username=alice&password=wrong-password&csrf={}", page.csrf),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    assert!(r.text().contains("Wrong user name or password"));
    let r = login(
        &node,
        &page,
        &format!("username=nobody&password=wrong-password&csrf={}", page.csrf),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "unknown user, same answer"
    );

    let r = login(&node, &page, &format!("{creds}&csrf={}", page.csrf)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let location = header_of(&r, header::LOCATION);
    assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
    assert_eq!(param(&location, "state").as_deref(), Some("st-1"));
    let code = param(&location, "code").expect("code");
    let r = login(&node, &page, &format!("{creds}&csrf={}", page.csrf)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "the form is used up");

    let r = exchange(&node, &client_id, &code).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(header_of(&r, header::CACHE_CONTROL), "no-store");
    let tokens = r.json();
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    assert!(tokens["id_token"].is_string(), "openid: {tokens}");
    assert_eq!(payload(&access)["amr"], serde_json::json!(["pwd"]));

    let bearer = format!("Bearer {access}");
    let r = node
        .call_with(
            Method::GET,
            HOST,
            "/oauth2/userinfo",
            "",
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["preferred_username"], "alice");
    let r = node
        .call_with(
            Method::GET,
            HOST,
            "/oauth2/userinfo",
            "",
            &[("authorization", "Bearer nope")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(header_of(&r, header::WWW_AUTHENTICATE).starts_with("Bearer"));

    let r = exchange(&node, &client_id, &code).await;
    assert_eq!(
        r.json()["error"],
        "invalid_grant",
        "code reuse: {}",
        r.text()
    );
    let r = node
        .call_with(
            Method::GET,
            HOST,
            "/whoami",
            "",
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a reused code revokes what it issued: {}",
        r.text()
    );
    let r = post(
        &node,
        "/oauth2/token",
        &format!("grant_type=refresh_token&client_id={client_id}&refresh_token={refresh}"),
        &[],
    )
    .await;
    assert_eq!(r.json()["error"], "invalid_grant", "{}", r.text());
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_and_revocation_ends_the_family() {
    let node = node().await;
    tenant(&node, true).await;
    let client_id = browser_app(&node).await;
    user(&node, "alice").await;
    let page = authorize(&node, &client_id, "").await;
    let creds = format!(
        "username=alice&password={}&csrf={}",
        percent(PASSWORD),
        page.csrf
    );
    let r = login(&node, &page, &creds).await;
    let code = param(&header_of(&r, header::LOCATION), "code").expect("code");
    let tokens = exchange(&node, &client_id, &code).await.json();
    let first = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();

    let refresh = |token: String| {
        let node = &node;
        let client_id = client_id.clone();
        async move {
            post(
                node,
                "/oauth2/token",
                &format!("grant_type=refresh_token&client_id={client_id}&refresh_token={token}"),
                &[],
            )
            .await
        }
    };
    let r = refresh(first.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let second = r.json()["refresh_token"]
        .as_str()
        .expect("rotated")
        .to_owned();
    assert_ne!(second, first);

    let r = post(
        &node,
        "/oauth2/revoke",
        &format!("client_id={client_id}&token={second}"),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = refresh(second).await;
    assert_eq!(r.json()["error"], "invalid_grant", "revoked: {}", r.text());
    let r = post(
        &node,
        "/oauth2/revoke",
        &format!("client_id={client_id}&token=unknown"),
        &[],
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "unknown tokens are not an error (RFC 7009)"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_up_with_acr_values_and_a_totp_code_satisfies_a_step_up_route() {
    let node = node().await;
    tenant(&node, true).await;
    let client_id = browser_app(&node).await;
    let bob = user(&node, "bob").await;
    user(&node, "carol").await;
    let enrolment = service(&node)
        .enroll_totp(&acme(), &bob, "Acme")
        .await
        .expect("enrol");
    let code = totp_code_from_uri(&enrolment.otpauth_uri, now()).expect("code");
    service(&node)
        .confirm_totp(&acme(), &bob, &code, now())
        .await
        .expect("confirm");

    // The step-up loop: a password-only login (carol, no acr_values) gets
    // a token the step-up route refuses, saying what it needs (RFC 9470);
    // re-authorizing with acr_values=mfa and a TOTP code (bob, below)
    // yields a token it accepts.
    let page = authorize(&node, &client_id, "").await;
    let creds = format!(
        "username=carol&password={}&csrf={}",
        percent(PASSWORD),
        page.csrf
    );
    let r = login(&node, &page, &creds).await;
    let code = param(&header_of(&r, header::LOCATION), "code").expect("code");
    let weak = exchange(&node, &client_id, &code).await.json()["access_token"]
        .as_str()
        .expect("access")
        .to_owned();
    let weak_bearer = format!("Bearer {weak}");
    let r = node
        .call_with(
            Method::GET,
            HOST,
            "/whoami/admin",
            "",
            &[("authorization", &weak_bearer)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    assert_eq!(r.error_code(), "insufficient_user_authentication");
    let challenge = header_of(&r, header::WWW_AUTHENTICATE);
    assert!(challenge.contains("acr_values=\"mfa\""), "{challenge}");

    // A password-only user cannot meet acr_values=mfa: access_denied to the client.
    let page = authorize(&node, &client_id, "&acr_values=mfa&max_age=300").await;
    let creds = format!(
        "username=carol&password={}&csrf={}",
        percent(PASSWORD),
        page.csrf
    );
    let r = login(&node, &page, &creds).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let location = header_of(&r, header::LOCATION);
    assert_eq!(
        param(&location, "error").as_deref(),
        Some("access_denied"),
        "{location}"
    );
    assert_eq!(param(&location, "state").as_deref(), Some("st-1"));

    let page = authorize(&node, &client_id, "&acr_values=mfa&max_age=300").await;
    let creds = format!(
        "username=bob&password={}&csrf={}",
        percent(PASSWORD),
        page.csrf
    );
    let r = login(&node, &page, &creds).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        r.text().contains("name=\"code\""),
        "the code form: {}",
        r.text()
    );
    let r = login(&node, &page, &format!("code=000000&csrf={}", page.csrf)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    // The next step's code: the confirmation used this one.
    let next = totp_code_from_uri(&enrolment.otpauth_uri, now() + 30).expect("code");
    let r = login(&node, &page, &format!("code={next}&csrf={}", page.csrf)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let code = param(&header_of(&r, header::LOCATION), "code").expect("code");
    let tokens = exchange(&node, &client_id, &code).await.json();
    let claims = payload(tokens["access_token"].as_str().expect("access"));
    assert_eq!(claims["acr"], "mfa", "{claims}");
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp"]));
    let strong = format!(
        "Bearer {}",
        tokens["access_token"].as_str().expect("access")
    );
    let r = node
        .call_with(
            Method::GET,
            HOST,
            "/whoami/admin",
            "",
            &[("authorization", &strong)],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the step-up route accepts it: {}",
        r.text()
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unregistered_redirect_gets_an_error_page_never_a_redirect() {
    let node = node().await;
    tenant(&node, true).await;
    let client_id = browser_app(&node).await;
    for redirect in [
        "https://app.example/cb/more",
        "https://app.example/cb?x=1",
        "https://evil.example/cb",
    ] {
        let query = format!(
            "/oauth2/authorize?response_type=code&client_id={client_id}&redirect_uri={}&state=s&code_challenge={}&code_challenge_method=S256",
            percent(redirect),
            s256_challenge(VERIFIER)
        );
        let r = node.get(HOST, &query).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{redirect}: {}",
            r.text()
        );
        assert!(r.headers.get(header::LOCATION).is_none(), "{redirect}");
        assert_eq!(header_of(&r, header::X_FRAME_OPTIONS), "DENY");
    }
    // A registered URI with a bad request goes back to it with the error.
    let query = format!(
        "/oauth2/authorize?response_type=code&client_id={client_id}&redirect_uri={}&state=s&code_challenge=abc&code_challenge_method=plain",
        percent(REDIRECT)
    );
    let r = node.get(HOST, &query).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let location = header_of(&r, header::LOCATION);
    assert!(location.starts_with(REDIRECT), "{location}");
    assert!(param(&location, "error").is_some(), "{location}");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_removes_abandoned_login_forms_and_keeps_live_ones() {
    let node = node().await;
    tenant(&node, true).await;
    let client_id = browser_app(&node).await;
    user(&node, "alice").await;
    let warden = node.warden.as_ref().expect("running");

    let live = authorize(&node, &client_id, "").await;
    warden.sweep(now()).await;
    let creds = format!(
        "username=alice&password={}&csrf={}",
        percent(PASSWORD),
        live.csrf
    );
    let r = login(&node, &live, &creds).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "a live form survives: {}",
        r.text()
    );

    let abandoned = authorize(&node, &client_id, "").await;
    let removed = warden.sweep(now() + 601).await;
    assert!(removed >= 1, "removed {removed}");
    let creds = format!(
        "username=alice&password={}&csrf={}",
        percent(PASSWORD),
        abandoned.csrf
    );
    let r = login(&node, &abandoned, &creds).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "swept: {}", r.text());
    node.shutdown().await;
}

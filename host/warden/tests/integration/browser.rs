//! The authorization-code flow in a real headless browser: Debian's
//! chromium driven by chromedriver over W3C WebDriver (a few JSON calls,
//! spoken here over hyper rather than through a WebDriver crate). The
//! browser opens the authorize URL, fills the login page (password, then
//! a TOTP code), follows the redirect with the code, and the code is
//! exchanged for tokens. Without chromedriver the test fails and says how
//! to install it: `scripts/ensure-toolchain --browser` (which `.ci/run`
//! runs), or set `WARDEN_CHROMEDRIVER`.

use crate::common::{TestNode, component};
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use warden::api::PutFunction;
use warden_plugin_auth::Tenant;
use warden_plugin_auth::service::{
    ClientKind, GrantType, NewClient, NewUser, s256_challenge, totp_code_from_uri,
};
use warden_test_components as guests;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// A chromedriver process, killed on drop.
struct Driver {
    child: Child,
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> String {
    if let Ok(path) = std::env::var("WARDEN_CHROMEDRIVER") {
        return path;
    }
    for candidate in ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"] {
        if std::path::Path::new(candidate).exists() {
            return candidate.into();
        }
    }
    panic!(
        "chromedriver not found: run `scripts/ensure-toolchain --browser` \
         (apt-get install chromium chromium-driver) or set WARDEN_CHROMEDRIVER"
    );
}

impl Driver {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start chromedriver ({e}): run `scripts/ensure-toolchain --browser` \
                     (apt-get install chromium chromium-driver) or set WARDEN_CHROMEDRIVER"
                )
            });
        let driver = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            client: Client::builder(TokioExecutor::new()).build_http(),
        };
        for _ in 0..100 {
            if let Some(status) = driver.try_call(Method::GET, "/status", None).await
                && status["value"]["ready"] == true
            {
                return driver;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not become ready on port {port}");
    }

    async fn try_call(&self, method: Method, path: &str, body: Option<Value>) -> Option<Value> {
        let body = body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string()));
        let req = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(Full::new(body))
            .ok()?;
        let response = self.client.request(req).await.ok()?;
        let bytes = response.into_body().collect().await.ok()?.to_bytes();
        serde_json::from_slice(&bytes).ok()
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let answer = self
            .try_call(method.clone(), path, body)
            .await
            .unwrap_or_else(|| panic!("WebDriver {method} {path}: no answer"));
        if answer["value"]["error"].is_string() {
            panic!("WebDriver {method} {path}: {answer}");
        }
        answer["value"].clone()
    }
}

/// One browser session.
struct Browser<'a> {
    driver: &'a Driver,
    session: String,
}

impl<'a> Browser<'a> {
    async fn open(driver: &'a Driver, resolve: &str) -> Browser<'a> {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": std::env::var("WARDEN_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         format!("--host-resolver-rules=MAP {resolve} 127.0.0.1")],
            },
        }}});
        let value = driver.call(Method::POST, "/session", Some(caps)).await;
        Browser {
            driver,
            session: value["sessionId"].as_str().expect("session id").to_owned(),
        }
    }

    fn path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    async fn go(&self, url: &str) {
        self.driver
            .call(
                Method::POST,
                &self.path("/url"),
                Some(json!({ "url": url })),
            )
            .await;
    }

    async fn url(&self) -> String {
        let value = self
            .driver
            .call(Method::GET, &self.path("/url"), None)
            .await;
        value.as_str().expect("url").to_owned()
    }

    async fn source(&self) -> String {
        let value = self
            .driver
            .call(Method::GET, &self.path("/source"), None)
            .await;
        value.as_str().expect("source").to_owned()
    }

    /// Waits (up to 10 s) until the page's source contains `marker` (a
    /// click returns before the next page may have loaded); the source.
    async fn wait_for_source(&self, marker: &str) -> String {
        let mut source = String::new();
        for _ in 0..100 {
            source = self.source().await;
            if source.contains(marker) {
                return source;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the page never showed {marker:?}: {source}");
    }

    /// Waits (up to 10 s) until the URL starts with `prefix`; the URL.
    async fn wait_for_url(&self, prefix: &str) -> String {
        let mut url = String::new();
        for _ in 0..100 {
            url = self.url().await;
            if url.starts_with(prefix) {
                return url;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the browser never reached {prefix}: {url}");
    }

    async fn element(&self, css: &str) -> String {
        let query = json!({"using": "css selector", "value": css});
        let value = self
            .driver
            .call(Method::POST, &self.path("/element"), Some(query))
            .await;
        value[ELEMENT].as_str().expect("element id").to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.driver
            .call(
                Method::POST,
                &self.path(&format!("/element/{id}/value")),
                Some(json!({ "text": text })),
            )
            .await;
    }

    async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.driver
            .call(
                Method::POST,
                &self.path(&format!("/element/{id}/click")),
                Some(json!({})),
            )
            .await;
    }

    async fn close(self) {
        let path = self.path("");
        self.driver.call(Method::DELETE, &path, None).await;
    }
}

fn param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_code_flow_with_totp_in_a_headless_browser() {
    let driver = Driver::start().await;
    let node = TestNode::start_with_token_service().await;
    let port = node.addr.port();
    node.put_issuing_tenant("acme", "http://acme.localhost/", "acme-api", true)
        .await;
    let function = PutFunction {
        routes: vec!["/whoami".into()],
        ..PutFunction::default()
    };
    node.deploy_spec("acme", "probe", &function, &component(guests::AUTH_PROBE))
        .await;

    let tenant = Tenant::new("acme").expect("tenant");
    let service = node.warden.as_ref().expect("running").token_service();
    let now = warden_plugin_auth::unix_now;
    // The browser lands back on the node itself (an unknown host there:
    // a 404 page whose URL carries the code).
    let redirect = format!("http://127.0.0.1:{port}/cb");
    let (client, _) = service
        .register_client(
            &tenant,
            NewClient {
                name: "Acme web".into(),
                kind: ClientKind::Public,
                redirect_uris: vec![redirect.clone()],
                grant_types: vec![GrantType::AuthorizationCode],
                scopes: vec!["openid".into()],
            },
            now(),
        )
        .await
        .expect("client");
    let user = service
        .create_user(
            &tenant,
            NewUser {
                username: "bob".into(),
                password: "correct horse battery".into(),
            },
            now(),
        )
        .await
        .expect("user");
    let enrolment = service
        .enroll_totp(&tenant, &user.user_id, "Acme")
        .await
        .expect("enrol");
    let first = totp_code_from_uri(&enrolment.otpauth_uri, now()).expect("code");
    service
        .confirm_totp(&tenant, &user.user_id, &first, now())
        .await
        .expect("confirm");

    let browser = Browser::open(&driver, "acme.localhost").await;
    let authorize = format!(
        "http://acme.localhost:{port}/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid&state=browser-1&code_challenge={}&code_challenge_method=S256&acr_values=mfa&max_age=300",
        client.client_id,
        form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>(),
        s256_challenge(VERIFIER),
    );
    browser.go(&authorize).await;
    browser.wait_for_source("Acme web").await;
    browser.type_into("#username", "bob").await;
    browser
        .type_into("#password", "correct horse battery")
        .await;
    browser.click("#submit").await;
    browser.wait_for_source("name=\"code\"").await;
    let next = totp_code_from_uri(&enrolment.otpauth_uri, now() + 30).expect("code");
    browser.type_into("#code", &next).await;
    browser.click("#submit").await;
    let landed = browser.wait_for_url(&redirect).await;
    browser.close().await;
    assert_eq!(param(&landed, "state").as_deref(), Some("browser-1"));
    let code = param(&landed, "code").expect("code in the redirect");

    let form = format!(
        "grant_type=authorization_code&client_id={}&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        client.client_id,
        form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>()
    );
    let r = node
        .call_with(
            Method::POST,
            "acme.localhost",
            "/oauth2/token",
            form,
            &[("content-type", "application/x-www-form-urlencoded")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let access = r.json()["access_token"].as_str().expect("token").to_owned();
    let r = node
        .call_with(
            Method::GET,
            "acme.localhost",
            "/whoami",
            "",
            &[("authorization", &format!("Bearer {access}"))],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the gateway accepts it: {}",
        r.text()
    );
    node.shutdown().await;
}

//! Test harness: a real Warden node on 127.0.0.1:0 with a temp data dir,
//! and a tiny HTTP client that talks to it over real sockets.

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::net::SocketAddr;
use std::path::PathBuf;
use warden::api::{AdminClient, PutFunction, PutTenant};
use warden::config::HostConfig;
use warden::server::Warden;

/// A response as the tests see it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    /// The `error.code` of a Warden error body.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error.code in {}", self.text()))
            .to_string()
    }
}

/// A running node plus what tests need to drive it.
pub struct TestNode {
    pub warden: Option<Warden>,
    pub data_dir: tempfile::TempDir,
    pub addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub token: String,
    pub client: Client<HttpConnector, Full<Bytes>>,
}

pub fn config(data_dir: PathBuf) -> HostConfig {
    let mut config = HostConfig {
        data_dir,
        listen: "127.0.0.1:0".parse().expect("addr"),
        admin_listen: "127.0.0.1:0".parse().expect("addr"),
        shutdown_grace_ms: 2_000,
        // Access lines would flood the test output; tests/cli.rs checks them
        // on the real binary.
        access_log: false,
        ..HostConfig::default()
    };
    config.pool.instances = 64;
    config.pool.max_inflight = 48;
    // Admission by memory caps is tested on its own (hardening.rs); the
    // other tests run up to 100 requests at the default 128 MiB cap.
    config.pool.memory_budget_mb = 64 << 10;
    config
}

impl TestNode {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut HostConfig)) -> Self {
        let data_dir = tempfile::tempdir().expect("tempdir");
        let mut config = config(data_dir.path().to_path_buf());
        tweak(&mut config);
        Self::start_in(data_dir, config).await
    }

    pub async fn start_in(data_dir: tempfile::TempDir, config: HostConfig) -> Self {
        let warden = Warden::start(config).await.expect("warden starts");
        Self {
            addr: warden.addr,
            admin_addr: warden.admin_addr,
            token: warden.admin_token().to_string(),
            warden: Some(warden),
            data_dir,
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Stops the node and starts a new one on the same data dir.
    pub async fn restart(mut self) -> Self {
        if let Some(w) = self.warden.take() {
            w.shutdown().await;
        }
        let config = config(self.data_dir.path().to_path_buf());
        Self::start_in(self.data_dir, config).await
    }

    pub async fn shutdown(mut self) {
        if let Some(w) = self.warden.take() {
            w.shutdown().await;
        }
    }

    /// A request to the gateway with `Host: host`.
    pub async fn call(
        &self,
        method: Method,
        host: &str,
        path: &str,
        body: impl Into<Bytes>,
    ) -> Reply {
        self.call_with(method, host, path, body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: Method,
        host: &str,
        path: &str,
        body: impl Into<Bytes>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr))
            .header(header::HOST, host);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        send(
            &self.client,
            req.body(Full::new(body.into())).expect("request"),
        )
        .await
    }

    pub async fn get(&self, host: &str, path: &str) -> Reply {
        self.call(Method::GET, host, path, Bytes::new()).await
    }

    /// An admin API request with the node's token.
    pub async fn admin(&self, method: Method, path: &str, body: impl Into<Bytes>) -> Reply {
        self.admin_with_token(method, path, body, Some(&self.token))
            .await
    }

    pub async fn admin_with_token(
        &self,
        method: Method,
        path: &str,
        body: impl Into<Bytes>,
        token: Option<&str>,
    ) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.admin_addr));
        if let Some(token) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        send(
            &self.client,
            req.body(Full::new(body.into())).expect("request"),
        )
        .await
    }

    /// Creates the tenant (if needed) and function, uploads and activates
    /// `component`; returns its digest.
    pub async fn deploy(
        &self,
        tenant: &str,
        function: &str,
        routes: &[&str],
        component: &[u8],
    ) -> String {
        self.deploy_with_limits(tenant, function, routes, component, serde_json::json!({}))
            .await
    }

    pub async fn deploy_with_limits(
        &self,
        tenant: &str,
        function: &str,
        routes: &[&str],
        component: &[u8],
        limits: serde_json::Value,
    ) -> String {
        let api = self.api();
        // Create the tenant only if missing: a PUT would reset its tier.
        if let Err(e) = api.tenant(tenant).await {
            assert_eq!(e.code(), Some("not_found"), "tenant: {e}");
            api.put_tenant(tenant, &PutTenant::default())
                .await
                .unwrap_or_else(|e| panic!("tenant: {e}"));
        }
        let spec = PutFunction {
            routes: routes.iter().map(|r| r.to_string()).collect(),
            limits: serde_json::from_value(limits).expect("limits"),
            ..PutFunction::default()
        };
        api.put_function(tenant, function, &spec)
            .await
            .unwrap_or_else(|e| panic!("function: {e}"));
        let uploaded = api
            .upload(tenant, function, Bytes::copy_from_slice(component))
            .await
            .unwrap_or_else(|e| panic!("upload: {e}"));
        let digest = uploaded.version.digest;
        api.activate(tenant, function, &digest)
            .await
            .unwrap_or_else(|e| panic!("activate: {e}"));
        digest
    }

    /// The admin API's client, as the CLI and the bench use it.
    /// A node whose token service hashes with a cheap argon2 cost (the
    /// default is OWASP's and takes seconds in a debug build).
    pub async fn start_with_token_service() -> Self {
        Self::start_with(|c| {
            let mut auth = warden_plugin_auth::Config::embedded(&c.data_dir);
            auth.service.hash_cost = warden_plugin_auth::service::HashCost {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            };
            c.auth = Some(auth);
        })
        .await
    }

    /// Tenant `tenant` issuing its own tokens: `issuer`, one `audience`,
    /// the token service on or off, and an active signing key.
    pub async fn put_issuing_tenant(
        &self,
        tenant: &str,
        issuer: &str,
        audience: &str,
        token_service: bool,
    ) {
        let api = self.api();
        let spec = PutTenant {
            auth: Some(warden::api::TenantAuthConfig {
                issuer: Some(issuer.into()),
                audiences: vec![audience.into()],
                token_service,
                ..warden::api::TenantAuthConfig::default()
            }),
            ..PutTenant::default()
        };
        api.put_tenant(tenant, &spec).await.expect("tenant");
        api.create_key(tenant, &warden::api::NewKeyRequest::default())
            .await
            .expect("key");
    }

    /// Puts function `name` of `tenant` as `spec`, uploads `component` and
    /// activates it.
    pub async fn deploy_spec(
        &self,
        tenant: &str,
        name: &str,
        spec: &PutFunction,
        component: &[u8],
    ) {
        let api = self.api();
        api.put_function(tenant, name, spec)
            .await
            .expect("function");
        let uploaded = api
            .upload(tenant, name, Bytes::copy_from_slice(component))
            .await
            .expect("upload");
        api.activate(tenant, name, &uploaded.version.digest)
            .await
            .expect("activate");
    }

    pub fn api(&self) -> AdminClient {
        AdminClient::new(&format!("http://{}", self.admin_addr), &self.token)
    }

    /// Like [`Self::metric`], but 0 for a series not exported yet.
    pub async fn metric_or_zero(&self, prefix: &str) -> f64 {
        let r = self.admin(Method::GET, "/metrics", Bytes::new()).await;
        r.text()
            .lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }

    /// A metric's value from `/metrics` (first sample whose line starts with `prefix`).
    pub async fn metric(&self, prefix: &str) -> f64 {
        let r = self.admin(Method::GET, "/metrics", Bytes::new()).await;
        r.text()
            .lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("metric {prefix} not found in:\n{}", r.text()))
    }
}

pub async fn send(client: &Client<HttpConnector, Full<Bytes>>, req: Request<Full<Bytes>>) -> Reply {
    let response = client.request(req).await.expect("request sent");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Reply {
        status,
        headers,
        body,
    }
}

/// Reads a test component built by warden-test-components.
pub fn component(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

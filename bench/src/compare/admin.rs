//! Deploying through Warden's admin API directly (no `warden deploy`
//! process per tenant), a few requests at a time, so that thousands of
//! tenants deploy in minutes.
//!
//! A deploy of one function is four requests: `PUT /v1/tenants/{t}`,
//! `PUT /v1/tenants/{t}/functions/{f}` (routes and limits), `POST
//! .../versions` (the component bytes; the node validates and compiles
//! them), and `POST .../activate` with the digest the upload answered.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::task::JoinSet;

/// How long one admin request may take (an upload compiles the component).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// One function to deploy for one tenant.
#[derive(Debug, Clone)]
pub struct FunctionDeploy {
    /// Tenant name (created if missing, default tier).
    pub tenant: String,
    /// Function name.
    pub function: String,
    /// Routes, e.g. `["/hello"]`.
    pub routes: Vec<String>,
    /// The function's limits as the admin API takes them
    /// (`{"memory_mb": 64, ...}`; `{}` for the host defaults).
    pub limits: Value,
    /// The component.
    pub component: Bytes,
}

/// A client of one node's admin API.
#[derive(Clone)]
pub struct AdminApi {
    base: String,
    token: String,
    http: Client<HttpConnector, Full<Bytes>>,
}

impl AdminApi {
    /// A client for the admin API at `addr` with `token`. It keeps
    /// connections alive; it must be used from within a tokio runtime.
    pub fn new(addr: SocketAddr, token: &str) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Self {
            base: format!("http://{addr}"),
            token: token.to_owned(),
            http: Client::builder(TokioExecutor::new()).build(connector),
        }
    }

    /// Sends one request; fails on a transport error or a non-2xx answer
    /// (quoting the body); returns the JSON answer (`null` if empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Bytes,
    ) -> Result<Value> {
        let req = Request::builder()
            .method(method.clone())
            .uri(format!("{}{path}", self.base))
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .header(CONTENT_TYPE, content_type)
            .body(Full::new(body))
            .context("building an admin request")?;
        let exchange = async {
            let resp = self.http.request(req).await?;
            let status = resp.status();
            let body = resp.into_body().collect().await?.to_bytes();
            anyhow::Ok((status, body))
        };
        let (status, body) = tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .map_err(|_| anyhow!("{method} {path}: no answer within {REQUEST_TIMEOUT:?}"))?
            .with_context(|| format!("{method} {path}"))?;
        if !status.is_success() {
            bail!(
                "{method} {path} answered {status}: {}",
                String::from_utf8_lossy(&body).trim()
            );
        }
        if body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&body).with_context(|| format!("{method} {path}: invalid JSON"))
    }

    async fn call_json(&self, method: Method, path: &str, body: &Value) -> Result<Value> {
        let bytes = Bytes::from(serde_json::to_vec(body)?);
        self.call(method, path, "application/json", bytes).await
    }

    /// Creates or updates the tenant, then the function, uploads the
    /// component and activates it.
    pub async fn deploy(&self, d: &FunctionDeploy) -> Result<()> {
        let tenant = format!("/v1/tenants/{}", d.tenant);
        self.call_json(
            Method::PUT,
            &tenant,
            &json!({"hosts": [], "tier": "default"}),
        )
        .await?;
        let function = format!("{tenant}/functions/{}", d.function);
        self.call_json(
            Method::PUT,
            &function,
            &json!({"routes": d.routes, "limits": d.limits}),
        )
        .await?;
        let uploaded = self
            .call(
                Method::POST,
                &format!("{function}/versions"),
                "application/wasm",
                d.component.clone(),
            )
            .await?;
        let digest = uploaded
            .get("digest")
            .and_then(Value::as_str)
            .with_context(|| format!("the upload to {function} answered no digest: {uploaded}"))?
            .to_owned();
        self.call_json(
            Method::POST,
            &format!("{function}/activate"),
            &json!({ "digest": digest }),
        )
        .await?;
        Ok(())
    }
}

/// Deploys `count` functions, `make(i)` giving the `i`-th (built when its
/// turn comes, so 10,000 variants never sit in memory together), with
/// `parallel` deploys in flight. Stops at the first failure. Prints
/// progress every `progress_every` deploys. Returns the total time.
pub async fn deploy_many<F>(
    api: &AdminApi,
    count: usize,
    parallel: usize,
    progress_every: usize,
    make: F,
) -> Result<Duration>
where
    F: Fn(usize) -> Result<FunctionDeploy> + Send + Sync + 'static,
{
    let started = Instant::now();
    let make = Arc::new(make);
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for _ in 0..parallel.clamp(1, count.max(1)) {
        let progress = Progress {
            count,
            every: progress_every,
            started,
            next: Arc::clone(&next),
            done: Arc::clone(&done),
        };
        set.spawn(deploy_worker(api.clone(), Arc::clone(&make), progress));
    }
    while let Some(joined) = set.join_next().await {
        if let Err(e) = joined.map_err(|e| anyhow!("a deploy task failed: {e}"))? {
            // Stop the others before returning.
            next.store(count, Ordering::Relaxed);
            set.abort_all();
            return Err(e);
        }
    }
    Ok(started.elapsed())
}

/// What the deploy workers share.
struct Progress {
    count: usize,
    every: usize,
    started: Instant,
    next: Arc<AtomicUsize>,
    done: Arc<AtomicUsize>,
}

/// Takes the next index until none is left.
async fn deploy_worker<F>(api: AdminApi, make: Arc<F>, p: Progress) -> Result<()>
where
    F: Fn(usize) -> Result<FunctionDeploy> + Send + Sync + 'static,
{
    loop {
        let i = p.next.fetch_add(1, Ordering::Relaxed);
        if i >= p.count {
            return Ok(());
        }
        let d = make(i)?;
        api.deploy(&d)
            .await
            .with_context(|| format!("deploying {}/{}", d.tenant, d.function))?;
        let n = p.done.fetch_add(1, Ordering::Relaxed) + 1;
        if p.every > 0 && n.is_multiple_of(p.every) {
            let secs = p.started.elapsed().as_secs_f64();
            eprintln!(
                "  deployed {n}/{} in {secs:.1} s ({:.1}/s)",
                p.count,
                n as f64 / secs.max(1e-9)
            );
        }
    }
}

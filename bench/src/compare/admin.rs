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

use anyhow::{Context, Result, anyhow};
use bytes::Bytes;
use tokio::task::JoinSet;
use warden_api::{AdminClient, FunctionLimits, PutFunction, PutTenant};

/// One function to deploy for one tenant.
#[derive(Debug, Clone)]
pub struct FunctionDeploy {
    /// Tenant name (created if missing, default tier).
    pub tenant: String,
    /// Function name.
    pub function: String,
    /// Routes, e.g. `["/hello"]`.
    pub routes: Vec<String>,
    /// The function's limits (default: the host's).
    pub limits: FunctionLimits,
    /// The component.
    pub component: Bytes,
}

/// Deploys one function through the admin client: creates or updates the
/// tenant, then the function, uploads the component and activates it.
pub async fn deploy(api: &AdminClient, d: &FunctionDeploy) -> Result<()> {
    let tenant = PutTenant {
        hosts: Vec::new(),
        tier: Some("default".into()),
        ..PutTenant::default()
    };
    api.put_tenant(&d.tenant, &tenant).await?;
    let function = PutFunction {
        routes: d.routes.clone(),
        limits: d.limits,
        ..PutFunction::default()
    };
    api.put_function(&d.tenant, &d.function, &function).await?;
    let uploaded = api
        .upload(&d.tenant, &d.function, d.component.clone())
        .await?;
    api.activate(&d.tenant, &d.function, &uploaded.version.digest)
        .await?;
    Ok(())
}

/// A client of the node's admin API at `addr`.
pub fn client(addr: SocketAddr, token: &str) -> AdminClient {
    AdminClient::new(&format!("http://{addr}"), token)
}

/// Deploys `count` functions, `make(i)` giving the `i`-th (built when its
/// turn comes, so 10,000 variants never sit in memory together), with
/// `parallel` deploys in flight. Stops at the first failure. Prints
/// progress every `progress_every` deploys. Returns the total time.
pub async fn deploy_many<F>(
    api: &AdminClient,
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
async fn deploy_worker<F>(api: AdminClient, make: Arc<F>, p: Progress) -> Result<()>
where
    F: Fn(usize) -> Result<FunctionDeploy> + Send + Sync + 'static,
{
    loop {
        let i = p.next.fetch_add(1, Ordering::Relaxed);
        if i >= p.count {
            return Ok(());
        }
        let d = make(i)?;
        deploy(&api, &d)
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

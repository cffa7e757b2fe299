//! Assembles a node: data dir, registry, runtime, gateway and admin API,
//! and the route reloads that tie them together.
//!
//! [`Warden::start`] is what `warden serve` runs and what integration tests
//! call; it binds both listeners first (so `:0` works), then compiles the
//! active versions and only then reports ready.

use crate::config::HostConfig;
use crate::gateway::{Gateway, RouteTable, RouteTarget, TenantPolicy};
use crate::metrics::Metrics;
use crate::registry::{BlobStore, Registry, RegistryError};
use crate::runtime::{Capabilities, Runtime};
use anyhow::Context as _;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use warden_plugin_core::Tenant;

/// The node's shared state, used by the admin API.
pub struct Node {
    config: HostConfig,
    registry: Arc<Registry>,
    blobs: BlobStore,
    runtime: Arc<Runtime>,
    gateway: Arc<Gateway>,
    metrics: Arc<Metrics>,
    caps: Arc<Capabilities>,
    admin_token: String,
    ready: AtomicBool,
    reload: tokio::sync::Mutex<()>,
    /// Each tenant's concurrency slots, kept across route reloads so a
    /// reload never resets how many requests are in flight.
    tenant_slots: std::sync::Mutex<HashMap<String, (usize, Arc<Semaphore>)>>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node").finish_non_exhaustive()
    }
}

impl Node {
    /// The host configuration.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }
    /// The registry (blocking: use from `spawn_blocking`).
    pub fn registry(&self) -> Arc<Registry> {
        self.registry.clone()
    }
    /// Component bytes by digest.
    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }
    /// The wasm runtime.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }
    /// The capability backends.
    pub fn capabilities(&self) -> &Arc<Capabilities> {
        &self.caps
    }
    /// The admin bearer token.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }
    /// Whether the registry is loaded and active versions are compiled.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Metrics in the Prometheus text format, with USE gauges refreshed.
    pub fn encode_metrics(&self) -> String {
        let m = &self.metrics;
        m.pool_in_use
            .set(i64::try_from(self.runtime.pool_instances_in_use()).unwrap_or(i64::MAX));
        m.compilations
            .set(i64::try_from(self.runtime.artifacts().compilations()).unwrap_or(i64::MAX));
        m.artifact_cache_hits
            .set(i64::try_from(self.runtime.artifacts().cache_hits()).unwrap_or(i64::MAX));
        m.encode()
    }

    /// Rebuilds the gateway's route table from the registry. Active versions
    /// are prepared here (compiled or loaded from the artifact cache), never
    /// on the request path. A version that cannot be prepared leaves its
    /// function unserved (503) and is logged; the others keep serving.
    pub async fn reload_routes(&self) -> Result<(), RegistryError> {
        let _serialized = self.reload.lock().await;
        let registry = self.registry.clone();
        let snapshot = tokio::task::spawn_blocking(move || registry.snapshot())
            .await
            .map_err(|e| RegistryError::Storage(format!("registry worker failed: {e}")))??;
        let mut table = RouteTable::new(&self.config.base_domain);
        let mut policies = HashMap::new();
        for tenant in &snapshot.tenants {
            table.add_tenant(&tenant.name, &tenant.hosts);
            let (tier_name, tier) = match self.config.tier(tenant.tier.as_deref()) {
                Some(tier) => (
                    tenant
                        .tier
                        .as_deref()
                        .unwrap_or(crate::config::DEFAULT_TIER),
                    tier,
                ),
                None => {
                    tracing::error!(tenant = %tenant.name, tier = ?tenant.tier, "unknown tier; using the default tier");
                    let default = crate::config::DEFAULT_TIER;
                    let Some(tier) = self.config.tier(Some(default)) else {
                        continue;
                    };
                    (default, tier)
                }
            };
            let slots = self.tenant_slots(&tenant.name, tier.max_concurrent);
            policies.insert(
                tenant.name.clone(),
                (
                    Arc::new(TenantPolicy::new(tier_name, tier, slots)),
                    tier.clone(),
                ),
            );
        }
        for function in &snapshot.functions {
            let Some((policy, tier)) = policies.get(&function.tenant) else {
                continue;
            };
            let Ok(tenant_id) = Tenant::new(&function.tenant) else {
                tracing::error!(tenant = %function.tenant, "invalid tenant name in the registry");
                continue;
            };
            let prepared = match &function.active {
                Some(digest) => {
                    let blobs = self.blobs.clone();
                    let d = digest.clone();
                    match self.runtime.prepare(digest, move || blobs.get(&d)).await {
                        Ok(prepared) => Some(prepared),
                        Err(e) => {
                            tracing::error!(tenant = %function.tenant, function = %function.name, digest, error = %e, "cannot prepare active version");
                            None
                        }
                    }
                }
                None => None,
            };
            let target = RouteTarget {
                tenant: tenant_id,
                policy: policy.clone(),
                function: function.name.clone(),
                prepared,
                limits: self.config.effective_limits(&function.limits, tier),
                metrics: self.metrics.route(&function.tenant, &function.name),
            };
            table.add_function(&function.routes, Arc::new(target));
        }
        self.gateway.set_routes(table);
        Ok(())
    }

    fn tenant_slots(&self, tenant: &str, max: usize) -> Arc<Semaphore> {
        let Ok(mut slots) = self.tenant_slots.lock() else {
            return Arc::new(Semaphore::new(max));
        };
        match slots.get(tenant) {
            Some((size, semaphore)) if *size == max => semaphore.clone(),
            _ => {
                let semaphore = Arc::new(Semaphore::new(max));
                slots.insert(tenant.to_string(), (max, semaphore.clone()));
                semaphore
            }
        }
    }
}

/// A running node.
pub struct Warden {
    /// Where the gateway listens.
    pub addr: SocketAddr,
    /// Where the admin API listens.
    pub admin_addr: SocketAddr,
    /// The node's state.
    pub node: Arc<Node>,
    /// True if the admin token was generated by this start.
    pub token_created: bool,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    access_log_writer: Option<crate::telemetry::AccessLogWriter>,
}

impl std::fmt::Debug for Warden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Warden")
            .field("addr", &self.addr)
            .field("admin_addr", &self.admin_addr)
            .finish_non_exhaustive()
    }
}

impl Warden {
    /// Starts a node: binds both listeners, serves, then loads the routes.
    pub async fn start(config: HostConfig) -> anyhow::Result<Self> {
        config.validate()?;
        let data_dir = config.data_dir.clone();
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("creating data dir {}", data_dir.display()))?;
        let registry_path = data_dir.join("registry.redb");
        let registry = tokio::task::spawn_blocking(move || Registry::open(&registry_path))
            .await?
            .context("opening the registry")?;
        let blobs = BlobStore::open(data_dir.join("components"))?;
        let runtime = Arc::new(Runtime::new(&config.pool, &data_dir.join("artifacts"))?);
        let metrics = Arc::new(Metrics::new());
        let caps = Arc::new(Capabilities::build(&config).await?);
        let (access_log, access_log_writer) = if config.access_log {
            let (log, writer) = crate::telemetry::AccessLog::stdout()?;
            (log, Some(writer))
        } else {
            (crate::telemetry::AccessLog::disabled(), None)
        };
        let gateway = Arc::new(Gateway::new(
            runtime.clone(),
            caps.clone(),
            metrics.clone(),
            &config.base_domain,
            config.pool.max_inflight,
            config.guest_log_bytes,
            access_log,
        ));
        let (admin_token, token_created) = crate::admin::token::load_or_create(&data_dir)?;

        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding the gateway to {}", config.listen))?;
        let admin_listener = TcpListener::bind(config.admin_listen)
            .await
            .with_context(|| format!("binding the admin API to {}", config.admin_listen))?;
        let addr = listener.local_addr()?;
        let admin_addr = admin_listener.local_addr()?;
        let grace = Duration::from_millis(config.shutdown_grace_ms);

        let node = Arc::new(Node {
            config,
            registry: Arc::new(registry),
            blobs,
            runtime,
            gateway: gateway.clone(),
            metrics,
            caps,
            admin_token,
            ready: AtomicBool::new(false),
            reload: tokio::sync::Mutex::new(()),
            tenant_slots: std::sync::Mutex::new(HashMap::new()),
        });

        let (shutdown, _) = watch::channel(false);
        let mut tasks = Vec::new();
        let mut stop = shutdown.subscribe();
        let admin = crate::admin::router(node.clone());
        tasks.push(tokio::spawn(async move {
            let serve = axum::serve(admin_listener, admin).with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "admin listener failed");
            }
        }));

        // Routes (and the compiled versions behind them) first, then accept:
        // until then connections wait in the listen backlog instead of
        // getting 404s from an empty route table.
        node.reload_routes().await.context("loading routes")?;
        let mut stop = shutdown.subscribe();
        tasks.push(tokio::spawn(crate::gateway::serve(
            listener,
            gateway,
            async move {
                let _ = stop.wait_for(|s| *s).await;
            },
            grace,
        )));
        node.ready.store(true, Ordering::Release);
        tracing::info!(%addr, %admin_addr, "warden ready");
        Ok(Self {
            addr,
            admin_addr,
            node,
            token_created,
            shutdown,
            tasks,
            access_log_writer,
        })
    }

    /// Stops accepting and waits for in-flight requests (up to the grace).
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        if let Some(writer) = self.access_log_writer {
            writer.finish().await;
        }
    }
}

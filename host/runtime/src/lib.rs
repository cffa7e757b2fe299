//! The sandbox: one engine per process, components compiled once (and cached
//! on disk), a fresh store and instance per request.
//!
//! [`Runtime::prepare`] is the only place that compiles, and it is never on
//! the request path: uploads and activation call it, the gateway's route
//! table holds the resulting [`Prepared`] handles, and [`Runtime::invoke`]
//! only instantiates.

mod artifacts;
pub mod bindings;
mod config;
mod engine;
mod executor;
mod guest_log;
mod invoke;
mod limits;
mod linker;
mod state;
mod validate;

pub use artifacts::ArtifactCache;
pub use bindings::Capabilities;
pub use bindings::auth::Principal;
pub use config::{EffectiveLimits, PoolConfig};
pub use executor::{GUEST_THREAD_NAME, GuestExecutor};
pub use guest_log::GuestLog;
pub use invoke::InvokeError;
pub use limits::{CpuBudgetExceeded, DeadlineExceeded, MemoryLimitExceeded};
pub use state::{RequestContext, RequestState};
pub use validate::{ValidationError, check_encoding};

use bytes::Bytes;
use http_body::Body;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::OnceCell;
use wasmtime::Engine;
use wasmtime::component::Linker;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// A component compiled, checked against the world and pre-instantiated:
/// everything a request needs except its own store.
pub struct Prepared {
    /// sha256 of the component.
    pub digest: String,
    pre: ProxyPre<RequestState>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("digest", &self.digest)
            .finish()
    }
}

/// Why a component could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The component is not acceptable (bad bytes, wrong world, ...).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The host failed (I/O, a worker thread died).
    #[error("{0}")]
    Host(String),
}

/// One digest's compilation, shared by concurrent `prepare` calls. It holds
/// the result weakly: the route table (and in-flight requests) own prepared
/// components, so a version that no route references is dropped, with its
/// compiled code and its pool slots' warm state.
type Slot = Arc<OnceCell<Weak<Prepared>>>;

/// The wasm runtime of the node.
pub struct Runtime {
    engine: Engine,
    linker: Linker<RequestState>,
    artifacts: ArtifactCache,
    prepared: Mutex<HashMap<String, Slot>>,
    tick_ms: u64,
    compile_timeout: Duration,
    executor: GuestExecutor,
    _ticker: engine::EpochTicker,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

impl Runtime {
    /// Builds the engine, the linker and the artifact cache in `artifact_dir`.
    pub fn new(pool: &PoolConfig, artifact_dir: &Path) -> anyhow::Result<Self> {
        let engine = engine::build_engine(pool)?;
        let linker = linker::build_linker(&engine).map_err(anyhow::Error::from)?;
        let artifacts = ArtifactCache::open(artifact_dir, &engine)?;
        let ticker =
            engine::EpochTicker::start(engine.clone(), Duration::from_millis(pool.epoch_tick_ms))?;
        Ok(Self {
            engine,
            linker,
            artifacts,
            prepared: Mutex::new(HashMap::new()),
            tick_ms: pool.epoch_tick_ms,
            compile_timeout: Duration::from_millis(pool.compile_timeout_ms),
            executor: GuestExecutor::start(pool.guest_threads, pool.guest_nice)?,
            _ticker: ticker,
        })
    }

    /// The process's engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The on-disk artifact cache (its counters prove what was compiled).
    pub fn artifacts(&self) -> &ArtifactCache {
        &self.artifacts
    }

    /// Compiles (or loads from the artifact cache), validates and
    /// pre-instantiates the component `digest`. Concurrent calls for the same
    /// digest share one compilation. `bytes` is only called on a cache miss.
    pub async fn prepare(
        self: &Arc<Self>,
        digest: &str,
        bytes: impl FnOnce() -> anyhow::Result<Vec<u8>> + Send + 'static,
    ) -> Result<Arc<Prepared>, PrepareError> {
        let mut bytes = Some(bytes);
        loop {
            let slot = self.slot(digest)?;
            let mut fresh = None;
            let result = slot
                .get_or_try_init(|| async {
                    let this = self.clone();
                    let digest_owned = digest.to_string();
                    let load = bytes.take();
                    let abandoned = Arc::new(AtomicBool::new(false));
                    let flag = abandoned.clone();
                    let worker = tokio::task::spawn_blocking(move || {
                        let load = load.ok_or_else(|| {
                            PrepareError::Host("component bytes already consumed".into())
                        })?;
                        this.prepare_blocking(&digest_owned, load, &flag)
                    });
                    // A compile cannot be interrupted: past the cap its result
                    // is refused and never cached (the worker sees the flag).
                    let prepared = match tokio::time::timeout(self.compile_timeout, worker).await {
                        Ok(joined) => joined.map_err(|e| {
                            PrepareError::Host(format!("compile worker failed: {e}"))
                        })??,
                        Err(_) => {
                            abandoned.store(true, Ordering::Release);
                            return Err(PrepareError::Invalid(ValidationError::CompileTimeout(
                                u64::try_from(self.compile_timeout.as_millis()).unwrap_or(u64::MAX),
                            )));
                        }
                    };
                    let weak = Arc::downgrade(&prepared);
                    fresh = Some(prepared);
                    Ok(weak)
                })
                .await
                .map(Weak::upgrade);
            match (fresh, result) {
                (Some(prepared), _) => return Ok(prepared),
                (None, Ok(Some(prepared))) => return Ok(prepared),
                (None, Ok(None)) => {
                    // Dropped since it was prepared: forget it and prepare
                    // again (from the artifact cache, normally).
                    self.forget_dead(digest, &slot);
                    if bytes.is_none() {
                        return Err(PrepareError::Host(
                            "component dropped while being prepared".into(),
                        ));
                    }
                }
                (None, Err(e)) => {
                    // Do not pin a failure: a later attempt (e.g. after a
                    // fix) retries.
                    self.forget_dead(digest, &slot);
                    return Err(e);
                }
            }
        }
    }

    /// The compilation slot of `digest`, sweeping slots whose component is
    /// gone when a new one is added.
    fn slot(&self, digest: &str) -> Result<Slot, PrepareError> {
        let mut map = self
            .prepared
            .lock()
            .map_err(|_| PrepareError::Host("prepared map poisoned".into()))?;
        if let Some(slot) = map.get(digest) {
            return Ok(slot.clone());
        }
        map.retain(|_, slot| !is_dead(slot));
        let slot = Slot::default();
        map.insert(digest.to_string(), slot.clone());
        Ok(slot)
    }

    fn forget_dead(&self, digest: &str, slot: &Slot) {
        if let Ok(mut map) = self.prepared.lock()
            && map.get(digest).is_some_and(|s| Arc::ptr_eq(s, slot))
        {
            map.remove(digest);
        }
    }

    /// Prepared components alive now (referenced by a route or a request).
    pub fn prepared_count(&self) -> usize {
        self.prepared
            .lock()
            .map(|map| map.values().filter(|slot| !is_dead(slot)).count())
            .unwrap_or(0)
    }

    fn prepare_blocking(
        &self,
        digest: &str,
        bytes: impl FnOnce() -> anyhow::Result<Vec<u8>>,
        abandoned: &AtomicBool,
    ) -> Result<Arc<Prepared>, PrepareError> {
        let refusal = std::cell::RefCell::new(None);
        let refuse = |e: ValidationError| {
            *refusal.borrow_mut() = Some(e.clone());
            anyhow::Error::from(e)
        };
        let invalid = |e: &dyn std::fmt::Display| ValidationError::Invalid(format!("{e:#}"));
        let pre = self
            .artifacts
            .load_or_compile(
                digest,
                || {
                    let bytes = bytes()?;
                    check_encoding(&bytes).map_err(refuse)?;
                    Ok(bytes)
                },
                // Checked before a fresh artifact is cached, so a refused
                // upload leaves nothing on disk; and on a loaded one.
                |component| {
                    validate::check_world(&self.engine, component).map_err(refuse)?;
                    let instance_pre = self
                        .linker
                        .instantiate_pre(component)
                        .map_err(|e| refuse(invalid(&e)))?;
                    ProxyPre::new(instance_pre).map_err(|e| refuse(invalid(&e)))
                },
                abandoned,
            )
            .map_err(|e| match refusal.borrow_mut().take() {
                Some(v) => PrepareError::Invalid(v),
                None if e.downcast_ref::<std::io::Error>().is_some() => {
                    PrepareError::Host(format!("{e:#}"))
                }
                None => PrepareError::Invalid(invalid(&e)),
            })?;
        Ok(Arc::new(Prepared {
            digest: digest.to_string(),
            pre,
        }))
    }

    /// Serves one request with a fresh instance of `prepared`.
    pub async fn invoke<B>(
        &self,
        prepared: &Arc<Prepared>,
        req: hyper::Request<B>,
        limits: &EffectiveLimits,
        ctx: RequestContext,
        log: &GuestLog,
    ) -> Result<hyper::Response<HyperOutgoingBody>, InvokeError>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let sandbox = invoke::Sandbox {
            engine: &self.engine,
            executor: &self.executor,
            tick_ms: self.tick_ms,
        };
        invoke::invoke(sandbox, prepared, req, limits, ctx, log).await
    }

    /// Threads that run guests (apart from the gateway's workers).
    pub fn guest_threads(&self) -> usize {
        self.executor.threads()
    }

    /// Live pooled component instances, for the USE metrics.
    pub fn pool_instances_in_use(&self) -> u64 {
        self.engine
            .pooling_allocator_metrics()
            .map(|m| m.component_instances())
            .unwrap_or(0)
    }
}

/// A slot whose compilation finished and whose component has been dropped.
/// A slot still compiling is not dead.
fn is_dead(slot: &Slot) -> bool {
    slot.get().is_some_and(|weak| weak.strong_count() == 0)
}

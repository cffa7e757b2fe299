//! The sandbox: one engine per process, components compiled once (and cached
//! on disk), a fresh store and instance per request.
//!
//! [`Runtime::prepare`] is the only place that compiles, and it is never on
//! the request path: uploads and activation call it, the gateway's route
//! table holds the resulting [`Prepared`] handles, and [`Runtime::invoke`]
//! only instantiates.

mod artifacts;
mod auth;
mod bindings;
mod capabilities;
mod engine;
mod guest_log;
mod invoke;
mod limits;
mod linker;
mod state;
mod validate;

pub use artifacts::ArtifactCache;
pub use auth::Principal;
pub use capabilities::Capabilities;
pub use guest_log::GuestLog;
pub use invoke::InvokeError;
pub use limits::{CpuBudgetExceeded, MemoryLimitExceeded};
pub use state::{RequestContext, RequestState};
pub use validate::{ValidationError, check_encoding};

use crate::config::{EffectiveLimits, PoolConfig};
use bytes::Bytes;
use http_body::Body;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};
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

type Slot = Arc<OnceCell<Arc<Prepared>>>;

/// The wasm runtime of the node.
pub struct Runtime {
    engine: Engine,
    linker: Linker<RequestState>,
    artifacts: ArtifactCache,
    prepared: Mutex<HashMap<String, Slot>>,
    tick_ms: u64,
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
        let slot = {
            let mut map = self
                .prepared
                .lock()
                .map_err(|_| PrepareError::Host("prepared map poisoned".into()))?;
            map.entry(digest.to_string()).or_default().clone()
        };
        let this = self.clone();
        let digest_owned = digest.to_string();
        let result = slot
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || this.prepare_blocking(&digest_owned, bytes))
                    .await
                    .map_err(|e| PrepareError::Host(format!("compile worker failed: {e}")))?
            })
            .await
            .cloned();
        if result.is_err() {
            // Do not pin a failure: a later attempt (e.g. after a fix) retries.
            if let Ok(mut map) = self.prepared.lock()
                && map.get(digest).is_some_and(|s| s.get().is_none())
            {
                map.remove(digest);
            }
        }
        result
    }

    fn prepare_blocking(
        &self,
        digest: &str,
        bytes: impl FnOnce() -> anyhow::Result<Vec<u8>>,
    ) -> Result<Arc<Prepared>, PrepareError> {
        let mut encoding_error = None;
        let component: Component = self
            .artifacts
            .load_or_compile(digest, || {
                let bytes = bytes()?;
                if let Err(e) = check_encoding(&bytes) {
                    encoding_error = Some(e.clone());
                    return Err(e.into());
                }
                Ok(bytes)
            })
            .map_err(|e| match encoding_error.take() {
                Some(v) => PrepareError::Invalid(v),
                None if e.downcast_ref::<std::io::Error>().is_some() => {
                    PrepareError::Host(format!("{e:#}"))
                }
                None => PrepareError::Invalid(ValidationError::Invalid(format!("{e:#}"))),
            })?;
        validate::check_world(&self.engine, &component)?;
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| PrepareError::Invalid(ValidationError::Invalid(format!("{e:#}"))))?;
        let pre = ProxyPre::new(instance_pre)
            .map_err(|e| PrepareError::Invalid(ValidationError::Invalid(format!("{e:#}"))))?;
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
        invoke::invoke(&self.engine, self.tick_ms, prepared, req, limits, ctx, log).await
    }

    /// Live pooled component instances, for the USE metrics.
    pub fn pool_instances_in_use(&self) -> u64 {
        self.engine
            .pooling_allocator_metrics()
            .map(|m| m.component_instances())
            .unwrap_or(0)
    }
}

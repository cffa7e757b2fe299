//! What one request's [`wasmtime::Store`] holds: the WASI and wasi:http
//! contexts, the resource table, limits, the verified principal, and the
//! node's capability contexts with the per-request state some of them keep.
//! It only composes: each capability reaches its part through its view
//! (see `linker.rs`).
//!
//! Each request gets a fresh state and a fresh instance, so nothing leaks
//! between requests or tenants.

use super::bindings::Capabilities;
use super::bindings::auth::Principal;
use super::bindings::model::ModelCall;
use super::guest_log::GuestLog;
use super::limits::{CpuMeter, MemoryLimiter};
use std::sync::Arc;
use warden_plugin_cache::HeldLeases;
use warden_plugin_core::Tenant;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

/// The data of a per-request store.
pub struct RequestState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    pub(crate) table: ResourceTable,
    hooks: DenyOutbound,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) cpu: CpuMeter,
    pub(crate) principal: Option<Principal>,
    /// The tenant owning the running function: every capability call is
    /// scoped to it.
    pub(crate) tenant: Tenant,
    pub(crate) caps: Arc<Capabilities>,
    /// Fill leases this request holds (`cache.get-or-lease`).
    pub(crate) cache_leases: HeldLeases,
    /// Who model calls are made by, and the request's open streams.
    pub(crate) model_call: ModelCall,
}

/// Bytes one `get-random-bytes` call may ask for (wasmtime allows 64 MiB).
/// wasmtime fills the buffer byte by byte, and a call cannot be
/// interrupted: 1 MiB held a guest thread for milliseconds, which every
/// neighbour waiting for that thread paid. 64 KiB is far more than a
/// seed or a key needs; a guest that wants more calls again.
pub const MAX_RANDOM_BYTES_PER_CALL: u64 = 64 << 10;

/// Bytes one wasi:http `fields` resource may hold.
pub const FIELD_SIZE_LIMIT: usize = 32 << 10;

/// Host-side resources (fields, bodies, streams, capability results) live
/// in the host's memory, not the guest's: their number is capped so that
/// `resources x FIELD_SIZE_LIMIT` stays within the guest's own memory cap
/// (with a floor for small caps), and a guest over it gets the memory
/// error. One request at 128 MiB may hold 4,096 of them.
pub fn max_resources(memory_bytes: usize) -> usize {
    (memory_bytes / FIELD_SIZE_LIMIT).max(256)
}

/// Who a request runs for and what it may use.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// Owning tenant of the function.
    pub tenant: Tenant,
    /// The verified principal, if any.
    pub principal: Option<Principal>,
    /// The capability backends.
    pub caps: Arc<Capabilities>,
    /// The function being run (model usage records and metrics).
    pub function: String,
    /// The request's id (logs; the A/B key of anonymous model calls).
    pub request_id: String,
}

impl RequestState {
    /// A sandbox with no ambient authority: empty environment, no args, no
    /// preopened directories, no sockets, no outbound HTTP; stdout and stderr
    /// go to `log`.
    pub fn new(log: &GuestLog, limiter: MemoryLimiter, cpu: CpuMeter, ctx: RequestContext) -> Self {
        let wasi = WasiCtx::builder()
            .stdout(log.clone())
            .stderr(log.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            // A host call does work proportional to what the guest asks:
            // bound what one call may ask.
            .max_random_size(MAX_RANDOM_BYTES_PER_CALL)
            .build();
        let mut http = WasiHttpCtx::new();
        http.set_field_size_limit(FIELD_SIZE_LIMIT);
        let mut table = ResourceTable::new();
        table.set_max_capacity(max_resources(limiter.limit()));
        Self {
            wasi,
            http,
            table,
            hooks: DenyOutbound,
            limiter,
            cpu,
            model_call: ModelCall::new(
                &ctx.function,
                &ctx.request_id,
                ctx.principal.as_ref().map(|p| p.subject.as_str()),
            ),
            principal: ctx.principal,
            cache_leases: ctx.caps.cache.request_leases(&ctx.tenant),
            tenant: ctx.tenant,
            caps: ctx.caps,
        }
    }
}

impl WasiView for RequestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for RequestState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// wasi:http hooks that refuse every outbound request: functions get no
/// network until a later grant allows specific destinations.
pub struct DenyOutbound;

impl WasiHttpHooks for DenyOutbound {
    fn send_request(
        &mut self,
        _request: http::Request<wasmtime_wasi_http::WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = wasmtime_wasi_http::Result<(
                    http::Response<wasmtime_wasi_http::WasiBody>,
                    Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                )>,
            > + Send,
    > {
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}

/// Maps a guest-reported wasi:http error code to text for logs and bodies.
pub fn describe_error_code(code: &ErrorCode) -> String {
    format!("{code:?}")
}

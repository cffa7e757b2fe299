//! The public gateway: route, admit, cap, invoke, stream back, and account.
//!
//! Per request: a request id; `host + path` to a route target (404 if
//! none); the body cap (413, checked from `content-length` up front and
//! again while the body streams); the node's concurrency bound (503 +
//! `Retry-After`, never an unbounded queue); then a fresh instance of the
//! function. The response streams back as the guest writes it; when its
//! last byte is sent (or the client hangs up) one JSON log line and the
//! RED metrics are recorded.

mod body;
mod error;
mod policy;
mod request_id;
mod routes;
mod server;

pub use body::GatewayBody;
pub use error::GatewayError;
pub use policy::{RateHeaders, TenantPolicy};
pub use request_id::{REQUEST_ID_HEADER, request_id};
pub use routes::{Lookup, RouteTable, RouteTarget, TenantRoutes};
pub use server::serve;

use crate::metrics::{Metrics, RouteMetrics};
use crate::runtime::{Capabilities, GuestLog, RequestContext, Runtime};
use crate::telemetry::{AccessLine, AccessLog, now_ms};
use arc_swap::ArcSwap;
use body::{CappedBody, TrackedBody};
use http::{HeaderValue, Request, Response};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::Instrument as _;

/// The response type of the gateway service.
pub type GatewayResponse = Response<TrackedBody<GatewayBody, Exchange>>;

/// Shared state of the gateway.
pub struct Gateway {
    runtime: Arc<Runtime>,
    caps: Arc<Capabilities>,
    routes: ArcSwap<RouteTable>,
    metrics: Arc<Metrics>,
    unrouted: RouteMetrics,
    admission: Arc<Semaphore>,
    guest_log_bytes: usize,
    access_log: Arc<AccessLog>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").finish_non_exhaustive()
    }
}

impl Gateway {
    /// A gateway with an empty route table.
    pub fn new(
        runtime: Arc<Runtime>,
        caps: Arc<Capabilities>,
        metrics: Arc<Metrics>,
        base_domain: &str,
        max_inflight: usize,
        guest_log_bytes: usize,
        access_log: AccessLog,
    ) -> Self {
        Self {
            runtime,
            caps,
            routes: ArcSwap::from_pointee(RouteTable::new(base_domain)),
            unrouted: metrics.route("", ""),
            metrics,
            admission: Arc::new(Semaphore::new(max_inflight)),
            guest_log_bytes,
            access_log: Arc::new(access_log),
        }
    }

    /// Replaces the route table; in-flight requests finish on the old one.
    pub fn set_routes(&self, table: RouteTable) {
        self.routes.store(Arc::new(table));
    }

    /// Access-log lines dropped so far (the writer fell behind).
    pub fn access_log_dropped(&self) -> u64 {
        self.access_log.dropped()
    }

    /// The current route table.
    pub fn routes(&self) -> Arc<RouteTable> {
        self.routes.load_full()
    }

    /// Serves one request.
    pub async fn handle(&self, req: Request<Incoming>) -> GatewayResponse {
        let start = Instant::now();
        let request_id = request_id(req.headers());
        let span = tracing::debug_span!("request", request_id = %request_id);
        let mut exchange = Exchange {
            start,
            request_id,
            method: req.method().to_string(),
            path: req.uri().path().to_string(),
            tenant: String::new(),
            function: String::new(),
            version: String::new(),
            status: 0,
            log: None,
            metrics: self.unrouted.clone(),
            inflight: None,
            body_over_cap: None,
            rate_headers: RateHeaders::default(),
            access_log: self.access_log.clone(),
        };
        let result = self
            .route_and_invoke(req, &mut exchange)
            .instrument(span)
            .await;
        let mut response = match result {
            Ok(response) => response,
            Err(e) => {
                // The gateway's own answer is complete; never cut it short.
                exchange.body_over_cap = None;
                e.to_response()
            }
        };
        exchange.status = response.status().as_u16();
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&exchange.request_id) {
            headers.insert(REQUEST_ID_HEADER, value);
        }
        for (name, value) in [
            ("ratelimit-policy", exchange.rate_headers.policy.take()),
            ("ratelimit", exchange.rate_headers.state.take()),
        ] {
            if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                headers.insert(name, value);
            }
        }
        response.map(|body| TrackedBody::new(body, exchange))
    }

    async fn route_and_invoke(
        &self,
        mut req: Request<Incoming>,
        exchange: &mut Exchange,
    ) -> Result<Response<GatewayBody>, GatewayError> {
        let routes = self.routes.load();
        let host = match req.uri().authority() {
            Some(authority) => authority.as_str(),
            None => req
                .headers()
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .ok_or(GatewayError::MissingHost)?,
        };
        let target = match routes.lookup(host, req.uri().path()) {
            Lookup::Found(target) => target.clone(),
            Lookup::UnknownHost => return Err(GatewayError::UnknownHost(host.to_string())),
            Lookup::NoRoute(tenant) => {
                exchange.tenant = tenant.to_string();
                return Err(GatewayError::RouteNotFound {
                    tenant: tenant.to_string(),
                    path: req.uri().path().to_string(),
                });
            }
        };
        drop(routes);
        exchange.tenant = target.tenant.as_str().to_string();
        exchange.function.clone_from(&target.function);
        exchange.metrics = target.metrics.clone();
        let prepared = target
            .prepared
            .clone()
            .ok_or_else(|| GatewayError::NoActiveVersion(target.function.clone()))?;
        exchange.version.clone_from(&prepared.digest);

        let cap = target.limits.max_body_bytes;
        let declared = req
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > cap) {
            return Err(GatewayError::BodyTooLarge(cap));
        }

        let permit = self.admission.clone().try_acquire_owned().map_err(|_| {
            self.metrics.shed.inc();
            GatewayError::Overloaded
        })?;
        let tenant_permit = target.policy.admit().inspect_err(|_| {
            self.metrics.shed.inc();
        })?;
        self.metrics.inflight.inc();
        exchange.inflight = Some(InflightGuard {
            _permit: permit,
            _tenant_permit: tenant_permit,
            metrics: self.metrics.clone(),
        });
        target
            .policy
            .check_rate(
                self.caps.ratelimit.as_ref(),
                &target.tenant,
                &mut exchange.rate_headers,
            )
            .await?;

        if let Ok(value) = HeaderValue::from_str(&exchange.request_id) {
            req.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
        let exceeded = Arc::new(AtomicBool::new(false));
        exchange.body_over_cap = Some(exceeded.clone());
        let req = req.map(|body| CappedBody::new(body, cap, exceeded.clone()));
        let log = GuestLog::new(self.guest_log_bytes);
        exchange.log = Some(log.clone());

        let result = self
            .runtime
            .invoke(
                &prepared,
                req,
                &target.limits,
                RequestContext {
                    tenant: target.tenant.clone(),
                    principal: None,
                    caps: self.caps.clone(),
                },
                &log,
            )
            .instrument(tracing::debug_span!("invoke", tenant = %target.tenant, function = %target.function))
            .await;
        if exceeded.load(Ordering::Relaxed) {
            return Err(GatewayError::BodyTooLarge(cap));
        }
        Ok(result?.map(|body| body.boxed_unsync()))
    }
}

/// Releases the admission permit and the in-flight gauge when the response
/// body ends.
struct InflightGuard {
    _permit: OwnedSemaphorePermit,
    _tenant_permit: OwnedSemaphorePermit,
    metrics: Arc<Metrics>,
}

impl Drop for InflightGuard {
    fn drop(&mut self) {
        self.metrics.inflight.dec();
    }
}

/// Everything known about one request, written out when its response ends.
pub struct Exchange {
    start: Instant,
    request_id: String,
    method: String,
    path: String,
    tenant: String,
    function: String,
    version: String,
    status: u16,
    log: Option<GuestLog>,
    metrics: RouteMetrics,
    inflight: Option<InflightGuard>,
    body_over_cap: Option<Arc<AtomicBool>>,
    rate_headers: RateHeaders,
    access_log: Arc<AccessLog>,
}

impl body::EndOfBody for Exchange {
    fn aborted(&self) -> bool {
        self.body_over_cap
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
    }

    fn end(self, bytes: u64, failed: bool) {
        let elapsed = self.start.elapsed();
        self.metrics.record(self.status, elapsed.as_secs_f64());
        let (guest_output, guest_output_dropped) =
            self.log.as_ref().map(GuestLog::take).unwrap_or_default();
        let guest_error = self.log.as_ref().and_then(GuestLog::error);
        self.access_log.record(&AccessLine {
            ts_ms: now_ms(),
            level: "INFO",
            target: "warden::access",
            request_id: &self.request_id,
            tenant: &self.tenant,
            function: &self.function,
            version: &self.version,
            method: &self.method,
            path: &self.path,
            status: self.status,
            duration_us: u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            bytes_out: bytes,
            stream_failed: failed,
            guest_output: &guest_output,
            guest_output_dropped,
            guest_error: guest_error.as_deref().unwrap_or(""),
        });
        drop(self.inflight);
    }
}

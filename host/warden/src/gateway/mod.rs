//! The public gateway: a pipeline of small steps, one file each.
//!
//! ```text
//! request id -> [JWKS, OAuth/OIDC endpoints of the host's tenant] -> route -> body cap (declared)
//!   -> admission -> tier limits -> auth -> version select
//!   -> invoke (body capped while it streams) -> accounting at body end
//! ```
//!
//! Each step takes what it needs and returns what it produced (or the
//! error that answers the request); [`Gateway::handle`] only wires them
//! together and turns the outcome into the response and its accounting.
//!
//! Steps rather than tower layers (DESIGN.md says "layers"): every step
//! after routing needs the route target, and tower layers would pass it in
//! request extensions, a typed bag again; as functions, what each step
//! depends on is in its signature and each is unit-tested alone. A step
//! that must wrap the exchange (a timeout, a span) can still be a layer.
//! The response streams back as the guest writes it; when its last byte is
//! sent (or the client hangs up) one JSON log line and the RED metrics are
//! recorded.

mod accounting;
mod admission;
mod auth;
mod auth_plan;
mod body;
mod body_cap;
mod error;
mod invoke;
mod jwks;
pub mod oauth;
mod request_id;
mod route;
mod routes;
mod server;
mod tier;
mod version;

pub use accounting::Accounting;
pub use admission::{Admission, Admitted};
pub use auth::{Anonymous, Authenticate, TokenAuth};
pub use auth_plan::AuthPlan;
pub use body::GatewayBody;
pub use error::GatewayError;
pub use request_id::{REQUEST_ID_HEADER, request_id};
pub use route::{Matched, ROUTE_PREFIX_HEADER};
pub use routes::{Lookup, RouteTable, RouteTarget, Routes, TenantIssuer, TenantRoutes};
pub use server::{ClientAddr, ConnectionLimits, serve};
pub use tier::{RateHeaders, TenantPolicy};
pub use version::Selected;

use crate::metrics::{Metrics, RouteMetrics};
use crate::telemetry::AccessLog;
use body::TrackedBody;
use http::{HeaderValue, Request, Response};
use hyper::body::Incoming;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;
use tracing::Instrument as _;
use warden_runtime::{Capabilities, GuestLog, Runtime};

/// The response type of the gateway service.
pub type GatewayResponse = Response<TrackedBody<GatewayBody, Accounting>>;

/// Shared state of the gateway.
pub struct Gateway {
    runtime: Arc<Runtime>,
    caps: Arc<Capabilities>,
    routes: Routes,
    auth: Arc<dyn Authenticate>,
    keys: Option<Arc<warden_plugin_auth::KeyManager>>,
    oauth: Option<Arc<oauth::OAuth>>,
    admission: Admission,
    unrouted: RouteMetrics,
    guest_log_bytes: usize,
    access_log: Arc<AccessLog>,
    debug_token: String,
}

/// Request header that asks for a failure's detail in the error body; its
/// value must be the node's admin token (compared in constant time).
pub const DEBUG_HEADER: &str = "x-warden-debug";

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").finish_non_exhaustive()
    }
}

/// A request the pipeline served: the guest's response and what its
/// accounting needs.
struct Served {
    response: Response<GatewayBody>,
    matched: Matched,
    rate: RateHeaders,
    selected: Selected,
    admitted: Admitted,
    log: GuestLog,
    body_over_cap: Arc<AtomicBool>,
    subject: Option<String>,
}

/// How a request was answered: by the pipeline (a guest or a refusal), or
/// by the platform itself before any route (the tenant's JWKS).
enum Outcome {
    Pipeline(Result<Served, Refused>),
    Platform(warden_plugin_auth::Tenant, Response<GatewayBody>),
}

/// A request the gateway answered itself, with what was known by then.
struct Refused {
    error: GatewayError,
    matched: Option<Matched>,
    rate: RateHeaders,
    /// The version that failed and its captured output, when a guest ran.
    ran: Option<(Selected, GuestLog)>,
}

impl Refused {
    /// A refusal once the route is known. Taking references and cloning
    /// only here keeps the success path free of copies: call it inside the
    /// `map_err` closure, never eagerly.
    fn at(matched: &Matched, rate: &RateHeaders, error: GatewayError) -> Self {
        Self {
            error,
            matched: Some(matched.clone()),
            rate: rate.clone(),
            ran: None,
        }
    }

    fn with_run(mut self, selected: &Selected, log: &GuestLog) -> Self {
        self.ran = Some((selected.clone(), log.clone()));
        self
    }
}

impl From<GatewayError> for Refused {
    fn from(error: GatewayError) -> Self {
        Self {
            error,
            matched: None,
            rate: RateHeaders::default(),
            ran: None,
        }
    }
}

impl Gateway {
    /// A gateway over `routes` (which the reloader fills); `debug_token`
    /// unlocks failure detail in error bodies ([`DEBUG_HEADER`]).
    #[allow(clippy::too_many_arguments, reason = "assembly passes each part once")]
    pub fn new(
        runtime: Arc<Runtime>,
        caps: Arc<Capabilities>,
        metrics: Arc<Metrics>,
        routes: Routes,
        max_inflight: usize,
        memory_budget_mb: u64,
        guest_log_bytes: usize,
        access_log: AccessLog,
        debug_token: String,
    ) -> Self {
        Self {
            runtime,
            caps,
            routes,
            auth: Arc::new(Anonymous),
            keys: None,
            oauth: None,
            admission: Admission::new(max_inflight, memory_budget_mb, metrics.clone()),
            unrouted: metrics.route("", ""),
            guest_log_bytes,
            access_log: Arc::new(access_log),
            debug_token,
        }
    }

    /// Verifies credentials with `auth` and publishes each tenant's keys
    /// from `keys` at `/.well-known/jwks.json`.
    pub fn with_auth(
        mut self,
        auth: Arc<dyn Authenticate>,
        keys: Arc<warden_plugin_auth::KeyManager>,
    ) -> Self {
        self.auth = auth;
        self.keys = Some(keys);
        self
    }

    /// Serves each tenant's token service (authorize, token, ...) on its
    /// hosts, before routing.
    pub fn with_oauth(mut self, oauth: Arc<oauth::OAuth>) -> Self {
        self.oauth = Some(oauth);
        self
    }

    /// Whether the request proved it may see failure detail.
    fn wants_debug(&self, headers: &http::HeaderMap) -> bool {
        headers
            .get(DEBUG_HEADER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|given| crate::admin::token::matches(&self.debug_token, given.trim()))
    }

    /// The access log, for subscribers (`warden logs`, tests).
    pub fn access_log(&self) -> &Arc<AccessLog> {
        &self.access_log
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
    pub async fn handle(&self, mut req: Request<Incoming>) -> GatewayResponse {
        let start = Instant::now();
        let request_id = request_id::assign(&mut req);
        let span = tracing::debug_span!("request", request_id = %request_id);
        let method = req.method().to_string();
        let path = req.uri().path().to_string();
        let debug = self.wants_debug(req.headers());
        let outcome = match self.jwks_request(&req) {
            Some((keys, tenant)) => {
                let head = req.method() == http::Method::HEAD;
                match jwks::answer(keys, &tenant, head).await {
                    Ok(response) => Outcome::Platform(tenant, response),
                    Err(e) => Outcome::Pipeline(Err(Refused::from(e))),
                }
            }
            None => match self.oauth_request(&req) {
                Some((oauth, wanted)) => {
                    let tenant = wanted.tenant().clone();
                    Outcome::Platform(tenant, oauth.answer(wanted, req).instrument(span).await)
                }
                None => Outcome::Pipeline(self.pipeline(req).instrument(span).await),
            },
        };
        let mut accounting = Accounting {
            start,
            request_id,
            method,
            path,
            tenant: String::new(),
            function: String::new(),
            version: String::new(),
            status: 0,
            log: None,
            guest_body: false,
            metrics: self.unrouted.clone(),
            body_over_cap: None,
            admitted: None,
            max_response_bytes: u64::MAX,
            error_detail: None,
            subject: None,
            access_log: self.access_log.clone(),
        };
        let outcome = match outcome {
            Outcome::Pipeline(outcome) => outcome,
            Outcome::Platform(tenant, mut response) => {
                accounting.tenant = tenant.as_str().to_string();
                accounting.status = response.status().as_u16();
                if let Ok(value) = HeaderValue::from_str(&accounting.request_id) {
                    response.headers_mut().insert(REQUEST_ID_HEADER, value);
                }
                return response.map(|body| TrackedBody::new(body, accounting));
            }
        };
        let (mut response, matched, rate) = match outcome {
            Ok(served) => {
                accounting.subject = served.subject;
                accounting.version = served.selected.version().to_string();
                accounting.log = Some(served.log);
                accounting.guest_body = true;
                accounting.body_over_cap = Some(served.body_over_cap);
                accounting.admitted = Some(served.admitted);
                (served.response, Some(served.matched), served.rate)
            }
            Err(refused) => {
                if let GatewayError::RouteNotFound { tenant, .. } = &refused.error {
                    accounting.tenant.clone_from(tenant);
                }
                // The detail goes to the log line; the public gets the code.
                accounting.error_detail = refused.error.log_detail();
                if let Some((selected, log)) = refused.ran {
                    accounting.version = selected.version().to_string();
                    accounting.log = Some(log);
                }
                // The gateway's own answer is complete; never cut it short.
                (
                    refused.error.to_response(debug),
                    refused.matched,
                    refused.rate,
                )
            }
        };
        if let Some(matched) = matched {
            accounting.max_response_bytes = matched.target.limits.max_response_bytes;
            accounting.tenant = matched.target.tenant.as_str().to_string();
            accounting.function.clone_from(&matched.target.function);
            accounting.metrics = matched.target.metrics.clone();
        }
        accounting.status = response.status().as_u16();
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&accounting.request_id) {
            headers.insert(REQUEST_ID_HEADER, value);
        }
        rate.apply(headers);
        response.map(|body| TrackedBody::new(body, accounting))
    }

    /// The keys and tenant of a JWKS request the platform answers itself.
    fn jwks_request<B>(
        &self,
        req: &Request<B>,
    ) -> Option<(
        &Arc<warden_plugin_auth::KeyManager>,
        warden_plugin_auth::Tenant,
    )> {
        let keys = self.keys.as_ref()?;
        Some((keys, jwks::wanted(&self.routes, req)?))
    }

    /// The token-service endpoint a request is for, if any.
    fn oauth_request<B>(&self, req: &Request<B>) -> Option<(&Arc<oauth::OAuth>, oauth::Wanted)> {
        let oauth = self.oauth.as_ref()?;
        Some((oauth, oauth::wanted(&self.routes, req)?))
    }

    /// The steps, in order.
    async fn pipeline(&self, mut req: Request<Incoming>) -> Result<Served, Refused> {
        let matched = route::find(&self.routes.load(), &req)?;
        let target = matched.target.clone();
        let no_rate = RateHeaders::default();
        let cap = target.limits.max_body_bytes;
        body_cap::check_declared(req.headers(), cap)
            .map_err(|e| Refused::at(&matched, &no_rate, e))?;
        let admitted = self
            .admission
            .admit(&target.policy, target.limits.memory_bytes)
            .map_err(|e| Refused::at(&matched, &no_rate, e))?;
        let mut rate = RateHeaders::default();
        let checked = target
            .policy
            .check_rate(
                self.caps.rate_limit.limiter().as_ref(),
                &target.tenant,
                &mut rate,
            )
            .await;
        checked.map_err(|e| Refused::at(&matched, &rate, e))?;
        let (method, uri) = (req.method().clone(), req.uri().clone());
        let principal = self
            .auth
            .authenticate(&target, &method, uri.path(), req.headers_mut())
            .await
            .map_err(|e| Refused::at(&matched, &rate, e))?;
        let subject = principal.as_ref().map(|p| p.subject.clone());
        let selected = version::select(&target, principal.as_ref())
            .map_err(|e| Refused::at(&matched, &rate, e))?;
        route::mark(&mut req, &matched);
        let (req, body_over_cap) = body_cap::cap(req, cap);
        let log = GuestLog::new(self.guest_log_bytes);
        let response = invoke::invoke(
            &self.runtime,
            &self.caps,
            &target,
            &selected,
            principal,
            req,
            &log,
        )
        .await
        .map_err(|e| Refused::at(&matched, &rate, e).with_run(&selected, &log))?;
        if body_over_cap.load(std::sync::atomic::Ordering::Relaxed) {
            let refused = Refused::at(&matched, &rate, GatewayError::BodyTooLarge(cap));
            return Err(refused.with_run(&selected, &log));
        }
        Ok(Served {
            response,
            matched,
            rate,
            selected,
            admitted,
            log,
            body_over_cap,
            subject,
        })
    }
}

//! Prometheus metrics: RED per tenant and function (requests by status
//! class, a duration histogram) and USE of the node (instance pool,
//! in-flight requests, compilations).
//!
//! Per-route handles are resolved when the route table is built, so the
//! request path does a few atomic adds and no map lookups.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    tenant: String,
    function: String,
    class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    tenant: String,
    function: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AuthLabels {
    tenant: String,
    outcome: &'static str,
    reason: &'static str,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// The node's metric registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    duration: HistogramFamily,
    /// Component instances alive in the pool.
    pub pool_in_use: Gauge,
    /// Requests currently being served.
    pub inflight: Gauge,
    /// Components compiled from scratch since start.
    pub compilations: Gauge,
    /// Components loaded from the on-disk artifact cache since start.
    pub artifact_cache_hits: Gauge,
    /// Compiled components alive (referenced by a route or a request).
    pub prepared_components: Gauge,
    /// Requests shed because the node was at capacity.
    pub shed: Counter,
    /// Access-log lines dropped because the writer fell behind.
    pub access_log_dropped: Gauge,
    /// Model calls and tokens (the model plugin's usage sink).
    pub model: std::sync::Arc<crate::model_metrics::ModelMetrics>,
    auth_decisions: Family<AuthLabels, Counter>,
    /// Successful JWKS fetches of external issuers since start.
    pub auth_jwks_refreshes: Gauge,
    /// Failed JWKS fetches since start.
    pub auth_jwks_refresh_failures: Gauge,
    /// Tokens whose signature check the verified-token cache saved.
    pub auth_token_cache_hits: Gauge,
    /// Tokens fully verified (not in the cache).
    pub auth_token_cache_misses: Gauge,
}

/// How the gateway decided about a request's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthOutcome {
    /// A verified token was accepted.
    Allowed,
    /// A public route ran without a token.
    Anonymous,
    /// The request was refused; the reason names the check.
    Refused(&'static str),
}

/// Handles for one (tenant, function): status-class counters and latency.
#[derive(Debug, Clone)]
pub struct RouteMetrics {
    by_class: [Counter; 5],
    duration: Histogram,
    auth_allowed: Counter,
    auth_anonymous: Counter,
    auth: Family<AuthLabels, Counter>,
    tenant: String,
}

const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

fn duration_histogram() -> Histogram {
    // 50 us .. ~26 s: covers platform overhead through model calls.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 20))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("warden");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests served, by tenant, function and status class",
            requests.clone(),
        );
        let duration: HistogramFamily = Family::new_with_constructor(duration_histogram);
        registry.register(
            "request_duration_seconds",
            "Time from request head to end of response body",
            duration.clone(),
        );
        let pool_in_use = Gauge::default();
        registry.register(
            "pool_instances_in_use",
            "Component instances alive in the pooling allocator",
            pool_in_use.clone(),
        );
        let inflight = Gauge::default();
        registry.register(
            "inflight_requests",
            "Requests being served",
            inflight.clone(),
        );
        let compilations = Gauge::default();
        registry.register(
            "artifact_compilations",
            "Components compiled from scratch since this process started",
            compilations.clone(),
        );
        let artifact_cache_hits = Gauge::default();
        registry.register(
            "artifact_cache_hits",
            "Components loaded from the on-disk artifact cache since this process started",
            artifact_cache_hits.clone(),
        );
        let prepared_components = Gauge::default();
        registry.register(
            "prepared_components",
            "Compiled components alive: referenced by a route or an in-flight request",
            prepared_components.clone(),
        );
        let access_log_dropped = Gauge::default();
        registry.register(
            "access_log_dropped_lines",
            "Access-log lines dropped since start because the log writer fell behind",
            access_log_dropped.clone(),
        );
        let auth_decisions = Family::<AuthLabels, Counter>::default();
        registry.register(
            "auth_decisions",
            "Gateway auth decisions, by tenant, outcome (allowed, anonymous, refused) and reason",
            auth_decisions.clone(),
        );
        let auth_gauge = |registry: &mut Registry, name: &str, help: &str| {
            let gauge = Gauge::default();
            registry.register(name, help, gauge.clone());
            gauge
        };
        let auth_jwks_refreshes = auth_gauge(
            &mut registry,
            "auth_jwks_refreshes",
            "Successful JWKS fetches of external issuers since start",
        );
        let auth_jwks_refresh_failures = auth_gauge(
            &mut registry,
            "auth_jwks_refresh_failures",
            "Failed JWKS fetches of external issuers since start",
        );
        let auth_token_cache_hits = auth_gauge(
            &mut registry,
            "auth_token_cache_hits",
            "Tokens whose signature check the verified-token cache saved, since start",
        );
        let auth_token_cache_misses = auth_gauge(
            &mut registry,
            "auth_token_cache_misses",
            "Tokens fully verified (not found in the verified-token cache), since start",
        );
        let shed = Counter::default();
        registry.register(
            "shed_requests",
            "Requests refused at the node's concurrency bound",
            shed.clone(),
        );
        let model =
            std::sync::Arc::new(crate::model_metrics::ModelMetrics::register(&mut registry));
        Self {
            registry,
            model,
            requests,
            duration,
            pool_in_use,
            inflight,
            compilations,
            artifact_cache_hits,
            prepared_components,
            shed,
            access_log_dropped,
            auth_decisions,
            auth_jwks_refreshes,
            auth_jwks_refresh_failures,
            auth_token_cache_hits,
            auth_token_cache_misses,
        }
    }

    /// Handles for a route; empty names stand for unrouted requests.
    pub fn route(&self, tenant: &str, function: &str) -> RouteMetrics {
        let by_class = CLASSES.map(|class| {
            self.requests
                .get_or_create(&RequestLabels {
                    tenant: tenant.to_string(),
                    function: function.to_string(),
                    class,
                })
                .clone()
        });
        let duration = self
            .duration
            .get_or_create(&RouteLabels {
                tenant: tenant.to_string(),
                function: function.to_string(),
            })
            .clone();
        let auth_counter = |outcome, reason| {
            self.auth_decisions
                .get_or_create(&AuthLabels {
                    tenant: tenant.to_string(),
                    outcome,
                    reason,
                })
                .clone()
        };
        RouteMetrics {
            by_class,
            duration,
            auth_allowed: auth_counter("allowed", "ok"),
            auth_anonymous: auth_counter("anonymous", "public_route"),
            auth: self.auth_decisions.clone(),
            tenant: tenant.to_string(),
        }
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl RouteMetrics {
    /// Records one finished request.
    pub fn record(&self, status: u16, seconds: f64) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.by_class[class].inc();
        self.duration.observe(seconds);
    }

    /// Counts one auth decision of the route's tenant; the common outcomes
    /// are pre-resolved handles, refusals look their reason up.
    pub fn record_auth(&self, outcome: AuthOutcome) {
        match outcome {
            AuthOutcome::Allowed => self.auth_allowed.inc(),
            AuthOutcome::Anonymous => self.auth_anonymous.inc(),
            AuthOutcome::Refused(reason) => self
                .auth
                .get_or_create(&AuthLabels {
                    tenant: self.tenant.clone(),
                    outcome: "refused",
                    reason,
                })
                .inc(),
        };
    }
}

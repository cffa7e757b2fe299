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
}

/// Handles for one (tenant, function): status-class counters and latency.
#[derive(Debug, Clone)]
pub struct RouteMetrics {
    by_class: [Counter; 5],
    duration: Histogram,
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
        RouteMetrics { by_class, duration }
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
}

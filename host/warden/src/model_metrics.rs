//! Model usage as Prometheus metrics: the host's
//! [`UsageSink`](warden_plugin_model::UsageSink), fed one record per model
//! call by the plugin.
//!
//! - `warden_model_tokens_total{tenant,model,kind}`: tokens by provider
//!   model, `kind` = `input` | `output` (cache hits spend none);
//! - `warden_model_calls_total{tenant,alias,variant,outcome}`: calls by the
//!   alias the guest named and the A/B variant served, `outcome` = `ok`,
//!   `cached`, `cancelled` or the error's kind (`timeout`, `rate_limited`,
//!   `budget_exhausted`, `unavailable`, `invalid_request`,
//!   `content_too_large`, `internal`);
//! - `warden_model_call_duration_seconds{tenant,alias}` and
//!   `warden_model_time_to_first_token_seconds{tenant,alias}` (streams).
//!
//! Recording only bumps counters: the plugin calls it on the request path.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use warden_plugin_model::{ModelError, UsageRecord, UsageSink};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    tenant: String,
    model: String,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    tenant: String,
    alias: String,
    variant: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AliasLabels {
    tenant: String,
    alias: String,
}

type Histograms = Family<AliasLabels, Histogram, fn() -> Histogram>;

fn seconds_histogram() -> Histogram {
    // 1 ms .. ~65 s: a cache hit through a long generation.
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

/// The model metrics of the node.
#[derive(Debug)]
pub struct ModelMetrics {
    tokens: Family<TokenLabels, Counter>,
    calls: Family<CallLabels, Counter>,
    duration: Histograms,
    first_token: Histograms,
}

impl ModelMetrics {
    /// Registers the model metrics in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let tokens = Family::<TokenLabels, Counter>::default();
        registry.register(
            "model_tokens",
            "Model tokens spent, by tenant, provider model and kind (input, output)",
            tokens.clone(),
        );
        let calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "model_calls",
            "Model calls, by tenant, alias, A/B variant and outcome",
            calls.clone(),
        );
        let duration: Histograms = Family::new_with_constructor(seconds_histogram);
        registry.register(
            "model_call_duration_seconds",
            "Model call latency (streams: to their end), by tenant and alias",
            duration.clone(),
        );
        let first_token: Histograms = Family::new_with_constructor(seconds_histogram);
        registry.register(
            "model_time_to_first_token_seconds",
            "Time to a stream's first chunk, by tenant and alias",
            first_token.clone(),
        );
        Self {
            tokens,
            calls,
            duration,
            first_token,
        }
    }
}

/// The `outcome` label of a record.
fn outcome(record: &UsageRecord) -> &'static str {
    match &record.error {
        Some(ModelError::Timeout(_)) => "timeout",
        Some(ModelError::RateLimited { .. }) => "rate_limited",
        Some(ModelError::BudgetExhausted { .. }) => "budget_exhausted",
        Some(ModelError::Unavailable(_)) => "unavailable",
        Some(ModelError::InvalidRequest(_)) => "invalid_request",
        Some(ModelError::ContentTooLarge(_)) => "content_too_large",
        Some(ModelError::Internal(_)) => "internal",
        None if record.cancelled => "cancelled",
        None if record.served.cached => "cached",
        None => "ok",
    }
}

impl UsageSink for ModelMetrics {
    fn record(&self, record: UsageRecord) {
        let tenant = record.tenant.as_str().to_string();
        self.calls
            .get_or_create(&CallLabels {
                tenant: tenant.clone(),
                alias: record.alias.clone(),
                variant: record.served.variant.clone().unwrap_or_default(),
                outcome: outcome(&record),
            })
            .inc();
        // Cache hits carry the original call's usage but spent nothing.
        if !record.served.cached {
            for (kind, n) in [
                ("input", record.usage.input_tokens),
                ("output", record.usage.output_tokens),
            ] {
                if n > 0 {
                    self.tokens
                        .get_or_create(&TokenLabels {
                            tenant: tenant.clone(),
                            model: record.served.model.clone(),
                            kind,
                        })
                        .inc_by(u64::from(n));
                }
            }
        }
        let alias = AliasLabels {
            tenant,
            alias: record.alias,
        };
        self.duration
            .get_or_create(&alias)
            .observe(record.latency.as_secs_f64());
        if let Some(ttft) = record.time_to_first_token {
            self.first_token
                .get_or_create(&alias)
                .observe(ttft.as_secs_f64());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;
    use std::time::Duration;
    use warden_plugin_model::{Operation, Served, Tenant, Usage};

    fn record(cached: bool, error: Option<ModelError>) -> UsageRecord {
        UsageRecord {
            tenant: Tenant::new("acme").expect("tenant"),
            function: "chat".into(),
            operation: Operation::Complete,
            alias: "chat".into(),
            provider: "builtin".into(),
            served: Served {
                model: "builtin-small".into(),
                variant: Some("v2".into()),
                cached,
                ..Served::default()
            },
            usage: Usage {
                input_tokens: 3,
                output_tokens: 5,
            },
            attempts: 1,
            latency: Duration::from_millis(12),
            time_to_first_token: None,
            error,
            cancelled: false,
        }
    }

    #[test]
    fn tokens_count_only_provider_calls_and_outcomes_name_the_error() {
        let mut registry = Registry::with_prefix("warden");
        let metrics = ModelMetrics::register(&mut registry);
        metrics.record(record(false, None));
        metrics.record(record(true, None));
        metrics.record(record(
            false,
            Some(ModelError::RateLimited {
                retry_after: Duration::from_secs(1),
            }),
        ));
        let mut text = String::new();
        encode(&mut text, &registry).expect("encode");
        let line = |prefix: &str| {
            text.lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("{prefix} missing in\n{text}"))
                .to_string()
        };
        // Two provider calls of 3 input tokens; the cache hit adds none.
        assert!(
            line(r#"warden_model_tokens_total{tenant="acme",model="builtin-small",kind="input"}"#)
                .ends_with(" 6"),
            "{text}"
        );
        for outcome in ["ok", "cached", "rate_limited"] {
            let prefix = format!(
                r#"warden_model_calls_total{{tenant="acme",alias="chat",variant="v2",outcome="{outcome}"}}"#
            );
            assert!(line(&prefix).ends_with(" 1"), "{text}");
        }
    }
}

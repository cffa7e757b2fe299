//! Reporting a run: a human summary and a JSON document.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::errors::TransportError;
use crate::histogram::{Summary, fmt_ms};
use crate::run::{Load, RunResult};

/// The JSON form of a run (`loadgen --json`).
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// How load was offered.
    pub load: Load,
    /// Measured window, seconds.
    pub elapsed_s: f64,
    /// Responses received in the measured window (any status).
    pub responses: u64,
    /// Responses per second.
    pub throughput_rps: f64,
    /// 2xx and 3xx responses.
    pub ok: u64,
    /// 4xx/5xx responses plus requests without a response.
    pub errors: u64,
    /// Latency percentiles, microseconds.
    pub latency: Summary,
    /// Open loop only: time requests waited for a free connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_wait: Option<Summary>,
    /// Responses by status code.
    pub by_status: BTreeMap<u16, u64>,
    /// Failures without a response, by kind.
    pub by_transport: BTreeMap<TransportError, u64>,
    /// Response body bytes received.
    pub body_bytes: u64,
    /// CPU seconds the load generator used, warm-up included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loadgen_cpu_s: Option<f64>,
}

impl RunReport {
    /// Summarizes a run.
    pub fn new(r: &RunResult) -> Self {
        Self {
            load: r.load,
            elapsed_s: r.elapsed.as_secs_f64(),
            responses: r.latencies.len(),
            throughput_rps: r.throughput(),
            ok: r.outcomes.ok(),
            errors: r.outcomes.errors(),
            latency: r.latencies.summary(),
            queue_wait: matches!(r.load, Load::Open { .. }).then(|| r.queue_wait.summary()),
            by_status: r.outcomes.by_status.clone(),
            by_transport: r.outcomes.by_transport.clone(),
            body_bytes: r.body_bytes,
            loadgen_cpu_s: r.client_cpu.map(|d| d.as_secs_f64()),
        }
    }

    /// A few lines for a terminal.
    pub fn text(&self, r: &RunResult) -> String {
        let mut s = String::new();
        let load = match self.load {
            Load::Closed { concurrency } => format!("closed loop, {concurrency} connections"),
            Load::Open { rate, connections } => {
                format!("open loop, {rate} req/s over up to {connections} connections")
            }
        };
        let l = &self.latency;
        let _ = writeln!(s, "load:       {load}, measured {:.2} s", self.elapsed_s);
        let _ = writeln!(
            s,
            "throughput: {:.1} req/s ({} responses, {} bytes of body)",
            self.throughput_rps, self.responses, self.body_bytes
        );
        let _ = writeln!(
            s,
            "latency:    p50 {}  p95 {}  p99 {}  p99.9 {}  max {}  mean {:.3} ms",
            fmt_ms(l.p50_us),
            fmt_ms(l.p95_us),
            fmt_ms(l.p99_us),
            fmt_ms(l.p999_us),
            fmt_ms(l.max_us),
            l.mean_us / 1000.0
        );
        if let Some(q) = &self.queue_wait {
            let _ = writeln!(
                s,
                "queue wait: p50 {}  p99 {}  max {} (due time to send)",
                fmt_ms(q.p50_us),
                fmt_ms(q.p99_us),
                fmt_ms(q.max_us)
            );
        }
        let statuses: Vec<String> = self
            .by_status
            .iter()
            .map(|(c, n)| format!("{c}={n}"))
            .collect();
        let _ = writeln!(
            s,
            "statuses:   {}",
            if statuses.is_empty() {
                "none".into()
            } else {
                statuses.join(", ")
            }
        );
        let _ = writeln!(
            s,
            "errors:     {} ({})",
            self.errors,
            r.outcomes.errors_line()
        );
        if let Some(cpu) = self.loadgen_cpu_s {
            let per_req = if self.responses > 0 {
                cpu * 1e6 / self.responses as f64
            } else {
                0.0
            };
            let _ = writeln!(
                s,
                "loadgen:    {cpu:.2} s of CPU, warm-up included ({per_req:.1} us per measured response)"
            );
        }
        s
    }
}

//! Alternating rounds: every contestant gets a warm-up and a measured run
//! per round, in turn (A B A B), so drift over the run hits all of them.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;

use super::process::ServerProcess;
use super::table::{Figures, Row, Table};
use crate::client::RequestTemplate;
use crate::errors::Outcomes;
use crate::histogram::{Latencies, fmt_ms};
use crate::run::{Load, RunResult, RunSpec, run};
use crate::target::Target;

/// How each run offers load.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// Closed or open loop.
    pub load: Load,
    /// Measured time per run.
    pub duration: Duration,
    /// Unmeasured warm-up before each measured run.
    pub warmup: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Rounds.
    pub rounds: usize,
    /// Load generator threads.
    pub threads: usize,
}

/// One server and what to send it.
pub struct Contestant<'a> {
    /// Row label.
    pub label: String,
    /// The server process (for its CPU time).
    pub process: &'a ServerProcess,
    /// Targets; each request picks one at random.
    pub targets: Arc<[Target]>,
    /// Method, headers and body.
    pub request: RequestTemplate,
}

/// Everything measured for one contestant over all rounds.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Latencies of all measured responses.
    pub latencies: Latencies,
    /// Statuses and failures.
    pub outcomes: Outcomes,
    /// Sum of measured windows.
    pub elapsed: Duration,
    /// Server CPU time during measured windows.
    pub cpu: Duration,
    /// Load generator CPU time during measured windows.
    pub client_cpu: Duration,
    /// Throughput of each round.
    pub round_rps: Vec<f64>,
}

impl Tally {
    /// The table figures: throughput over all rounds, merged percentiles,
    /// CPU per response.
    pub fn figures(&self) -> Figures {
        let n = self.latencies.len();
        let s = self.latencies.summary();
        let secs = self.elapsed.as_secs_f64();
        Figures {
            rps: (secs > 0.0).then(|| n as f64 / secs),
            p50_us: (n > 0).then_some(s.p50_us as f64),
            p95_us: (n > 0).then_some(s.p95_us as f64),
            p99_us: (n > 0).then_some(s.p99_us as f64),
            max_us: (n > 0).then_some(s.max_us as f64),
            cpu_per_req_us: (n > 0).then(|| self.cpu.as_secs_f64() * 1e6 / n as f64),
            count: n,
            errors: self.outcomes.errors(),
        }
    }

    /// `loadgen 8.1 us/req; req/s per round: 10123 10456 9987`.
    pub fn rounds_note(&self) -> String {
        let n = self.latencies.len();
        let mut note = if n > 0 {
            format!(
                "loadgen CPU {:.1} us/req",
                self.client_cpu.as_secs_f64() * 1e6 / n as f64
            )
        } else {
            String::new()
        };
        if self.round_rps.len() >= 2 {
            let list: Vec<String> = self.round_rps.iter().map(|r| format!("{r:.0}")).collect();
            note = format!("{note}; req/s per round: {}", list.join(" "));
        }
        note
    }
}

/// Runs `plan.rounds` rounds over `contestants`; a contestant whose run
/// fails keeps its error and is left out of later rounds.
pub fn alternate(
    clk_tck: u64,
    plan: &LoadPlan,
    contestants: &[Contestant<'_>],
) -> Vec<Result<Tally>> {
    let mut tallies: Vec<Result<Tally>> =
        contestants.iter().map(|_| Ok(Tally::default())).collect();
    for round in 1..=plan.rounds {
        for (c, slot) in contestants.iter().zip(tallies.iter_mut()) {
            let Ok(tally) = slot else { continue };
            match one_run(clk_tck, plan, c, tally) {
                Ok(round_result) => eprintln!(
                    "  round {round}/{}: {:<28} {:>9.0} req/s  p50 {}  p99 {}  errors {}",
                    plan.rounds,
                    c.label,
                    round_result.throughput(),
                    fmt_ms(round_result.latencies.summary().p50_us),
                    fmt_ms(round_result.latencies.summary().p99_us),
                    round_result.outcomes.errors_line()
                ),
                Err(e) => *slot = Err(e.context(format!("{} (round {round})", c.label))),
            }
        }
    }
    tallies
}

/// Adds a row per contestant to `table` (its figures, or why it failed)
/// and returns the figures in contestant order, for the ratio rows.
pub fn record(
    table: &mut Table,
    contestants: &[Contestant<'_>],
    tallies: Vec<Result<Tally>>,
) -> Vec<Option<Figures>> {
    let mut figures = Vec::new();
    for (c, t) in contestants.iter().zip(tallies) {
        match t {
            Ok(t) => {
                figures.push(Some(t.figures()));
                table.rows.push(Row::Measured {
                    label: c.label.clone(),
                    figures: t.figures(),
                    note: t.rounds_note(),
                });
            }
            Err(e) => {
                figures.push(None);
                table.rows.push(Row::Failed {
                    label: c.label.clone(),
                    reason: format!("{e:#}"),
                });
            }
        }
    }
    figures
}

/// One warm-up and one measured run of `c`, added to `tally`.
pub fn one_run(
    clk_tck: u64,
    plan: &LoadPlan,
    c: &Contestant<'_>,
    tally: &mut Tally,
) -> Result<RunResult> {
    let spec = |duration| RunSpec {
        targets: Arc::clone(&c.targets),
        request: c.request.clone(),
        load: plan.load,
        duration,
        warmup: Duration::ZERO,
        max_requests: None,
        timeout: plan.timeout,
        seed: tally.round_rps.len() as u64 + 1,
    };
    if !plan.warmup.is_zero() {
        run(spec(plan.warmup), plan.threads)?;
    }
    let cpu_before = c.process.cpu_time(clk_tck)?;
    let result = run(spec(plan.duration), plan.threads)?;
    let cpu_after = c.process.cpu_time(clk_tck)?;
    tally.cpu += cpu_after.saturating_sub(cpu_before);
    tally.client_cpu += result.client_cpu.unwrap_or_default();
    tally.elapsed += result.elapsed;
    tally.latencies.merge(&result.latencies);
    tally.outcomes.merge(&result.outcomes);
    tally.round_rps.push(result.throughput());
    Ok(result)
}

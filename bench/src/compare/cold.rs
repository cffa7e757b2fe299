//! Cold paths on Warden: the first request after a new version is
//! activated, after a restart with the artifact cache warm, and after a
//! restart with the artifact cache removed (so the component must be
//! compiled). Each is sampled `--cold-iterations` times on a fresh
//! connection; a warm request on a fresh connection is the baseline.
//!
//! A restarted node may listen before its routes are loaded and answer
//! non-2xx meanwhile, so restarts report the time from spawning the process
//! to the first 2xx answer, and note what was answered before it.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::context::Ctx;
use super::probe::{expect_ok, get, one_request, wait_until_ok};
use super::table::{Figures, Row, Table};
use super::variants::variant;
use super::warden::{Function, WardenNode};
use crate::histogram::{Latencies, fmt_ms};
use crate::target::Target;

const FIRST_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the scenario and returns its table.
pub fn run(ctx: &mut Ctx) -> Table {
    let n = ctx.cfg.cold_iterations;
    let mut table = Table {
        title: format!("cold paths: first request on a new connection, {n} samples each"),
        rows: Vec::new(),
    };
    if let Err(e) = measure(ctx, &mut table) {
        table.rows.push(Row::Failed {
            label: "warden cold paths".into(),
            reason: format!("{e:#}"),
        });
    }
    table
}

/// Samples, as a row.
fn row(label: &str, samples: &Latencies, extra: &str) -> Row {
    let s = samples.summary();
    Row::Measured {
        label: label.into(),
        figures: Figures {
            p50_us: Some(s.p50_us as f64),
            p95_us: Some(s.p95_us as f64),
            p99_us: Some(s.p99_us as f64),
            max_us: Some(s.max_us as f64),
            count: s.count,
            ..Figures::default()
        },
        note: extra.to_owned(),
    }
}

fn measure(ctx: &mut Ctx, table: &mut Table) -> Result<()> {
    let n = ctx.cfg.cold_iterations;
    let template = std::fs::read(ctx.hello_component()?)?;
    let bin = ctx.warden_bin()?;
    let dir = ctx.cfg.work_dir.join("cold");
    std::fs::create_dir_all(&dir)?;
    let mut node = WardenNode::new(&ctx.cfg, &bin, "warden-cold")?;
    node.start()?;
    let token = node.admin_token()?;
    let target = node.target("bench", "/hello")?;
    deploy_variant(&node, &dir, &template, 0, &token)?;
    wait_until_ok(
        &ctx.rt,
        node.process_mut()?,
        &target,
        Duration::from_secs(60),
    )?;

    // Baseline: a warm function, one request on a new connection.
    let mut warm = Latencies::new();
    for _ in 0..n.max(10) {
        warm.record(expect_ok(&ctx.rt, &target, &get(), FIRST_REQUEST_TIMEOUT)?);
    }
    table.rows.push(row("warm (baseline)", &warm, ""));

    // A new version: deploy returns once it is active; time the next request.
    let mut activated = Latencies::new();
    let mut deploys = Latencies::new();
    for i in 1..=n {
        deploys.record(deploy_variant(&node, &dir, &template, i as u32, &token)?);
        activated.record(first(ctx, &target)?);
    }
    let note = format!("deploy p50 {}", fmt_ms(deploys.summary().p50_us));
    table
        .rows
        .push(row("after activating a new version", &activated, &note));

    // Restarts: with the artifact cache warm, then with it removed so the
    // component must be compiled again.
    let artifacts = node.data_dir.join(&ctx.cfg.args.warden_artifact_dir);
    for (label, clear) in [
        ("restart, artifact cache warm: start to first 2xx", None),
        (
            "restart, artifact must compile: start to first 2xx",
            Some(artifacts.as_path()),
        ),
    ] {
        match restarts(ctx, &mut node, &target, clear) {
            Ok(r) => table.rows.push(row(label, &r.to_first_ok, &r.note())),
            Err(e) => table.rows.push(Row::Failed {
                label: label.into(),
                reason: format!("{e:#}"),
            }),
        }
    }
    node.stop()
}

/// Writes variant `i` of the template and deploys it as `bench`'s `hello`.
fn deploy_variant(
    node: &WardenNode,
    dir: &Path,
    template: &[u8],
    i: u32,
    token: &str,
) -> Result<Duration> {
    let wasm = dir.join(format!("hello-v{i}.wasm"));
    std::fs::write(&wasm, variant(template, i))
        .with_context(|| format!("writing {}", wasm.display()))?;
    let manifest = dir.join(format!("hello-v{i}.toml"));
    let f = Function {
        name: "hello".into(),
        component: wasm,
        route: "/hello".into(),
    };
    WardenNode::write_manifest(&manifest, "bench", &[f])?;
    node.deploy(&manifest, token)
}

/// One request on a new connection, which must succeed.
fn first(ctx: &Ctx, target: &Target) -> Result<Duration> {
    expect_ok(&ctx.rt, target, &get(), FIRST_REQUEST_TIMEOUT)
}

/// What the restarts measured.
#[derive(Default)]
struct Restarts {
    /// Spawn to listening.
    to_listen: Latencies,
    /// Spawn to the first 2xx answer.
    to_first_ok: Latencies,
    /// Latency of the first request after listening, whatever it answered.
    first_request: Latencies,
    /// Answers other than 2xx (status, count) before the first 2xx.
    not_ok: std::collections::BTreeMap<String, u64>,
}

impl Restarts {
    fn note(&self) -> String {
        let mut note = format!(
            "listening after p50 {}; first request after listening took p50 {}",
            fmt_ms(self.to_listen.summary().p50_us),
            fmt_ms(self.first_request.summary().p50_us)
        );
        if !self.not_ok.is_empty() {
            let list: Vec<String> = self
                .not_ok
                .iter()
                .map(|(k, n)| format!("{k} x{n}"))
                .collect();
            note = format!("{note}; answered {} before the first 2xx", list.join(", "));
        }
        note
    }
}

/// Restarts the node `cold_iterations` times, removing `clear` first if
/// given. After each start, requests (each on a new connection) are
/// repeated until one is answered 2xx.
fn restarts(
    ctx: &Ctx,
    node: &mut WardenNode,
    target: &Target,
    clear: Option<&Path>,
) -> Result<Restarts> {
    let mut r = Restarts::default();
    for _ in 0..ctx.cfg.cold_iterations {
        node.stop()?;
        if let Some(dir) = clear {
            if !dir.exists() {
                bail!(
                    "no artifact cache at {} (set --warden-artifact-dir to its path in the data dir)",
                    dir.display()
                );
            }
            std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
        }
        let spawned = Instant::now();
        r.to_listen.record(node.start()?);
        let mut first = true;
        loop {
            let outcome = ctx
                .rt
                .block_on(one_request(target, &get(), FIRST_REQUEST_TIMEOUT));
            let ok = match outcome {
                Ok((answer, took)) => {
                    if first {
                        r.first_request.record(took);
                    }
                    if (200..300).contains(&answer.status) {
                        true
                    } else {
                        *r.not_ok.entry(answer.status.to_string()).or_default() += 1;
                        false
                    }
                }
                Err(e) => {
                    *r.not_ok.entry(format!("{e:#}")).or_default() += 1;
                    false
                }
            };
            first = false;
            if ok {
                r.to_first_ok.record(spawned.elapsed());
                break;
            }
            if spawned.elapsed() > FIRST_REQUEST_TIMEOUT {
                bail!(
                    "no 2xx within {FIRST_REQUEST_TIMEOUT:?} of a restart; see {}",
                    node.process()?.log().display()
                );
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    Ok(r)
}

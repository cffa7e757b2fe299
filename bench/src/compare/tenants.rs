//! Many tenants: N distinct components (variants of the hello component,
//! each with its own hash) deployed as N tenants on one node, then random
//! traffic across all of them. Reports throughput, latency, CPU, the node's
//! RSS and how long the deploys took.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};

use super::context::Ctx;
use super::measure::{Contestant, alternate};
use super::probe::{get, wait_until_ok};
use super::table::{Row, Table};
use super::variants::variant;
use super::warden::{Deployer, Function, WardenNode};

/// Runs the scenario for every `--tenants` count and returns one table.
pub fn run(ctx: &mut Ctx) -> Table {
    let mut table = Table {
        title: format!(
            "many tenants: random traffic across all ({})",
            ctx.plan_text()
        ),
        rows: Vec::new(),
    };
    for n in ctx.cfg.tenants.clone() {
        let label = format!("warden, {n} tenants");
        eprintln!("{label}: generating and deploying");
        let row = match measure(ctx, n) {
            Ok((figures, note)) => Row::Measured {
                label,
                figures,
                note,
            },
            Err(e) => Row::Failed {
                label,
                reason: format!("{e:#}"),
            },
        };
        table.rows.push(row);
    }
    table
}

fn tenant(i: u32) -> String {
    format!("t{i:05}")
}

fn measure(ctx: &mut Ctx, n: u32) -> Result<(super::table::Figures, String)> {
    let template = std::fs::read(ctx.hello_component()?)?;
    let bin = ctx.warden_bin()?;
    let dir = ctx.cfg.work_dir.join(format!("tenants-{n}"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let manifests = generate(&dir, &template, n)?;

    let mut node = WardenNode::new(&ctx.cfg, &bin, &format!("warden-tenants-{n}"))?;
    node.start()?;
    let token = node.admin_token()?;
    let parallel = ctx.cfg.args.deploy_parallelism.max(1);
    let started = Instant::now();
    deploy_all(&node.deployer(), &manifests, &token, parallel)?;
    let deploy_time = started.elapsed();
    let rss_deployed = node.process()?.rss_bytes()?;

    let targets = (0..n)
        .map(|i| node.target(&tenant(i), "/hello"))
        .collect::<Result<Vec<_>>>()?;
    let first = targets.first().cloned().context("no tenants")?;
    wait_until_ok(
        &ctx.rt,
        node.process_mut()?,
        &first,
        Duration::from_secs(60),
    )?;
    let contestant = Contestant {
        label: format!("warden, {n} tenants"),
        process: node.process()?,
        targets: Arc::from(targets),
        request: get(),
    };
    let tally = alternate(ctx.clk_tck, &ctx.plan(), std::slice::from_ref(&contestant))
        .pop()
        .context("no result")??;
    let rss_loaded = node.process()?.rss_bytes()?;
    node.stop()?;
    // Generated components and data dirs of 10,000 tenants take gigabytes.
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&node.data_dir);

    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let mut note = format!(
        "deploys took {:.1} s ({:.1} ms each, {parallel} at a time); RSS {:.0} MiB after deploys, {:.0} MiB after load",
        deploy_time.as_secs_f64(),
        deploy_time.as_secs_f64() * 1000.0 / f64::from(n.max(1)),
        mib(rss_deployed),
        mib(rss_loaded),
    );
    let rounds = tally.rounds_note();
    if !rounds.is_empty() {
        note = format!("{note}; {rounds}");
    }
    Ok((tally.figures(), note))
}

/// Writes variant `i` and a one-function manifest for tenant `i`, for all
/// `i < n`; returns the manifest paths.
fn generate(dir: &Path, template: &[u8], n: u32) -> Result<Vec<PathBuf>> {
    (0..n)
        .map(|i| {
            let wasm = dir.join(format!("{}.wasm", tenant(i)));
            std::fs::write(&wasm, variant(template, i))
                .with_context(|| format!("writing {}", wasm.display()))?;
            let manifest = dir.join(format!("{}.toml", tenant(i)));
            let f = Function {
                name: "hello".into(),
                component: wasm,
                route: "/hello".into(),
            };
            WardenNode::write_manifest(&manifest, &tenant(i), &[f])?;
            Ok(manifest)
        })
        .collect()
}

/// Deploys every manifest, `parallel` at a time; stops at the first failure.
fn deploy_all(node: &Deployer, manifests: &[PathBuf], token: &str, parallel: usize) -> Result<()> {
    let next = AtomicUsize::new(0);
    let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..parallel {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(m) = manifests.get(i) else { break };
                    if failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                        break;
                    }
                    if let Err(e) = node.deploy(m, token) {
                        if let Ok(mut f) = failure.lock() {
                            f.get_or_insert(e);
                        }
                        break;
                    }
                    if (i + 1).is_multiple_of(1000) {
                        eprintln!("  deployed {}/{}", i + 1, manifests.len());
                    }
                }
            });
        }
    });
    match failure.into_inner() {
        Ok(None) => Ok(()),
        Ok(Some(e)) => Err(e),
        Err(_) => Err(anyhow!("a deploy thread panicked")),
    }
}

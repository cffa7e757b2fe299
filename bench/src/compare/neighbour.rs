//! The neighbour scenario: does one tenant's CPU-burning guest hurt another
//! tenant's latency? Tenant `good` serves hello at a steady open-loop rate;
//! tenant `evil` runs the random-loop guest (`get-random-bytes` in a loop,
//! 300 ms CPU budget) on two connections back to back. Rounds alternate
//! idle and noisy on the same node, and the ratio row compares the
//! neighbour's percentiles (the goal: p99 within 2x of idle).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;

use super::admin::client;
use super::context::{Ctx, checked_component};
use super::measure::{Contestant, LoadPlan, Tally, one_run};
use super::probe::{get, wait_until_ok};
use super::table::{Row, Table};
use super::warden::WardenNode;
use crate::run::{Load, RunSpec, run as run_load};
use crate::target::Target;
use warden_api::{AdminClient, FunctionLimits, PutFunction, PutTenant};

/// Connections the noisy tenant keeps busy.
const NOISE_CONNECTIONS: usize = 2;

/// Runs the scenario and returns its table.
pub fn run(ctx: &mut Ctx) -> Table {
    let mut table = Table {
        title: format!(
            "neighbour: hello at {:.0} req/s (open loop), idle and while {NOISE_CONNECTIONS} \
             random-bytes guests of another tenant burn CPU ({} rounds x {:?})",
            ctx.cfg.neighbour_rate, ctx.cfg.rounds, ctx.cfg.duration
        ),
        rows: Vec::new(),
    };
    if let Err(e) = measure(ctx, &mut table) {
        table.rows.push(Row::Failed {
            label: "warden neighbour".into(),
            reason: format!("{e:#}"),
        });
    }
    table
}

fn measure(ctx: &mut Ctx, table: &mut Table) -> Result<()> {
    let noisy = checked_component(
        &ctx.cfg.random_loop_component,
        "the random-loop test guest (--random-loop-component)",
    )?;
    let hello = ctx.hello_component()?;
    let bin = ctx.warden_bin()?;
    let mut node = WardenNode::new(&ctx.cfg, &bin, "warden-neighbour")?;
    node.start()?;
    let api = client(node.admin, &node.admin_token()?);
    ctx.rt.block_on(deploy(
        &api,
        std::fs::read(&hello)?.into(),
        std::fs::read(&noisy)?.into(),
    ))?;
    let good = node.target("good", "/hello")?;
    let evil = node.target("evil", "/random")?;
    wait_until_ok(&ctx.rt, node.process_mut()?, &good, Duration::from_secs(60))?;

    let plan = LoadPlan {
        load: Load::Open {
            rate: ctx.cfg.neighbour_rate,
            connections: ctx.cfg.concurrency,
        },
        ..ctx.plan()
    };
    let idle = Contestant {
        label: "neighbour hello, idle".into(),
        process: node.process()?,
        targets: Arc::from(vec![good.clone()]),
        request: get(),
    };
    let busy = Contestant {
        label: format!("neighbour hello, {NOISE_CONNECTIONS} noisy guests"),
        process: node.process()?,
        targets: Arc::from(vec![good]),
        request: get(),
    };
    let (mut idle_tally, mut busy_tally) = (Tally::default(), Tally::default());
    let mut noise_total = crate::errors::Outcomes::default();
    for round in 1..=plan.rounds {
        one_run(ctx.clk_tck, &plan, &idle, &mut idle_tally)
            .with_context(|| format!("idle run (round {round})"))?;
        // The noise runs from before the neighbour's warm-up to after its
        // measured window.
        let noise_for = plan.warmup + plan.duration + Duration::from_millis(500);
        let noise = start_noise(evil.clone(), noise_for, plan.timeout);
        std::thread::sleep(Duration::from_millis(200));
        let measured = one_run(ctx.clk_tck, &plan, &busy, &mut busy_tally)
            .with_context(|| format!("noisy run (round {round})"));
        let outcomes = noise
            .join()
            .map_err(|_| anyhow::anyhow!("the noise thread panicked"))??;
        noise_total.merge(&outcomes);
        measured?;
    }
    let (idle_f, busy_f) = (idle_tally.figures(), busy_tally.figures());
    table.rows.push(Row::Measured {
        label: idle.label.clone(),
        figures: idle_f,
        note: idle_tally.rounds_note(),
    });
    table.rows.push(Row::Measured {
        label: busy.label.clone(),
        figures: busy_f,
        note: format!(
            "{}; noise answers: {}",
            busy_tally.rounds_note(),
            noise_total.errors_line()
        ),
    });
    table.rows.push(Row::Ratio {
        label: "noisy / idle (goal: p99 <= 2x)".into(),
        num: busy_f,
        den: idle_f,
    });
    drop((idle, busy));
    node.stop()
}

/// Two closed-loop connections to the noisy guest for `duration`, on a
/// thread of their own; returns what they were answered (504s, mostly).
fn start_noise(
    target: Target,
    duration: Duration,
    timeout: Duration,
) -> std::thread::JoinHandle<Result<crate::errors::Outcomes>> {
    std::thread::spawn(move || {
        let spec = RunSpec {
            targets: Arc::from(vec![target]),
            request: get(),
            load: Load::Closed {
                concurrency: NOISE_CONNECTIONS,
            },
            duration,
            warmup: Duration::ZERO,
            max_requests: None,
            timeout,
            seed: 7,
        };
        Ok(run_load(spec, 1)?.outcomes)
    })
}

/// Tenant `good` with hello, tenant `evil` with the random-loop guest under
/// a 300 ms CPU budget and a deadline it cannot reach first.
async fn deploy(api: &AdminClient, hello: Bytes, noisy: Bytes) -> Result<()> {
    for tenant in ["good", "evil"] {
        api.put_tenant(tenant, &PutTenant::default()).await?;
    }
    let deploys = [
        ("good", "hello", "/hello", FunctionLimits::default(), hello),
        (
            "evil",
            "random",
            "/random",
            FunctionLimits {
                cpu_ms: Some(300),
                timeout_ms: Some(20_000),
                ..FunctionLimits::default()
            },
            noisy,
        ),
    ];
    for (tenant, name, route, limits, bytes) in deploys {
        let spec = PutFunction {
            routes: vec![route.into()],
            limits,
            ..PutFunction::default()
        };
        api.put_function(tenant, name, &spec).await?;
        let uploaded = api.upload(tenant, name, bytes).await?;
        api.activate(tenant, name, &uploaded.version.digest).await?;
    }
    Ok(())
}

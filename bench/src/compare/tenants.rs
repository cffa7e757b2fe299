//! Many tenants: N distinct components (variants of the hello component,
//! each with its own hash) deployed as N tenants on one node through the
//! admin API, then random traffic across all of them. Reports throughput,
//! latency, CPU, the node's RSS and how long the deploys took.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;

use super::admin::{FunctionDeploy, client, deploy_many};
use super::context::Ctx;
use super::measure::{Contestant, alternate};
use super::probe::{get, wait_until_ok};
use super::table::{Row, Table};
use super::variants::variant;
use super::warden::WardenNode;
use warden_api::FunctionLimits;

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
    let template = Bytes::from(std::fs::read(ctx.hello_component()?)?);
    let bin = ctx.warden_bin()?;
    let mut node = WardenNode::new(&ctx.cfg, &bin, &format!("warden-tenants-{n}"))?;
    node.start()?;
    let api = client(node.admin, &node.admin_token()?);
    let parallel = ctx.cfg.args.deploy_parallelism.max(1);
    let count = usize::try_from(n)?;
    // Each variant is built when its turn comes: 10,000 of them never sit
    // in memory or on disk together.
    let deploy_time = ctx
        .rt
        .block_on(deploy_many(&api, count, parallel, 1000, move |i| {
            let i = u32::try_from(i)?;
            Ok(FunctionDeploy {
                tenant: tenant(i),
                function: "hello".into(),
                routes: vec!["/hello".into()],
                limits: FunctionLimits::default(),
                component: Bytes::from(variant(&template, i)),
            })
        }))?;
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
    // The data dir of 10,000 tenants takes gigabytes.
    let _ = std::fs::remove_dir_all(&node.data_dir);

    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let secs = deploy_time.as_secs_f64();
    let mut note = format!(
        "deploys took {secs:.1} s ({:.1} tenants/s, {parallel} at a time through the admin API); RSS {:.0} MiB after deploys, {:.0} MiB after load",
        f64::from(n) / secs.max(1e-9),
        mib(rss_deployed),
        mib(rss_loaded),
    );
    let rounds = tally.rounds_note();
    if !rounds.is_empty() {
        note = format!("{note}; {rounds}");
    }
    Ok((tally.figures(), note))
}

//! The seed scenario: synthetic tenants at realistic cardinality, loaded
//! through Warden itself, then CRUD traffic.
//!
//! On one fresh node, the todo example (examples/todo-api: kv, read-through
//! cache, per-client write limits) is deployed for `--seed-tenants` tenants
//! through the admin API; `--seed-documents` todos from `--seed-users`
//! synthetic users (both times `--scale`) are created with `POST /todos`
//! (see [`super::crud`]); then the CRUD mix runs closed loop for
//! `--crud-duration`. One row for the seeding, one per operation, one for
//! all operations together. The data dir is removed afterwards.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};
use bytes::Bytes;
use http::header::HeaderValue;

use super::admin::{FunctionDeploy, client, deploy_many};
use super::context::{Ctx, checked_component};
use super::crud::{Crud, CrudTally, Endpoint, Mix, Op, Seeded, Size, seed, tenant_name};
use super::measure::LoadPlan;
use super::probe::wait_until_ok;
use super::table::{Figures, Row, Table};
use super::warden::WardenNode;
use crate::errors::Outcomes;
use crate::histogram::Latencies;
use crate::run::Load;
use warden_api::FunctionLimits;

/// Runs the scenario and returns its table.
pub fn run(ctx: &mut Ctx) -> Table {
    let mut table = Table {
        title: "seed: the todo example loaded through Warden, then a CRUD mix".into(),
        rows: Vec::new(),
    };
    if let Err(e) = measure(ctx, &mut table) {
        table.rows.push(Row::Failed {
            label: "seed".into(),
            reason: format!("{e:#}"),
        });
    }
    table
}

/// A row from latencies and outcomes over `elapsed`.
fn figures(latencies: &Latencies, outcomes: &Outcomes, elapsed: Duration) -> Figures {
    let n = latencies.len();
    let s = latencies.summary();
    let secs = elapsed.as_secs_f64();
    let some = |v: u64| (n > 0).then_some(v as f64);
    Figures {
        rps: (secs > 0.0).then(|| n as f64 / secs),
        p50_us: some(s.p50_us),
        p95_us: some(s.p95_us),
        p99_us: some(s.p99_us),
        max_us: some(s.max_us),
        cpu_per_req_us: None,
        count: n,
        errors: outcomes.errors(),
    }
}

/// `errors by status: 412=3, 429=1` when there are any.
fn errors_note(outcomes: &Outcomes) -> String {
    if outcomes.errors() == 0 {
        String::new()
    } else {
        format!("by status: {}", outcomes.errors_line())
    }
}

fn join(parts: &[String]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("; ")
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn measure(ctx: &mut Ctx, table: &mut Table) -> Result<()> {
    let args = ctx.cfg.args.clone();
    let size = Size::scaled(
        args.seed_tenants,
        args.seed_users,
        args.seed_documents,
        ctx.cfg.scale,
    )?;
    let mix: Mix = args.crud_mix.parse()?;
    let plan = ctx.plan();
    let connections = match plan.load {
        Load::Closed { concurrency } => concurrency,
        Load::Open { .. } => bail!("the seed scenario runs closed loop only (drop --rate)"),
    };
    table.title = format!(
        "seed: todo example, {} tenants, {} users, {} documents (scale {}), seeded {} at a time; then CRUD mix {mix}, closed loop, {connections} connections, {:?} (+{:?} warm-up)",
        size.tenants,
        size.users,
        size.documents,
        ctx.cfg.scale,
        args.seed_concurrency,
        ctx.cfg.crud_duration,
        plan.warmup,
    );
    let component = Bytes::from(std::fs::read(checked_component(
        &ctx.cfg.todo_component,
        "the todo example (--todo-component)",
    )?)?);
    let bin = ctx.warden_bin()?;
    let mut node = WardenNode::new(&ctx.cfg, &bin, "warden-seed")?;
    node.start()?;

    // Deploy.
    let api = client(node.admin, &node.admin_token()?);
    let tenants = size.tenants;
    eprintln!("seed: deploying the todo example to {tenants} tenants");
    let deploy_time = ctx.rt.block_on(deploy_many(
        &api,
        tenants as usize,
        args.deploy_parallelism,
        1000,
        move |i| {
            Ok(FunctionDeploy {
                tenant: tenant_name(u32::try_from(i)?),
                function: "todos".into(),
                routes: vec!["/todos".into()],
                // As examples/warden.toml deploys it.
                limits: FunctionLimits {
                    memory_mb: Some(64),
                    cpu_ms: Some(50),
                    timeout_ms: Some(5000),
                    max_body_kb: Some(32),
                    max_response_kb: None,
                },
                component: component.clone(),
            })
        },
    ))?;
    let port = node.listen.port();
    let hosts = (0..tenants)
        .map(|t| HeaderValue::from_str(&format!("{}.localhost:{port}", tenant_name(t))))
        .collect::<Result<Vec<_>, _>>()?;
    for t in 0..tenants {
        let probe = node.target(&tenant_name(t), "/todos?limit=1")?;
        wait_until_ok(
            &ctx.rt,
            node.process_mut()?,
            &probe,
            Duration::from_secs(60),
        )?;
    }
    let ep = Endpoint {
        connect: node.listen,
        hosts,
        timeout: args.timeout,
    };

    // Seed.
    eprintln!(
        "seed: creating {} documents for {} users, {} at a time",
        size.documents, size.users, args.seed_concurrency
    );
    let cpu0 = node.process()?.cpu_time(ctx.clk_tck)?;
    let seeded = seed(
        size,
        ep.clone(),
        args.rng_seed,
        args.seed_concurrency,
        plan.threads,
    )?;
    let seed_cpu = node.process()?.cpu_time(ctx.clk_tck)?.saturating_sub(cpu0);
    let rss_seeded = node.process()?.rss_bytes()?;
    let kv_bytes = std::fs::metadata(node.data_dir.join("kv.redb")).map_or(0, |m| m.len());
    table.rows.push(seed_row(
        &seeded,
        size,
        seed_cpu,
        deploy_time,
        rss_seeded,
        kv_bytes,
    ));
    if seeded.created() == 0 {
        bail!(
            "seeding created nothing: {}",
            seeded.first_failure.as_deref().unwrap_or("no answer")
        );
    }

    // CRUD mix: an unmeasured warm-up, then the measured run.
    eprintln!("seed: CRUD mix {mix} for {:?}", ctx.cfg.crud_duration);
    let crud = Arc::new(Crud::new(size, ep, mix, args.rng_seed, seeded.ids));
    if !plan.warmup.is_zero() {
        crud.run(connections, plan.warmup, plan.threads, 0)?;
    }
    let cpu0 = node.process()?.cpu_time(ctx.clk_tck)?;
    let tally = crud.run(connections, ctx.cfg.crud_duration, plan.threads, 1)?;
    let crud_cpu = node.process()?.cpu_time(ctx.clk_tck)?.saturating_sub(cpu0);
    let rss_loaded = node.process()?.rss_bytes()?;
    crud_rows(table, &tally, &mix, crud_cpu, rss_loaded);
    eprintln!("{}", summary_lines(&tally, &plan));

    node.stop()?;
    let _ = std::fs::remove_dir_all(&node.data_dir);
    Ok(())
}

fn seed_row(
    seeded: &Seeded,
    size: Size,
    cpu: Duration,
    deploy_time: Duration,
    rss: u64,
    kv_bytes: u64,
) -> Row {
    let created = seeded.created();
    let mut figures = figures(&seeded.latencies, &seeded.outcomes, seeded.elapsed);
    // Documents created per second, over the whole seeding time.
    figures.rps = Some(created as f64 / seeded.elapsed.as_secs_f64().max(1e-9));
    figures.count = created;
    figures.cpu_per_req_us = (created > 0).then(|| cpu.as_secs_f64() * 1e6 / created as f64);
    let secs = seeded.elapsed.as_secs_f64();
    let note = join(&[
        errors_note(&seeded.outcomes),
        seeded
            .first_failure
            .as_ref()
            .map(|f| format!("first failure: {f}"))
            .unwrap_or_default(),
        format!(
            "{created}/{} documents in {secs:.1} s ({:.0} docs/s)",
            size.documents,
            created as f64 / secs.max(1e-9)
        ),
        format!(
            "429s retried: {}, transport failures retried: {}",
            seeded.retried_429, seeded.retried_transport
        ),
        format!(
            "{} tenants deployed in {:.2} s",
            size.tenants,
            deploy_time.as_secs_f64()
        ),
        format!(
            "after seeding: RSS {:.0} MiB, kv.redb {:.0} MiB",
            mib(rss),
            mib(kv_bytes)
        ),
    ]);
    Row::Measured {
        label: "seeding: POST /todos (req/s = documents/s)".into(),
        figures,
        note,
    }
}

fn crud_rows(table: &mut Table, tally: &CrudTally, mix: &Mix, cpu: Duration, rss: u64) {
    let total = mix.total();
    for op in Op::ALL {
        if mix.weight(op) == 0 {
            continue;
        }
        let i = op as usize;
        let (l, o) = (&tally.latencies[i], &tally.outcomes[i]);
        table.rows.push(Row::Measured {
            label: format!(
                "crud {} ({}%): {}",
                op.name(),
                (f64::from(mix.weight(op)) * 100.0 / f64::from(total)).round(),
                op.request()
            ),
            figures: figures(l, o, tally.elapsed),
            note: errors_note(o),
        });
    }
    let (l, o) = tally.all();
    let mut all = figures(&l, &o, tally.elapsed);
    all.cpu_per_req_us = (all.count > 0).then(|| cpu.as_secs_f64() * 1e6 / all.count as f64);
    let mut note = vec![errors_note(&o)];
    if o.by_status.contains_key(&429) {
        note.push(
            "429: the example's per-client write limit (20/s); few users at small scales".into(),
        );
    }
    note.push(format!("RSS {:.0} MiB after the mix", mib(rss)));
    table.rows.push(Row::Measured {
        label: "crud: all operations".into(),
        figures: all,
        note: join(&note),
    });
}

/// One progress line per operation for stderr.
fn summary_lines(tally: &CrudTally, plan: &LoadPlan) -> String {
    let secs = tally.elapsed.as_secs_f64().max(1e-9);
    let mut lines = vec![format!(
        "  CRUD mix over {secs:.1} s on {} loadgen threads:",
        plan.threads
    )];
    for op in Op::ALL {
        let l = &tally.latencies[op as usize];
        if l.is_empty() {
            continue;
        }
        let s = l.summary();
        lines.push(format!(
            "  {:<7} {:>8.0} req/s  p50 {:.3} ms  p99 {:.3} ms  errors {}",
            op.name(),
            l.len() as f64 / secs,
            s.p50_us as f64 / 1000.0,
            s.p99_us as f64 / 1000.0,
            tally.outcomes[op as usize].errors_line()
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_of_nothing_are_blank() {
        let f = figures(&Latencies::new(), &Outcomes::default(), Duration::ZERO);
        assert_eq!((f.rps, f.p50_us, f.count, f.errors), (None, None, 0, 0));
        assert_eq!(errors_note(&Outcomes::default()), "");
        assert_eq!(join(&["a".into(), String::new(), "b".into()]), "a; b");
    }
}

//! The comparison command: servers, scenarios, alternating measurement and
//! the table.
//!
//! Everything runs on this machine: each server is a child process bound to
//! 127.0.0.1, and the load generator runs inside the `compare` process on
//! its own tokio runtime, so load generator and server share the cores
//! (the tables say so). Server CPU per request comes from /proc/PID/stat
//! before and after each measured run.

pub mod admin;
pub mod cold;
pub mod config;
pub mod context;
pub mod crud;
pub mod full;
pub mod hello;
pub mod json;
pub mod measure;
pub mod model;
pub mod neighbour;
pub mod probe;
pub mod process;
pub mod seed;
pub mod table;
pub mod tenants;
pub mod variants;
pub mod warden;
pub mod wasmtime_cli;

use anyhow::Result;

use config::{CompareArgs, Config, Scenario};
use context::Ctx;
use table::{Row, Table};

/// Runs the scenarios and prints their tables; `Ok(false)` if a row failed
/// or a table measured nothing.
pub fn run(args: CompareArgs) -> Result<bool> {
    let cfg = Config::resolve(args)?;
    std::fs::create_dir_all(&cfg.work_dir)?;
    let mut ctx = Ctx::new(cfg)?;
    println!("{}", ctx.preamble());
    let mut ok = true;
    for scenario in ctx.cfg.scenarios.clone() {
        let table = match scenario {
            Scenario::Hello => hello::run(&mut ctx),
            Scenario::Json => json::run(&mut ctx),
            Scenario::Cold => cold::run(&mut ctx),
            Scenario::Tenants => tenants::run(&mut ctx),
            Scenario::Seed => seed::run(&mut ctx),
            Scenario::Full => full::run(&mut ctx),
            Scenario::Neighbour => neighbour::run(&mut ctx),
            Scenario::Model => model::run(&mut ctx),
            Scenario::All => continue,
        };
        println!("{}", table.render());
        ok &= table_ok(&table);
    }
    Ok(ok)
}

/// A table passes when nothing failed and something was measured.
fn table_ok(t: &Table) -> bool {
    let failed = t.rows.iter().any(Row::is_failure);
    let measured = t.rows.iter().any(|r| matches!(r, Row::Measured { .. }));
    let all_skipped = t.rows.iter().all(|r| matches!(r, Row::Skipped { .. }));
    !failed && (measured || all_skipped)
}

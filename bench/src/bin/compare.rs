//! `compare`: the one comparison command of bench/README.md.
//!
//! Run with: `cargo run --release -p warden-bench --bin compare` (add
//! `--smoke` for the CI version).
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use warden_bench::compare::{self, config::CompareArgs};

fn main() -> ExitCode {
    match compare::run(CompareArgs::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("compare: some rows failed (see the tables above)");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("compare: {e:#}");
            ExitCode::FAILURE
        }
    }
}

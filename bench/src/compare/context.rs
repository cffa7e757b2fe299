//! What every scenario shares: settings, the load generator's runtime, and
//! the located server binaries.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};
use tokio::runtime::Runtime;

use super::config::Config;
use super::measure::LoadPlan;
use super::variants::is_component;
use super::{warden, wasmtime_cli};
use crate::procfs;
use crate::run::Load;

/// Whether `wasmtime serve` can be measured.
#[derive(Debug, Clone)]
pub enum Wasmtime {
    /// The binary to run.
    Ready(PathBuf),
    /// Not installed and not to be installed now.
    Skip(String),
    /// Installing or checking it failed.
    Failed(String),
}

/// Shared state of one `compare` invocation.
pub struct Ctx {
    /// Settings.
    pub cfg: Config,
    /// Runtime of single requests (the load runs start their own).
    pub rt: Runtime,
    /// Clock ticks per second of /proc CPU times.
    pub clk_tck: u64,
    warden: Option<Result<PathBuf, String>>,
    wasmtime: Option<Wasmtime>,
}

impl Ctx {
    /// Builds the runtime of single requests (probes, cold paths).
    pub fn new(cfg: Config) -> Result<Self> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Self {
            rt,
            clk_tck: procfs::clk_tck(),
            cfg,
            warden: None,
            wasmtime: None,
        })
    }

    /// How every measured run offers load.
    pub fn plan(&self) -> LoadPlan {
        let load = match self.cfg.args.rate {
            Some(rate) => Load::Open {
                rate,
                connections: self.cfg.concurrency,
            },
            None => Load::Closed {
                concurrency: self.cfg.concurrency,
            },
        };
        LoadPlan {
            load,
            duration: self.cfg.duration,
            warmup: self.cfg.warmup,
            timeout: self.cfg.args.timeout,
            rounds: self.cfg.rounds,
            threads: self
                .cfg
                .args
                .loadgen_threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from)),
        }
    }

    /// `closed loop, 32 connections, 3 rounds x 5s (+1s warm-up)`.
    pub fn plan_text(&self) -> String {
        let p = self.plan();
        let load = match p.load {
            Load::Closed { concurrency } => format!("closed loop, {concurrency} connections"),
            Load::Open { rate, connections } => {
                format!("open loop, {rate} req/s, up to {connections} connections")
            }
        };
        format!(
            "{load}, {} round(s) x {:?} (+{:?} warm-up) per server",
            p.rounds, p.duration, p.warmup
        )
    }

    /// The `warden` binary (located or built once).
    pub fn warden_bin(&mut self) -> Result<PathBuf> {
        let cfg = &self.cfg;
        let found = self
            .warden
            .get_or_insert_with(|| warden::locate_binary(cfg).map_err(|e| format!("{e:#}")));
        match found {
            Ok(p) => Ok(p.clone()),
            Err(e) => bail!("{e}"),
        }
    }

    /// The `wasmtime` binary: given, cached, or installed now (not in smoke
    /// mode, not with `--no-install`).
    pub fn wasmtime(&mut self) -> Wasmtime {
        if let Some(w) = &self.wasmtime {
            return w.clone();
        }
        let w = self.find_wasmtime();
        self.wasmtime = Some(w.clone());
        w
    }

    fn find_wasmtime(&self) -> Wasmtime {
        let args = &self.cfg.args;
        if let Some(p) = &args.wasmtime {
            return match wasmtime_cli::check_version(p) {
                Ok(()) => Wasmtime::Ready(p.clone()),
                Err(e) => Wasmtime::Failed(format!("{e:#}")),
            };
        }
        let cached = wasmtime_cli::cached_binary(&self.cfg.cache_dir);
        if cached.is_file() {
            return match wasmtime_cli::check_version(&cached) {
                Ok(()) => Wasmtime::Ready(cached),
                Err(e) => Wasmtime::Failed(format!("{e:#}")),
            };
        }
        if args.smoke || args.no_install {
            return Wasmtime::Skip("wasmtime-cli not installed".to_owned());
        }
        let log = self.cfg.work_dir.join("wasmtime-cli-install.log");
        match wasmtime_cli::install(&self.cfg.cache_dir, &log) {
            Ok(p) => Wasmtime::Ready(p),
            Err(e) => Wasmtime::Failed(format!("{e:#}")),
        }
    }

    /// The `--wasmtime-pooling-flags`, or the built-in best flags.
    pub fn pooling_flags(&self) -> Vec<String> {
        match &self.cfg.args.wasmtime_pooling_flags {
            Some(f) => f.split_whitespace().map(str::to_owned).collect(),
            None => wasmtime_cli::POOLING_FLAGS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        }
    }

    /// The wasi-hello component: absolute path, checked to be a component.
    pub fn hello_component(&self) -> Result<PathBuf> {
        checked_component(
            &self.cfg.component,
            "the wasi-hello component (--component)",
        )
    }

    /// Facts for the top of the output: date, commit, machine.
    pub fn preamble(&self) -> String {
        let cmd: Vec<String> = std::env::args().collect();
        let date = command_line("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]);
        let commit = command_line(
            "git",
            &[
                "-C",
                &self.cfg.workspace.to_string_lossy(),
                "rev-parse",
                "--short",
                "HEAD",
            ],
        );
        let dirty = command_line(
            "git",
            &[
                "-C",
                &self.cfg.workspace.to_string_lossy(),
                "status",
                "--porcelain",
                "--untracked-files=no",
            ],
        );
        let cpus = std::thread::available_parallelism().map_or(0, usize::from);
        let model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| {
                c.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, m)| m.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".to_owned());
        let kernel = command_line("uname", &["-r"]).unwrap_or_else(|| "unknown".to_owned());
        format!(
            "## warden-bench compare\n\n\
             - command: `{}`\n\
             - date: {}\n\
             - commit: {}{}\n\
             - machine: {cpus} CPUs ({model}), Linux {kernel}; load generator and servers share these CPUs\n\
             - build: {}\n\
             - load: {}\n",
            cmd.join(" "),
            date.as_deref().unwrap_or("unknown"),
            commit.as_deref().unwrap_or("no commit"),
            if dirty.as_deref().is_some_and(|d| !d.is_empty()) {
                " (with uncommitted changes)"
            } else {
                ""
            },
            if self.cfg.is_release() {
                "release"
            } else {
                "debug (figures are not meaningful)"
            },
            self.plan_text(),
        )
    }
}

/// `path` made absolute, checked to hold a component.
pub fn checked_component(path: &std::path::Path, what: &str) -> Result<PathBuf> {
    let abs = path
        .canonicalize()
        .with_context(|| format!("{what} not found at {}", path.display()))?;
    let bytes = std::fs::read(&abs).with_context(|| format!("reading {}", abs.display()))?;
    if !is_component(&bytes) {
        bail!("{} is not a wasm component", abs.display());
    }
    Ok(abs)
}

/// The trimmed stdout of a command, if it ran and succeeded.
fn command_line(cmd: &str, args: &[&str]) -> Option<String> {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
}

//! The hello scenario: the wasi-hello component under Warden and `wasmtime
//! serve` (defaults and pooling), next to the native hyper handler.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use super::config::Contender;
use super::context::{Ctx, Wasmtime};
use super::measure::{Contestant, alternate};
use super::probe::{get, wait_until_ok};
use super::process::ServerProcess;
use super::table::{Figures, Row, Table};
use super::warden::{Function, WardenNode};
use crate::target::parse_targets;

/// A server that is up, and the URL to hit.
pub struct Running {
    server: Server,
    /// Where to send requests.
    pub target: crate::target::Target,
}

enum Server {
    Plain(ServerProcess),
    Warden(WardenNode),
}

impl Running {
    /// The server process.
    pub fn process(&self) -> Result<&ServerProcess> {
        match &self.server {
            Server::Plain(p) => Ok(p),
            Server::Warden(w) => w.process(),
        }
    }

    /// Stops the server.
    pub fn stop(&mut self) -> Result<()> {
        match &mut self.server {
            Server::Plain(p) => p.stop(Duration::from_secs(10)),
            Server::Warden(w) => w.stop(),
        }
    }
}

/// What starting a contender gave.
enum Launch {
    Up(Box<Running>),
    Skipped(String),
    Failed(String),
}

/// Runs the scenario and returns its table.
pub fn run(ctx: &mut Ctx) -> Table {
    let mut table = Table {
        title: format!("hello: wasi-hello component ({})", ctx.plan_text()),
        rows: Vec::new(),
    };
    let servers = ctx.cfg.servers.clone();
    let mut launched: Vec<(Contender, Launch)> = Vec::new();
    for c in servers {
        eprintln!("starting {}", c.label());
        let l = launch(ctx, c);
        if let Launch::Failed(e) = &l {
            eprintln!("  {} failed to start: {e}", c.label());
        }
        launched.push((c, l));
    }
    let mut measured: Vec<(Contender, Result<Figures>, String)> = Vec::new();
    {
        let mut up = Vec::new();
        let mut contestants = Vec::new();
        for (c, l) in &launched {
            if let Launch::Up(r) = l {
                match r.process() {
                    Ok(p) => {
                        up.push(*c);
                        contestants.push(Contestant {
                            label: c.label().to_owned(),
                            process: p,
                            targets: Arc::from(vec![r.target.clone()]),
                            request: get(),
                        });
                    }
                    Err(e) => measured.push((*c, Err(e), String::new())),
                }
            }
        }
        let tallies = alternate(ctx.clk_tck, &ctx.plan(), &contestants);
        for (c, t) in up.into_iter().zip(tallies) {
            let note = t.as_ref().map(|t| t.rounds_note()).unwrap_or_default();
            measured.push((c, t.map(|t| t.figures()), note));
        }
    }
    let mut figures = Vec::new();
    for (c, l) in &launched {
        let row = match l {
            Launch::Skipped(reason) => Row::Skipped {
                label: c.label().into(),
                reason: reason.clone(),
            },
            Launch::Failed(reason) => Row::Failed {
                label: c.label().into(),
                reason: reason.clone(),
            },
            Launch::Up(_) => match measured.iter().find(|(m, _, _)| m == c) {
                Some((_, Ok(f), note)) => {
                    figures.push((*c, *f));
                    Row::Measured {
                        label: c.label().into(),
                        figures: *f,
                        note: note.clone(),
                    }
                }
                Some((_, Err(e), _)) => Row::Failed {
                    label: c.label().into(),
                    reason: format!("{e:#}"),
                },
                None => Row::Failed {
                    label: c.label().into(),
                    reason: "not measured".into(),
                },
            },
        };
        table.rows.push(row);
    }
    if let Some((_, w)) = figures.iter().find(|(c, _)| *c == Contender::Warden) {
        for (c, f) in &figures {
            if *c != Contender::Warden {
                table.rows.push(Row::Ratio {
                    label: format!("warden / {}", c.label()),
                    num: *w,
                    den: *f,
                });
            }
        }
    }
    for (_, l) in &mut launched {
        if let Launch::Up(r) = l {
            let _ = r.stop();
        }
    }
    table
}

fn launch(ctx: &mut Ctx, c: Contender) -> Launch {
    let result = match c {
        Contender::Native => launch_native(ctx),
        Contender::Warden => match ctx.warden_bin() {
            Ok(bin) => launch_warden(ctx, &bin, "warden-hello"),
            Err(e) => Err(e),
        },
        Contender::Baseline => match ctx.cfg.args.baseline_warden.clone() {
            Some(bin) => launch_warden(ctx, &bin, "warden-baseline-hello"),
            None => return Launch::Skipped("no --baseline-warden given".into()),
        },
        Contender::WasmtimeDefaults | Contender::WasmtimePooling => {
            let bin = match ctx.wasmtime() {
                Wasmtime::Ready(bin) => bin,
                Wasmtime::Skip(reason) => return Launch::Skipped(reason),
                Wasmtime::Failed(reason) => return Launch::Failed(reason),
            };
            let flags = if c == Contender::WasmtimePooling {
                ctx.pooling_flags()
            } else {
                Vec::new()
            };
            launch_wasmtime(ctx, &bin, &flags, c)
        }
    };
    match result {
        Ok(r) => Launch::Up(Box::new(r)),
        Err(e) => Launch::Failed(format!("{e:#}")),
    }
}

/// Starts `native-hello` (next to this binary) on a free port.
fn launch_native(ctx: &mut Ctx) -> Result<Running> {
    let bin = ctx.cfg.bin_dir.join("native-hello");
    let mut cmd = Command::new(&bin);
    cmd.args(["--listen", "127.0.0.1:0"]);
    let mut p = ServerProcess::spawn(
        "native-hello",
        cmd,
        &ctx.cfg.work_dir.join("native-hello.log"),
    )
    .with_context(|| {
        format!(
            "is {} built? `cargo build --release -p warden-bench`",
            bin.display()
        )
    })?;
    let addr = p.wait_for_printed_addr(Duration::from_secs(10))?;
    ready(
        ctx,
        Server::Plain(p),
        &format!("http://{addr}/hello"),
        &addr.to_string(),
    )
}

/// Starts `wasmtime serve -S cli=y FLAGS COMPONENT` on a free port.
fn launch_wasmtime(
    ctx: &mut Ctx,
    bin: &std::path::Path,
    flags: &[String],
    c: Contender,
) -> Result<Running> {
    let component = ctx.hello_component()?;
    let mut cmd = Command::new(bin);
    cmd.args(["serve", "--addr", "127.0.0.1:0", "-S", "cli=y"])
        .args(flags)
        .arg(&component);
    let name = match c {
        Contender::WasmtimePooling => "wasmtime-serve-pooling",
        _ => "wasmtime-serve-defaults",
    };
    let mut p = ServerProcess::spawn(name, cmd, &ctx.cfg.work_dir.join(format!("{name}.log")))?;
    let addr = p.wait_for_printed_addr(Duration::from_secs(120))?;
    ready(
        ctx,
        Server::Plain(p),
        &format!("http://{addr}/hello"),
        &addr.to_string(),
    )
}

/// Starts the Warden node `bin` (as `name`) and deploys the component as
/// `bench`'s `hello`.
fn launch_warden(ctx: &mut Ctx, bin: &std::path::Path, name: &str) -> Result<Running> {
    let component = ctx.hello_component()?;
    let mut node = WardenNode::new(&ctx.cfg, bin, name)?;
    node.start()?;
    let token = node.admin_token()?;
    let manifest = ctx.cfg.work_dir.join(format!("{name}.toml"));
    let f = Function {
        name: "hello".into(),
        component,
        route: "/hello".into(),
    };
    WardenNode::write_manifest(&manifest, "bench", &[f])?;
    node.deploy(&manifest, &token)?;
    let url = format!("http://bench.localhost:{}/hello", node.listen.port());
    let connect = node.listen.to_string();
    ready(ctx, Server::Warden(node), &url, &connect)
}

/// Waits for a 2xx on `url` (connecting to `connect`).
fn ready(ctx: &mut Ctx, mut server: Server, url: &str, connect: &str) -> Result<Running> {
    let target = parse_targets(&[url.to_owned()], Some(connect))?
        .pop()
        .context("no target")?;
    let p = match &mut server {
        Server::Plain(p) => p,
        Server::Warden(w) => w.process_mut()?,
    };
    wait_until_ok(&ctx.rt, p, &target, Duration::from_secs(60))?;
    Ok(Running { server, target })
}

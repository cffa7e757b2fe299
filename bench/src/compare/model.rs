//! The model scenario: what Warden adds to a model call.
//!
//! A `fake-openai` process (the test suite's fake OpenAI-compatible
//! server: real HTTP/1.1 and SSE, eight words per answer) is called
//! directly by the load generator, as a native client of the provider
//! would, and through one Warden node whose `chat` alias points at it:
//!
//! - complete: `POST /complete` of the model-probe component (one
//!   `model.complete`, JSON answer) without a seed (never cached: every
//!   call reaches the fake), with a seed (cached after the first call:
//!   no provider call), and on the builtin deterministic model;
//! - stream: `GET /chat` of the chat example (the model's stream relayed
//!   as SSE, eight chunks) next to a streamed completion straight from
//!   the fake.
//!
//! Derived rows: the overhead per call (p50 through Warden minus p50
//! direct, and Warden's CPU per call), the overhead of a streamed call,
//! and per streamed chunk the difference of the two spread over the eight
//! chunks. CPU/req of the Warden rows is Warden's alone (the fake runs in
//! its own process). Under a closed loop the p50 differences include
//! queueing; `-c 1` measures latency without it, CPU/req is the steadier
//! cost figure.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http::Method;
use http::header::{CONTENT_TYPE, HeaderValue};
use serde_json::{Value, json};

use super::context::{Ctx, checked_component};
use super::measure::{Contestant, alternate, record};
use super::probe::{get, wait_until_ok};
use super::process::ServerProcess;
use super::table::{Figures, Row, Table};
use super::warden::{Function, WardenNode};
use crate::client::{Conn, RequestTemplate};
use crate::target::Target;

const TENANT: &str = "bench";
/// Words (hence SSE chunks) of every answer of the fake.
const CHUNKS: f64 = 8.0;

/// Runs the scenario and returns its table.
pub fn run(ctx: &mut Ctx) -> Table {
    let mut table = Table {
        title: format!(
            "model: calls through Warden next to calling the fake OpenAI server directly ({})",
            ctx.plan_text()
        ),
        rows: Vec::new(),
    };
    if let Err(e) = measure(ctx, &mut table) {
        table.rows.push(Row::Failed {
            label: "warden model".into(),
            reason: format!("{e:#}"),
        });
    }
    table
}

fn post(body: &Value) -> RequestTemplate {
    RequestTemplate {
        method: Method::POST,
        headers: vec![(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body: Bytes::from(body.to_string()),
    }
}

/// A chat completion request as a native client sends it to the fake.
fn direct_body(stream: bool) -> Value {
    let mut body = json!({
        "model": "fake-model",
        "messages": [{"role": "user", "content": "hello"}],
    });
    if stream {
        body["stream"] = json!(true);
        body["stream_options"] = json!({"include_usage": true});
    }
    body
}

fn measure(ctx: &mut Ctx, table: &mut Table) -> Result<()> {
    let probe = checked_component(
        &ctx.cfg.model_probe_component,
        "the model-probe test component (--model-probe-component)",
    )?;
    let chat = checked_component(
        &ctx.cfg.chat_component,
        "the chat example (--chat-component)",
    )?;
    let (mut fake, fake_addr) = start_fake(ctx)?;
    let mut node = start_node(ctx, fake_addr, &probe, &chat)?;
    let direct = Target {
        connect: fake_addr,
        host: HeaderValue::from_str(&fake_addr.to_string())?,
        path: "/v1/chat/completions".into(),
    };
    let complete = node.target(TENANT, "/complete")?;
    let chat_sse = node.target(TENANT, "/chat?q=hello")?;
    wait_until_ok(
        &ctx.rt,
        node.process_mut()?,
        &chat_sse,
        Duration::from_secs(60),
    )?;
    let miss = post(&json!({"prompt": "hello"}));
    let hit = post(&json!({"prompt": "hello", "seed": 1}));
    let builtin = post(&json!({"prompt": "hello", "model": "local"}));
    // Every probe answers 200 with the guest's outcome: check that it is
    // a completion, and fill the cache of the hit row.
    for (what, request, cached) in [
        ("miss", &miss, false),
        ("hit", &hit, true),
        ("builtin", &builtin, false),
    ] {
        let outcome = ctx.rt.block_on(probe_outcome(&complete, request))?;
        let text = &outcome["ok"]["text"];
        if !text.is_string() {
            bail!("the {what} probe did not complete: {outcome}");
        }
        if cached {
            let again = ctx.rt.block_on(probe_outcome(&complete, request))?;
            if again["ok"]["usage"]["from_cache"] != json!(true) {
                bail!("a seeded call was not served from the cache: {again}");
            }
        }
    }
    let contestants = [
        Contestant {
            label: "fake direct: complete".into(),
            process: &fake,
            targets: Arc::from(vec![direct.clone()]),
            request: post(&direct_body(false)),
        },
        Contestant {
            label: "warden -> fake: complete, cache miss".into(),
            process: node.process()?,
            targets: Arc::from(vec![complete.clone()]),
            request: miss,
        },
        Contestant {
            label: "warden: complete, cache hit".into(),
            process: node.process()?,
            targets: Arc::from(vec![complete.clone()]),
            request: hit,
        },
        Contestant {
            label: "warden: complete, builtin model".into(),
            process: node.process()?,
            targets: Arc::from(vec![complete.clone()]),
            request: builtin,
        },
        Contestant {
            label: "fake direct: stream (8 SSE chunks)".into(),
            process: &fake,
            targets: Arc::from(vec![direct.clone()]),
            request: post(&direct_body(true)),
        },
        Contestant {
            label: "warden -> fake: chat SSE (8 chunks)".into(),
            process: node.process()?,
            targets: Arc::from(vec![chat_sse.clone()]),
            request: get(),
        },
    ];
    let tallies = alternate(ctx.clk_tck, &ctx.plan(), &contestants);
    let figures = record(table, &contestants, tallies);
    derived_rows(table, &figures);
    drop(contestants);
    node.stop()?;
    fake.stop(Duration::from_secs(5))
}

/// Overheads (p50 differences) and ratios from the measured rows.
fn derived_rows(table: &mut Table, figures: &[Option<Figures>]) {
    let [direct, miss, hit, builtin, direct_stream, stream] = figures else {
        return;
    };
    let p50 = |f: &Option<Figures>| f.and_then(|f| f.p50_us);
    let cpu = |f: &Option<Figures>| f.and_then(|f| f.cpu_per_req_us);
    let diff = |a: &Option<Figures>, b: &Option<Figures>| Some(p50(a)? - p50(b)?);
    // Latency: p50 through Warden minus p50 direct. CPU: Warden's own CPU
    // per call (the fake's is in its own process, and a direct client
    // spends none in Warden).
    let per_call = (diff(miss, direct), cpu(miss));
    let per_stream = (diff(stream, direct_stream), cpu(stream));
    let chunk = |call: Option<f64>, stream: Option<f64>| Some((stream? - call?) / CHUNKS);
    let per_chunk = (
        chunk(per_call.0, per_stream.0),
        chunk(per_call.1, per_stream.1),
    );
    for (label, (latency, cpu), note) in [
        (
            "overhead per call (miss - direct)",
            per_call,
            "derived: p50 difference; CPU/req is Warden's per call",
        ),
        (
            "overhead per streamed call (SSE - direct stream)",
            per_stream,
            "derived: p50 difference; CPU/req is Warden's per call",
        ),
        (
            "overhead per streamed chunk",
            per_chunk,
            "derived: (streamed - call overhead) / 8 chunks",
        ),
    ] {
        if latency.is_some() || cpu.is_some() {
            table.rows.push(Row::Measured {
                label: label.into(),
                figures: Figures {
                    p50_us: latency,
                    cpu_per_req_us: cpu,
                    ..Figures::default()
                },
                note: note.into(),
            });
        }
    }
    for (label, num, den) in [
        ("cache hit / cache miss", hit, miss),
        ("builtin / cache miss", builtin, miss),
        ("warden miss / fake direct", miss, direct),
    ] {
        if let (Some(num), Some(den)) = (num, den) {
            table.rows.push(Row::Ratio {
                label: label.into(),
                num: *num,
                den: *den,
            });
        }
    }
}

/// One probe call's JSON answer.
async fn probe_outcome(target: &Target, request: &RequestTemplate) -> Result<Value> {
    let mut conn = Conn::open(target.connect)
        .await
        .map_err(|e| anyhow::anyhow!("connecting to the node: {e}"))?;
    let reply = tokio::time::timeout(
        Duration::from_secs(10),
        conn.send_full(request.build(target).map_err(|e| anyhow::anyhow!("{e}"))?),
    )
    .await
    .context("the probe timed out")?
    .map_err(|e| anyhow::anyhow!("probe request failed: {e}"))?;
    if reply.status != 200 {
        bail!("the probe answered {}", reply.status);
    }
    serde_json::from_slice(&reply.body).context("the probe's answer is not JSON")
}

/// Starts `fake-openai` (next to this binary) on a free port.
fn start_fake(ctx: &mut Ctx) -> Result<(ServerProcess, std::net::SocketAddr)> {
    let bin = ctx.cfg.bin_dir.join("fake-openai");
    let mut p = ServerProcess::spawn(
        "fake-openai",
        Command::new(&bin),
        &ctx.cfg.work_dir.join("fake-openai.log"),
    )
    .with_context(|| format!("is {} built? `cargo build -p warden-bench`", bin.display()))?;
    let addr = p.wait_for_printed_addr(Duration::from_secs(10))?;
    Ok((p, addr))
}

/// A node whose `chat` is the fake and `local` the builtin model, with
/// limits that never bind, and the probe and chat example deployed.
fn start_node(
    ctx: &mut Ctx,
    fake: std::net::SocketAddr,
    probe: &std::path::Path,
    chat: &std::path::Path,
) -> Result<WardenNode> {
    let name = "warden-model";
    let config = ctx.cfg.work_dir.join(format!("{name}-host.toml"));
    let bin = ctx.warden_bin()?;
    let mut node = WardenNode::new(&ctx.cfg, &bin, name)?;
    let text = format!(
        r#"[tiers.default]
rate = 100000000
burst = 100000000
max_concurrent = 100000

[model.providers.fake]
type = "openai"
base_url = "http://{fake}/v1"
[model.providers.fake.resilience]
max_concurrent = 4096
[model.aliases]
chat = {{ provider = "fake", model = "fake-model" }}
local = {{ provider = "builtin", model = "builtin-chat" }}
"#
    );
    std::fs::write(&config, text).with_context(|| format!("writing {}", config.display()))?;
    node.set_config(config);
    node.start()?;
    let token = node.admin_token()?;
    let manifest = ctx.cfg.work_dir.join(format!("{name}.toml"));
    let functions = [
        Function {
            name: "probe".into(),
            component: probe.to_owned(),
            route: "/complete".into(),
        },
        Function {
            name: "chat".into(),
            component: chat.to_owned(),
            route: "/chat".into(),
        },
    ];
    WardenNode::write_manifest(&manifest, TENANT, &functions)?;
    node.deploy(&manifest, &token)?;
    Ok(node)
}

//! The `compare` command line and the settings resolved from it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};

use crate::cli::parse_duration;

/// Which measurement to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Scenario {
    /// The wasi-hello component under every server, with ratios.
    Hello,
    /// A Warden function that does real work (the JSON example) next to hello.
    Json,
    /// First-request latency after activation, restart, and recompilation.
    Cold,
    /// Many distinct components deployed, random traffic across all.
    Tenants,
    /// The CRUD example seeded with users and documents through Warden,
    /// then a CRUD mix.
    Seed,
    /// A token-protected todo read (tier check, cache, kv) next to hello,
    /// with the verified-token cache on and off.
    Full,
    /// A neighbour's hello latency, idle and while two other tenants' guests
    /// burn CPU in host calls (random bytes in a loop).
    Neighbour,
    /// Model calls through Warden (the builtin model, and the fake
    /// OpenAI-compatible server) next to calling the fake directly: the
    /// overhead per call and per streamed chunk, cache hit vs miss.
    Model,
    /// All of the above.
    All,
}

/// A server of the hello comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Contender {
    /// `warden serve` with the component deployed.
    Warden,
    /// `wasmtime serve` with its defaults (plus `-S cli=y`).
    WasmtimeDefaults,
    /// `wasmtime serve` with the pooling flags.
    WasmtimePooling,
    /// The native hyper handler (`native-hello`).
    Native,
    /// `warden serve` of the commit before (`--baseline-warden`): the
    /// reference a change to the host is measured against.
    Baseline,
}

impl Contender {
    /// Row label.
    pub fn label(self) -> &'static str {
        match self {
            Contender::Warden => "warden",
            Contender::WasmtimeDefaults => "wasmtime serve (defaults)",
            Contender::WasmtimePooling => "wasmtime serve (pooling)",
            Contender::Native => "native hyper",
            Contender::Baseline => "warden (baseline)",
        }
    }
}

/// Side-by-side benchmark of Warden, `wasmtime serve` and a native handler.
///
/// Starts each server on a free port of 127.0.0.1, warms it up, runs the
/// load generator against the servers in alternating rounds (A B A B) and
/// prints one Markdown table per scenario. See bench/README.md.
#[derive(Debug, Clone, Parser)]
#[command(name = "compare", version)]
pub struct CompareArgs {
    /// CI smoke run: one short round, tiny counts, no wasmtime install (its
    /// rows say "skipped" when the binary is not cached); asserts that every
    /// part ran and the tables printed, never a speed.
    #[arg(long)]
    pub smoke: bool,
    /// Scenarios to run; repeatable [default: hello; with --smoke: all].
    #[arg(long = "scenario", value_enum)]
    pub scenarios: Vec<Scenario>,
    /// Servers of the hello scenario; repeatable [default: all four].
    #[arg(long = "server", value_enum)]
    pub servers: Vec<Contender>,
    /// Alternating rounds per server [default: 3; smoke: 1].
    #[arg(long)]
    pub rounds: Option<usize>,
    /// Measured time per server per round [default: 5s; smoke: 1s].
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Unmeasured warm-up before each measured run [default: 1s; smoke: 200ms].
    #[arg(long, value_parser = parse_duration)]
    pub warmup: Option<Duration>,
    /// Closed-loop connections [default: 32; smoke: 4]; with --rate, the
    /// connections available to the open loop.
    #[arg(long, short = 'c')]
    pub concurrency: Option<usize>,
    /// Open loop at this many requests per second instead of closed loop.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Per-request timeout.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Load generator threads [default: number of CPUs].
    #[arg(long)]
    pub loadgen_threads: Option<usize>,
    /// The wasi-hello component [default: <workspace>/target/guests/wasm32-wasip2/guest/wasi_hello.wasm].
    #[arg(long)]
    pub component: Option<PathBuf>,
    /// The JSON example component (examples/quote-api) [default:
    /// <workspace>/target/guests/wasm32-wasip2/guest/quote_api.wasm].
    #[arg(long)]
    pub json_component: Option<PathBuf>,
    /// Route of the JSON function; requests are POSTed to it.
    #[arg(long, default_value = "/quote")]
    pub json_route: String,
    /// JSON request body for the JSON function [default: a 3-line cart with
    /// a discount code].
    #[arg(long)]
    pub json_body: Option<PathBuf>,
    /// The `warden` binary [default: next to this binary, built with cargo if missing].
    #[arg(long)]
    pub warden: Option<PathBuf>,
    /// A `warden` binary of another commit (e.g. the one before a change),
    /// served beside this one in the hello scenario [default: skipped].
    #[arg(long)]
    pub baseline_warden: Option<PathBuf>,
    /// Never build `warden`; fail if it is missing.
    #[arg(long)]
    pub no_build: bool,
    /// The `wasmtime` binary [default: <cache-dir>/wasmtime-48.0.8/bin/wasmtime].
    #[arg(long)]
    pub wasmtime: Option<PathBuf>,
    /// Never install wasmtime-cli; skip its rows if it is missing.
    #[arg(long)]
    pub no_install: bool,
    /// Replace the pooling flags of `wasmtime serve` (whitespace-separated).
    #[arg(long, allow_hyphen_values = true)]
    pub wasmtime_pooling_flags: Option<String>,
    /// Cache of installed tools [default: bench/.cache].
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Scratch space: data dirs, logs, generated components [default: <cache-dir>/work].
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Samples per cold path [default: 10; smoke: 2].
    #[arg(long)]
    pub cold_iterations: Option<usize>,
    /// Tenant counts of the many-tenants scenario, comma-separated [default: 1000,10000; smoke: 3].
    #[arg(long, value_delimiter = ',')]
    pub tenants: Vec<u32>,
    /// Admin API deploys in flight at once (many-tenants and seed scenarios).
    #[arg(long, default_value_t = 4)]
    pub deploy_parallelism: usize,
    /// Host config file (TOML) passed to every `warden serve` as `--config`.
    #[arg(long)]
    pub warden_config: Option<PathBuf>,
    /// Seed scenario: fraction of the full size (10,000 users and 1,000,000
    /// documents; tenants are not scaled) [default: 1; smoke: 0.001].
    #[arg(long)]
    pub scale: Option<f64>,
    /// Seed scenario: tenants, each with the todo example deployed.
    #[arg(long, default_value_t = 10)]
    pub seed_tenants: u32,
    /// Seed scenario: synthetic users at scale 1 (each is an `x-client-id`
    /// and belongs to one tenant).
    #[arg(long, default_value_t = 10_000)]
    pub seed_users: u64,
    /// Seed scenario: documents (todos) created at scale 1.
    #[arg(long, default_value_t = 1_000_000)]
    pub seed_documents: u64,
    /// Seed scenario: creates in flight while seeding.
    #[arg(long, default_value_t = 32)]
    pub seed_concurrency: usize,
    /// Seed scenario: the CRUD mix, percent per operation.
    #[arg(long, default_value = "get=70,list=10,create=15,update=5")]
    pub crud_mix: String,
    /// Seed scenario: measured time of the CRUD mix [default: 30s; smoke: 1s].
    #[arg(long, value_parser = parse_duration)]
    pub crud_duration: Option<Duration>,
    /// Seed scenario: seed of every random choice (titles, users, the mix).
    #[arg(long, default_value_t = 1)]
    pub rng_seed: u64,
    /// Seed scenario: the todo example component [default:
    /// <workspace>/target/guests/wasm32-wasip2/guest/todo_api.wasm].
    #[arg(long)]
    pub todo_component: Option<PathBuf>,
    /// Neighbour scenario: the noisy guest [default:
    /// <workspace>/target/guests/wasm32-wasip2/guest/random_loop.wasm].
    #[arg(long)]
    pub random_loop_component: Option<PathBuf>,
    /// Neighbour scenario: the neighbour's open-loop rate, requests per
    /// second [default: 200; smoke: 50].
    #[arg(long)]
    pub neighbour_rate: Option<f64>,
    /// Model scenario: the model-probe test component [default:
    /// <workspace>/target/guests/wasm32-wasip2/guest/model_probe.wasm].
    #[arg(long)]
    pub model_probe_component: Option<PathBuf>,
    /// Model scenario: the chat example [default:
    /// <workspace>/target/guests/wasm32-wasip2/guest/chat.wasm].
    #[arg(long)]
    pub chat_component: Option<PathBuf>,
    /// Warden's compiled-artifact cache, relative to its data dir; removed
    /// to force a compile in the cold scenario.
    #[arg(long, default_value = "artifacts")]
    pub warden_artifact_dir: PathBuf,
}

/// Settings with every default filled in.
#[derive(Debug, Clone)]
pub struct Config {
    /// The parsed command line.
    pub args: CompareArgs,
    /// Scenarios, in order, `All` expanded.
    pub scenarios: Vec<Scenario>,
    /// Hello servers, in order.
    pub servers: Vec<Contender>,
    /// Alternating rounds.
    pub rounds: usize,
    /// Measured time per run.
    pub duration: Duration,
    /// Warm-up per run.
    pub warmup: Duration,
    /// Connections.
    pub concurrency: usize,
    /// Cold samples.
    pub cold_iterations: usize,
    /// Tenant counts.
    pub tenants: Vec<u32>,
    /// Directory of this binary (and of `native-hello`).
    pub bin_dir: PathBuf,
    /// The cargo target directory.
    pub target_dir: PathBuf,
    /// The workspace root.
    pub workspace: PathBuf,
    /// Tool cache.
    pub cache_dir: PathBuf,
    /// Scratch space.
    pub work_dir: PathBuf,
    /// wasi-hello component.
    pub component: PathBuf,
    /// JSON example component.
    pub json_component: PathBuf,
    /// The todo example component.
    pub todo_component: PathBuf,
    /// The noisy guest of the neighbour scenario.
    pub random_loop_component: PathBuf,
    /// The neighbour's rate, requests per second.
    pub neighbour_rate: f64,
    /// The model-probe test component.
    pub model_probe_component: PathBuf,
    /// The chat example.
    pub chat_component: PathBuf,
    /// Seed scenario size factor.
    pub scale: f64,
    /// Measured time of the CRUD mix.
    pub crud_duration: Duration,
}

impl Config {
    /// Fills in defaults (smoke-sized when `--smoke`).
    pub fn resolve(args: CompareArgs) -> Result<Self> {
        let smoke = args.smoke;
        let exe = std::env::current_exe().context("locating the compare binary")?;
        let bin_dir = exe
            .parent()
            .context("the compare binary has no directory")?
            .to_owned();
        // target/<profile>/compare -> target
        let target_dir = bin_dir
            .parent()
            .map_or_else(|| bin_dir.clone(), Path::to_owned);
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .context("bench/ has no parent")?
            .to_owned();
        let cache_dir = args
            .cache_dir
            .clone()
            .unwrap_or_else(|| workspace.join("bench").join(".cache"));
        let work_dir = args
            .work_dir
            .clone()
            .unwrap_or_else(|| cache_dir.join("work"));
        // Where warden-test-components' build.rs puts the guests: always
        // under the workspace, whatever CARGO_TARGET_DIR says.
        let guests = workspace
            .join("target")
            .join("guests")
            .join("wasm32-wasip2")
            .join("guest");
        let mut scenarios = if args.scenarios.is_empty() {
            if smoke {
                vec![Scenario::All]
            } else {
                vec![Scenario::Hello]
            }
        } else {
            args.scenarios.clone()
        };
        if scenarios.contains(&Scenario::All) {
            scenarios = vec![
                Scenario::Hello,
                Scenario::Json,
                Scenario::Cold,
                Scenario::Tenants,
                Scenario::Seed,
                Scenario::Full,
                Scenario::Neighbour,
                Scenario::Model,
            ];
        }
        scenarios.sort();
        scenarios.dedup();
        let mut servers = if args.servers.is_empty() {
            vec![
                Contender::Warden,
                Contender::Baseline,
                Contender::WasmtimeDefaults,
                Contender::WasmtimePooling,
                Contender::Native,
            ]
        } else {
            args.servers.clone()
        };
        servers.sort();
        servers.dedup();
        let pick = |given: Option<usize>, normal, small| {
            given.unwrap_or(if smoke { small } else { normal })
        };
        Ok(Self {
            scenarios,
            servers,
            rounds: pick(args.rounds, 3, 1).max(1),
            duration: args.duration.unwrap_or(if smoke {
                Duration::from_secs(1)
            } else {
                Duration::from_secs(5)
            }),
            warmup: args.warmup.unwrap_or(if smoke {
                Duration::from_millis(200)
            } else {
                Duration::from_secs(1)
            }),
            concurrency: pick(args.concurrency, 32, 4).max(1),
            cold_iterations: pick(args.cold_iterations, 10, 2).max(1),
            tenants: if !args.tenants.is_empty() {
                args.tenants.clone()
            } else if smoke {
                vec![3]
            } else {
                vec![1000, 10_000]
            },
            component: args
                .component
                .clone()
                .unwrap_or_else(|| guests.join("wasi_hello.wasm")),
            json_component: args
                .json_component
                .clone()
                .unwrap_or_else(|| guests.join("quote_api.wasm")),
            todo_component: args
                .todo_component
                .clone()
                .unwrap_or_else(|| guests.join("todo_api.wasm")),
            random_loop_component: args
                .random_loop_component
                .clone()
                .unwrap_or_else(|| guests.join("random_loop.wasm")),
            neighbour_rate: args
                .neighbour_rate
                .unwrap_or(if smoke { 50.0 } else { 200.0 }),
            model_probe_component: args
                .model_probe_component
                .clone()
                .unwrap_or_else(|| guests.join("model_probe.wasm")),
            chat_component: args
                .chat_component
                .clone()
                .unwrap_or_else(|| guests.join("chat.wasm")),
            scale: args.scale.unwrap_or(if smoke { 0.001 } else { 1.0 }),
            crud_duration: args.crud_duration.unwrap_or(if smoke {
                Duration::from_secs(1)
            } else {
                Duration::from_secs(30)
            }),
            bin_dir,
            target_dir,
            workspace,
            cache_dir,
            work_dir,
            args,
        })
    }

    /// True when this binary was built with the release profile.
    pub fn is_release(&self) -> bool {
        self.bin_dir.file_name().is_some_and(|n| n == "release")
    }
}

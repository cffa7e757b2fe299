//! `loadgen`: HTTP/1.1 keep-alive load, closed or open loop, HDR percentiles.
//!
//! Run with:
//! `cargo run --release -p warden-bench --bin loadgen -- --url http://127.0.0.1:8080/ --concurrency 32 --duration 10s`
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use clap::Parser;
use http::Method;
use warden_bench::cli::{parse_duration, parse_header};
use warden_bench::client::RequestTemplate;
use warden_bench::report::RunReport;
use warden_bench::run::{Load, RunSpec, run};
use warden_bench::target::{parse_targets, read_url_file};

/// HTTP/1.1 keep-alive load generator.
///
/// Closed loop (default): `--concurrency` connections each send the next
/// request as soon as the previous answer is in. Open loop (`--rate`):
/// requests are due at a fixed rate and latency counts from the due time,
/// so a slow server cannot hide queueing (coordinated omission).
#[derive(Debug, Parser)]
#[command(name = "loadgen", version)]
struct Args {
    /// Target URL, `http://host:port/path`; repeat for several (each request
    /// picks one at random). The URL's authority is sent as the Host header.
    #[arg(long = "url", value_name = "URL")]
    urls: Vec<String>,
    /// File with one target URL per line (`#` comments allowed), added to `--url`.
    #[arg(long, value_name = "FILE")]
    url_file: Option<PathBuf>,
    /// Connect every request to this address instead of the URL's host,
    /// e.g. `--connect 127.0.0.1:8080 --url http://acme.localhost:8080/hello`.
    #[arg(long, value_name = "HOST:PORT")]
    connect: Option<String>,
    /// Closed loop: connections (= requests in flight). Open loop: the most
    /// connections used to keep up with the rate. [default: 32 closed, 64 open]
    #[arg(long, short = 'c', value_name = "N")]
    concurrency: Option<usize>,
    /// Open loop at this many requests per second (omit for closed loop).
    #[arg(long, short = 'r', value_name = "REQ_PER_S")]
    rate: Option<f64>,
    /// Measured duration (`10s`, `500ms`, `1m`).
    #[arg(long, short = 'd', default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Unmeasured warm-up before the measured duration.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    warmup: Duration,
    /// Stop after this many measured requests, even if `--duration` is not over.
    #[arg(long, short = 'n', value_name = "N")]
    requests: Option<u64>,
    /// Request method.
    #[arg(long, short = 'm', default_value = "GET")]
    method: Method,
    /// Send this file's bytes as the request body.
    #[arg(long, value_name = "FILE")]
    body_file: Option<PathBuf>,
    /// Extra request header `Name: value`; repeatable.
    #[arg(long = "header", short = 'H', value_name = "HEADER", value_parser = parse_header)]
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
    /// Per-request timeout (open loop: counted from the due time).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    timeout: Duration,
    /// Load generator threads [default: number of CPUs].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Seed of the random target choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    json: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let mut urls = args.urls.clone();
    if let Some(path) = &args.url_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading --url-file {}", path.display()))?;
        urls.extend(read_url_file(&text));
    }
    let targets = parse_targets(&urls, args.connect.as_deref())?;
    let body = match &args.body_file {
        Some(path) => Bytes::from(
            std::fs::read(path)
                .with_context(|| format!("reading --body-file {}", path.display()))?,
        ),
        None => Bytes::new(),
    };
    let load = match args.rate {
        Some(rate) => Load::Open {
            rate,
            connections: args.concurrency.unwrap_or(64),
        },
        None => Load::Closed {
            concurrency: args.concurrency.unwrap_or(32),
        },
    };
    let spec = RunSpec {
        targets: Arc::from(targets),
        request: RequestTemplate {
            method: args.method.clone(),
            headers: args.headers.clone(),
            body,
        },
        load,
        duration: args.duration,
        warmup: args.warmup,
        max_requests: args.requests,
        timeout: args.timeout,
        seed: args.seed,
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    let result = run(spec, threads)?;
    let report = RunReport::new(&result);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.text(&result));
    }
    Ok(())
}

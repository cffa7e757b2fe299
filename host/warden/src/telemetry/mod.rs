//! Logging: JSON lines on stdout, written in the background so a request
//! never waits on log I/O. Operational events go through `tracing`; the
//! per-request access log has its own cheaper path ([`AccessLog`]).
//!
//! Spans around each hop use `tracing` at debug level, which costs nothing
//! unless enabled (`RUST_LOG=debug`) and is where OTLP export plugs in.

mod access_log;

pub use access_log::{AccessLine, AccessLog, AccessLogWriter, now_ms};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Installs the global JSON subscriber. Keep the guard alive for the life of
/// the process: dropping it flushes pending lines.
pub fn init() -> Option<WorkerGuard> {
    let (writer, guard) = tracing_appender::non_blocking(std::io::stdout());
    let filter = EnvFilter::try_from_env("WARDEN_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let installed = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_env_filter(filter)
        .with_writer(writer)
        .try_init()
        .is_ok();
    installed.then_some(guard)
}

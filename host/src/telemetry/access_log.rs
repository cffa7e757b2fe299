//! The access log: one JSON line per request, written off the hot path.
//!
//! A request only serializes its line and `try_send`s it to a bounded
//! channel; a writer task batches lines to stdout and flushes when the
//! channel runs dry. If the writer falls behind, lines are dropped and
//! counted rather than making requests wait. (tracing's JSON layer over
//! tracing-appender cost ~17% of hello throughput, most of it a crossbeam
//! receiver spinning in sched_yield; this path is a fraction of that.)

use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::AsyncWriteExt as _;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Lines buffered between requests and the writer.
const CAPACITY: usize = 16 * 1024;

/// One request, as logged.
#[derive(Debug, Serialize)]
pub struct AccessLine<'a> {
    /// Milliseconds since the Unix epoch when the response ended.
    pub ts_ms: u64,
    /// Always `INFO`.
    pub level: &'static str,
    /// Always `warden::access`.
    pub target: &'static str,
    /// Request id (also returned in `x-request-id`).
    pub request_id: &'a str,
    /// Tenant, empty when the host matched none.
    pub tenant: &'a str,
    /// Function, empty when no route matched.
    pub function: &'a str,
    /// sha256 of the version that served the request.
    pub version: &'a str,
    /// HTTP method.
    pub method: &'a str,
    /// Request path.
    pub path: &'a str,
    /// Response status.
    pub status: u16,
    /// From request head to the end of the response body.
    pub duration_us: u64,
    /// Response body bytes sent.
    pub bytes_out: u64,
    /// True if the response stream failed or was cut short.
    pub stream_failed: bool,
    /// What the guest wrote to stdout/stderr (capped).
    #[serde(skip_serializing_if = "str::is_empty")]
    pub guest_output: &'a str,
    /// Bytes of guest output dropped over the cap.
    #[serde(skip_serializing_if = "is_zero")]
    pub guest_output_dropped: u64,
    /// Why the guest failed after its response head was sent, if it did.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub guest_error: &'a str,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Handle used by requests to log; cheap to clone.
#[derive(Debug, Clone)]
pub struct AccessLog {
    tx: Option<mpsc::Sender<Vec<u8>>>,
    dropped: Arc<AtomicU64>,
}

/// The writer task; [`AccessLogWriter::finish`] flushes and stops it.
#[derive(Debug)]
pub struct AccessLogWriter {
    task: JoinHandle<()>,
    close: tokio::sync::oneshot::Sender<()>,
}

impl AccessLog {
    /// A log that writes to stdout from a background task.
    pub fn stdout() -> (Self, AccessLogWriter) {
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(CAPACITY);
        let (close, mut closed) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let mut out = tokio::io::BufWriter::with_capacity(64 * 1024, tokio::io::stdout());
            loop {
                let line = tokio::select! {
                    line = rx.recv() => line,
                    _ = &mut closed => None,
                };
                let Some(line) = line else { break };
                let _ = out.write_all(&line).await;
                while let Ok(line) = rx.try_recv() {
                    let _ = out.write_all(&line).await;
                }
                let _ = out.flush().await;
            }
            while let Ok(line) = rx.try_recv() {
                let _ = out.write_all(&line).await;
            }
            let _ = out.flush().await;
        });
        (
            Self {
                tx: Some(tx),
                dropped: Arc::default(),
            },
            AccessLogWriter { task, close },
        )
    }

    /// A log that discards everything (for embedding without stdout).
    pub fn disabled() -> Self {
        Self {
            tx: None,
            dropped: Arc::default(),
        }
    }

    /// Queues one line; never waits.
    pub fn record(&self, line: &AccessLine<'_>) {
        let Some(tx) = &self.tx else {
            return;
        };
        let mut bytes = Vec::with_capacity(384);
        if serde_json::to_writer(&mut bytes, line).is_err() {
            return;
        }
        bytes.push(b'\n');
        if tx.try_send(bytes).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Lines dropped because the writer fell behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl AccessLogWriter {
    /// Writes every queued line, flushes, and stops the writer.
    pub async fn finish(self) {
        let _ = self.close.send(());
        let _ = self.task.await;
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

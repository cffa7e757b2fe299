//! The access log: one JSON line per request, written off the hot path.
//!
//! A request only serializes its line and `try_send`s it to a bounded
//! channel; nobody is woken up. A writer thread drains the channel every
//! few milliseconds and writes the batch to stdout with one syscall. If it
//! falls behind, lines are dropped and counted rather than making requests
//! wait. (tracing's JSON layer over tracing-appender cost ~17% of hello
//! throughput, mostly its receiver spinning in sched_yield; a tokio stdout
//! writer still paid a blocking-pool wake-up per flush. Polling on a timer
//! costs a fixed ~200 wake-ups a second, whatever the request rate.)

use serde::Serialize;
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Lines buffered between requests and the writer.
const CAPACITY: usize = 32 * 1024;

/// How often the writer drains the queue.
const DRAIN_EVERY: Duration = Duration::from_millis(5);

/// Lines a live subscriber may fall behind by before it loses some.
const TAP_CAPACITY: usize = 1024;

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
    /// `sub` of the verified token, when the gateway verified one (never
    /// the token itself).
    #[serde(skip_serializing_if = "str::is_empty")]
    pub subject: &'a str,
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
    /// Live subscribers (`warden logs --follow`, tests); lines are only
    /// copied for them while there are any.
    tap: broadcast::Sender<Arc<str>>,
}

/// The writer thread; [`AccessLogWriter::finish`] flushes and stops it.
#[derive(Debug)]
pub struct AccessLogWriter {
    thread: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
}

impl AccessLog {
    /// A log that writes to stdout from a background thread.
    pub fn stdout() -> std::io::Result<(Self, AccessLogWriter)> {
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(CAPACITY);
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("warden-access-log".into())
            .spawn(move || {
                let mut batch = Vec::with_capacity(64 * 1024);
                loop {
                    let last_round = stopping.load(Ordering::Acquire);
                    while let Ok(line) = rx.try_recv() {
                        batch.extend_from_slice(&line);
                    }
                    if !batch.is_empty() {
                        let mut out = std::io::stdout().lock();
                        let _ = out.write_all(&batch);
                        let _ = out.flush();
                        batch.clear();
                    }
                    if last_round {
                        break;
                    }
                    std::thread::sleep(DRAIN_EVERY);
                }
            })?;
        Ok((
            Self {
                tx: Some(tx),
                dropped: Arc::default(),
                tap: broadcast::channel(TAP_CAPACITY).0,
            },
            AccessLogWriter {
                thread: Some(thread),
                stop,
            },
        ))
    }

    /// A log that discards everything (for embedding without stdout).
    pub fn disabled() -> Self {
        Self {
            tx: None,
            dropped: Arc::default(),
            tap: broadcast::channel(TAP_CAPACITY).0,
        }
    }

    /// Queues one line; never waits.
    pub fn record(&self, line: &AccessLine<'_>) {
        let tapped = self.tap.receiver_count() > 0;
        if self.tx.is_none() && !tapped {
            return;
        }
        let mut bytes = Vec::with_capacity(384);
        if serde_json::to_writer(&mut bytes, line).is_err() {
            return;
        }
        if tapped && let Ok(text) = std::str::from_utf8(&bytes) {
            // A lagging subscriber loses lines; requests never wait.
            let _ = self.tap.send(Arc::from(text));
        }
        let Some(tx) = &self.tx else {
            return;
        };
        bytes.push(b'\n');
        if tx.try_send(bytes).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Every line recorded from now on (without its newline).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.tap.subscribe()
    }

    /// Lines dropped because the writer fell behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for AccessLogWriter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

impl AccessLogWriter {
    /// Writes every queued line, flushes, and stops the writer.
    pub async fn finish(mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

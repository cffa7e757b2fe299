//! The load loops: closed loop at a fixed concurrency, open loop at a fixed
//! arrival rate.
//!
//! Closed loop: `concurrency` workers, each with its own keep-alive
//! connection, send a request, wait for the whole response, and send the
//! next. Latency is measured from send to last body byte.
//!
//! Open loop: a pacer thread releases one ticket per request at its due time
//! (`start + i / rate`); `connections` workers take tickets in order and send.
//! Latency is measured from the due time, so time spent waiting for a free
//! connection counts (no coordinated omission). A request still unsent when
//! its due time is `timeout` in the past counts as a timeout without being
//! sent, which bounds the drain of a backlog at the end of an overloaded run.
//!
//! In both modes requests that start (closed) or are due (open) during the
//! warm-up are sent but not recorded. Each worker keeps its own histogram;
//! they are merged at the end, so nothing is shared on the hot path but two
//! atomics (and the ticket semaphore in open loop).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use std::future::Future;
use std::pin::Pin;

use anyhow::{Result, anyhow, bail};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::client::{Answer, Conn, RequestTemplate};
use crate::errors::{Outcomes, TransportError};
use crate::histogram::Latencies;
use crate::procfs;
use crate::schedule::Schedule;
use crate::target::Target;

/// How load is offered.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum Load {
    /// `concurrency` connections, each sending its next request as soon as
    /// the previous one is answered.
    Closed {
        /// Number of connections (= requests in flight).
        concurrency: usize,
    },
    /// `rate` requests per second over at most `connections` connections.
    Open {
        /// Arrival rate, requests per second.
        rate: f64,
        /// Number of connections available to carry the requests.
        connections: usize,
    },
}

/// Everything one run needs.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// Targets; each request picks one uniformly at random.
    pub targets: Arc<[Target]>,
    /// Method, headers and body of every request.
    pub request: RequestTemplate,
    /// Closed or open loop.
    pub load: Load,
    /// Length of the measured window.
    pub duration: Duration,
    /// Unrecorded warm-up before the measured window.
    pub warmup: Duration,
    /// Stop after this many measured requests, even before `duration`.
    pub max_requests: Option<u64>,
    /// Per-request timeout (open loop: counted from the due time).
    pub timeout: Duration,
    /// Seed of the target choice.
    pub seed: u64,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// How load was offered.
    pub load: Load,
    /// Wall time from the end of the warm-up to the last answer.
    pub elapsed: Duration,
    /// Latency of every measured response, whatever its status.
    pub latencies: Latencies,
    /// Open loop only: time from due to send (waiting for a connection).
    pub queue_wait: Latencies,
    /// Statuses and transport failures of measured requests.
    pub outcomes: Outcomes,
    /// Response body bytes received in the measured window.
    pub body_bytes: u64,
    /// CPU time of this process over the whole run (warm-up included).
    pub client_cpu: Option<Duration>,
}

impl RunResult {
    /// Responses (any status) per second of the measured window.
    pub fn throughput(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.latencies.len() as f64 / secs
        } else {
            0.0
        }
    }
}

/// Per-worker tallies, merged after the run.
#[derive(Default)]
struct Tally {
    latencies: Latencies,
    queue_wait: Latencies,
    outcomes: Outcomes,
    body_bytes: u64,
}

impl Tally {
    fn record(&mut self, latency: Duration, result: &Result<Answer, TransportError>) {
        match result {
            Ok(answer) => {
                self.latencies.record(latency);
                self.outcomes.status(answer.status);
                self.body_bytes += answer.body_len;
            }
            Err(kind) => self.outcomes.transport(*kind),
        }
    }
}

/// A worker's whole life as a future.
type WorkerFuture = Pin<Box<dyn Future<Output = Tally> + Send>>;

/// Runs the load described by `spec` on `threads` OS threads and returns
/// what it measured. Blocks until the run is over.
///
/// Each thread runs its own single-threaded tokio runtime with its share of
/// the workers (as wrk runs one event loop per thread): a worker and its
/// connection's driver task live on the same thread, so a request costs no
/// cross-thread wake-up.
pub fn run(spec: RunSpec, threads: usize) -> Result<RunResult> {
    if spec.targets.is_empty() {
        bail!("no targets");
    }
    let threads = threads.max(1);
    let spec = Arc::new(spec);
    let cpu_before = procfs::cpu_ticks(std::process::id()).ok();
    let start = Instant::now();
    let measure_from = start + spec.warmup;
    let deadline = measure_from + spec.duration;
    let mut buckets: Vec<Vec<WorkerFuture>> = (0..threads).map(|_| Vec::new()).collect();
    let mut pacer = None;
    match spec.load {
        Load::Closed { concurrency } => {
            if concurrency == 0 {
                bail!("concurrency must be at least 1");
            }
            let claimed = Arc::new(AtomicU64::new(0));
            for id in 0..concurrency {
                let w = Worker::new(&spec, id);
                let claimed = Arc::clone(&claimed);
                buckets[id % threads].push(Box::pin(w.closed(measure_from, deadline, claimed)));
            }
        }
        Load::Open { rate, connections } => {
            let Some(schedule) = Schedule::new(rate) else {
                bail!("rate must be a positive number, got {rate}");
            };
            if connections == 0 {
                bail!("connections must be at least 1");
            }
            let warmup_count = schedule.count_before(spec.warmup);
            let mut total = schedule.count_before(spec.warmup + spec.duration);
            if let Some(cap) = spec.max_requests {
                total = total.min(warmup_count.saturating_add(cap));
            }
            let open = Arc::new(OpenLoop {
                start,
                schedule,
                warmup_count,
                total,
                tickets: Semaphore::new(0),
                next: AtomicU64::new(0),
            });
            for id in 0..connections {
                let w = Worker::new(&spec, id);
                buckets[id % threads].push(Box::pin(w.open(Arc::clone(&open))));
            }
            pacer = Some((open, connections));
        }
    }
    let mut tally = Tally::default();
    let mut failure = None;
    std::thread::scope(|scope| {
        if let Some((open, connections)) = &pacer {
            scope.spawn(move || open.pace(*connections));
        }
        let handles: Vec<_> = buckets
            .into_iter()
            .map(|bucket| scope.spawn(move || run_bucket(bucket)))
            .collect();
        for h in handles {
            match h.join() {
                Ok(Ok(tallies)) => {
                    for t in tallies {
                        tally.latencies.merge(&t.latencies);
                        tally.queue_wait.merge(&t.queue_wait);
                        tally.outcomes.merge(&t.outcomes);
                        tally.body_bytes += t.body_bytes;
                    }
                }
                Ok(Err(e)) => failure = Some(e),
                Err(_) => failure = Some(anyhow!("a load generator thread panicked")),
            }
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    let elapsed = Instant::now().saturating_duration_since(measure_from);
    let cpu_after = procfs::cpu_ticks(std::process::id()).ok();
    let client_cpu = match (cpu_before, cpu_after) {
        (Some(a), Some(b)) => Some(Duration::from_secs_f64(
            b.saturating_sub(a) as f64 / procfs::clk_tck() as f64,
        )),
        _ => None,
    };
    Ok(RunResult {
        load: spec.load,
        elapsed,
        latencies: tally.latencies,
        queue_wait: tally.queue_wait,
        outcomes: tally.outcomes,
        body_bytes: tally.body_bytes,
        client_cpu,
    })
}

/// Runs `futures` spread over `threads` OS threads (future `i` on thread
/// `i % threads`), each thread on its own single-threaded tokio runtime as
/// [`run`] does; returns their outputs (in no particular order) once all
/// are done.
pub fn run_spread<T: Send + 'static>(
    futures: Vec<Pin<Box<dyn Future<Output = T> + Send>>>,
    threads: usize,
) -> Result<Vec<T>> {
    let threads = threads.max(1);
    let mut buckets: Vec<Vec<_>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, f) in futures.into_iter().enumerate() {
        buckets[i % threads].push(f);
    }
    let mut out = Vec::new();
    std::thread::scope(|scope| {
        let handles: Vec<_> = buckets
            .into_iter()
            .filter(|b| !b.is_empty())
            .map(|bucket| scope.spawn(move || run_bucket(bucket)))
            .collect();
        for h in handles {
            match h.join() {
                Ok(Ok(results)) => out.extend(results),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(anyhow!("a load generator thread panicked")),
            }
        }
        Ok(())
    })?;
    Ok(out)
}

/// Runs a thread's futures to completion on a single-threaded runtime.
fn run_bucket<T: Send + 'static>(
    bucket: Vec<Pin<Box<dyn Future<Output = T> + Send>>>,
) -> Result<Vec<T>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let mut set = JoinSet::new();
        for w in bucket {
            set.spawn(w);
        }
        let mut out = Vec::new();
        while let Some(t) = set.join_next().await {
            out.push(t?);
        }
        Ok(out)
    })
}

/// Shared state of an open-loop run.
struct OpenLoop {
    start: Instant,
    schedule: Schedule,
    /// Indices below this are warm-up.
    warmup_count: u64,
    /// Indices at or above this are not sent.
    total: u64,
    /// One permit per released request.
    tickets: Semaphore,
    /// Next index to take.
    next: AtomicU64,
}

impl OpenLoop {
    /// Releases tickets at their due times (runs on a blocking thread, whose
    /// sleep is finer than tokio's 1 ms timer), then one stop ticket per
    /// worker.
    fn pace(&self, workers: usize) {
        let mut released = 0u64;
        while released < self.total {
            let due = self.schedule.due_by(self.start.elapsed()).min(self.total);
            if due > released {
                self.tickets
                    .add_permits(usize::try_from(due - released).unwrap_or(usize::MAX >> 4));
                released = due;
            }
            if released >= self.total {
                break;
            }
            let next = self.start + self.schedule.due(released);
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            }
        }
        self.tickets.add_permits(workers);
    }
}

/// One worker: its connections, its random target choice, its tally.
struct Worker {
    spec: Arc<RunSpec>,
    rng: StdRng,
    conns: Vec<(SocketAddr, Conn)>,
    tally: Tally,
}

impl Worker {
    fn new(spec: &Arc<RunSpec>, id: usize) -> Self {
        Self {
            spec: Arc::clone(spec),
            rng: StdRng::seed_from_u64(spec.seed.wrapping_add(id as u64)),
            conns: Vec::new(),
            tally: Tally::default(),
        }
    }

    async fn closed(
        mut self,
        measure_from: Instant,
        deadline: Instant,
        claimed: Arc<AtomicU64>,
    ) -> Tally {
        loop {
            let sent = Instant::now();
            if sent >= deadline {
                break;
            }
            let measured = sent >= measure_from;
            if measured
                && let Some(cap) = self.spec.max_requests
                && claimed.fetch_add(1, Ordering::Relaxed) >= cap
            {
                break;
            }
            let result = self.exchange(self.spec.timeout).await;
            if measured {
                self.tally.record(sent.elapsed(), &result);
            }
            self.back_off(&result).await;
        }
        self.tally
    }

    async fn open(mut self, open: Arc<OpenLoop>) -> Tally {
        loop {
            match open.tickets.acquire().await {
                Ok(permit) => permit.forget(),
                Err(_) => break,
            }
            let index = open.next.fetch_add(1, Ordering::Relaxed);
            if index >= open.total {
                break;
            }
            let due = open.start + open.schedule.due(index);
            let measured = index >= open.warmup_count;
            let now = Instant::now();
            let waited = now.saturating_duration_since(due);
            let Some(budget) = self.spec.timeout.checked_sub(waited) else {
                if measured {
                    self.tally.outcomes.transport(TransportError::Timeout);
                }
                continue;
            };
            let result = self.exchange(budget).await;
            if measured {
                self.tally.queue_wait.record(waited);
                self.tally.record(due.elapsed(), &result);
            }
            self.back_off(&result).await;
        }
        self.tally
    }

    /// After a refused connection, wait a little instead of spinning.
    async fn back_off(&self, result: &Result<Answer, TransportError>) {
        if matches!(result, Err(TransportError::Connect)) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// One request to a random target, within `budget`; on any failure the
    /// connection is dropped and the next request opens a new one.
    async fn exchange(&mut self, budget: Duration) -> Result<Answer, TransportError> {
        let targets = Arc::clone(&self.spec.targets);
        let target = if targets.len() == 1 {
            &targets[0]
        } else {
            &targets[self.rng.random_range(0..targets.len())]
        };
        let addr = target.connect;
        let request = &self.spec.request;
        let conns = &mut self.conns;
        let attempt = async {
            let conn = conn_for(conns, addr).await?;
            conn.send(request.build(target)?).await
        };
        let result = tokio::time::timeout(budget, attempt)
            .await
            .unwrap_or(Err(TransportError::Timeout));
        if result.is_err() {
            self.conns.retain(|(a, _)| *a != addr);
        }
        result
    }
}

/// The worker's open connection to `addr`, opened (again) when needed.
async fn conn_for(
    conns: &mut Vec<(SocketAddr, Conn)>,
    addr: SocketAddr,
) -> Result<&mut Conn, TransportError> {
    if let Some(i) = conns.iter().position(|(a, _)| *a == addr) {
        if !conns[i].1.is_closed() {
            return Ok(&mut conns[i].1);
        }
        // The server closed an idle keep-alive connection: reopen silently.
        conns.swap_remove(i);
    }
    let conn = Conn::open(addr).await?;
    conns.push((addr, conn));
    let last = conns.len() - 1;
    Ok(&mut conns[last].1)
}

//! The workload of the seed scenario: synthetic users and documents of the
//! todo example (examples/todo-api), the seeding loop, and the CRUD mix.
//!
//! - **Users** `0..U` are `x-client-id`s (`user-00042`); user `u` belongs to
//!   tenant `u % T`.
//! - **Documents** `0..D` are todos; document `i` is created by user
//!   `i % U`, so the documents of a user, and the users of a tenant, are
//!   spread evenly, and consecutive creates go to different users and
//!   tenants. Its title and `done` flag derive from `(rng seed, i)` alone.
//! - **Seeding** creates every document with `POST /todos` at a bounded
//!   concurrency. The example limits writes per client (20/s, bursts of 40,
//!   GCRA), so the seeder paces each user a little below that on its side
//!   ([`Pacer`]); a 429 that still happens is retried after its
//!   `retry-after`. At full size (10,000 users) the pacing never binds.
//! - **The CRUD mix** is a closed loop: each connection picks an operation
//!   by weight, a user at random (hence a tenant), and for reads and updates
//!   a document of that tenant created while seeding. Updates are `PUT` with
//!   `If-Match` carrying the version this client last saw (1, or what an
//!   earlier update answered), so a 412 means a real concurrent update.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use http::{Method, Request};
use http_body_util::Full;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;

use crate::client::{Conn, Reply};
use crate::errors::{Outcomes, TransportError};
use crate::histogram::Latencies;
use crate::run::run_spread;

/// The example's write quota per client is 20/s with bursts of 40; the
/// seeder stays a little below it.
const PACE_INTERVAL: Duration = Duration::from_millis(52);
/// Burst the seeder allows itself per user (the example allows 40).
const PACE_BURST: u64 = 38;
/// 429s retried per document before it counts as failed.
const MAX_429_RETRIES: u32 = 50;
/// Transport failures retried per document (on a new connection).
const MAX_TRANSPORT_RETRIES: u32 = 3;
/// Page size of the list operation.
pub const LIST_LIMIT: u32 = 20;

const X_CLIENT_ID: HeaderName = HeaderName::from_static("x-client-id");
const IF_MATCH: HeaderName = HeaderName::from_static("if-match");

/// How big the data set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Tenants (each has the todo example deployed).
    pub tenants: u32,
    /// Synthetic users.
    pub users: u64,
    /// Documents.
    pub documents: u64,
}

impl Size {
    /// `users` and `documents` scaled by `scale` (at least 1 each), and no
    /// more tenants than users (a tenant without users would stay empty).
    pub fn scaled(tenants: u32, users: u64, documents: u64, scale: f64) -> Result<Self> {
        if !(scale.is_finite() && scale > 0.0) {
            bail!("--scale must be a positive number, got {scale}");
        }
        let scale_count = |n: u64| ((n as f64 * scale).round() as u64).max(1);
        let users = scale_count(users);
        let tenants = u32::try_from(u64::from(tenants.max(1)).min(users))?;
        Ok(Self {
            tenants,
            users,
            documents: scale_count(documents),
        })
    }

    /// The tenant of user `u`.
    pub fn tenant_of_user(&self, user: u64) -> u32 {
        // < tenants, a u32.
        (user % u64::from(self.tenants)) as u32
    }

    /// The user who creates document `i`.
    pub fn user_of_document(&self, i: u64) -> u64 {
        i % self.users
    }
}

/// Name of tenant `t`.
pub fn tenant_name(t: u32) -> String {
    format!("seed{t:04}")
}

/// `x-client-id` of user `u`.
pub fn client_id(user: u64) -> String {
    format!("user-{user:05}")
}

/// One CRUD operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    /// `GET /todos/<id>` (read-through cache).
    Get,
    /// `GET /todos?limit=20` (first page).
    List,
    /// `POST /todos`.
    Create,
    /// `PUT /todos/<id>` with `If-Match`.
    Update,
}

impl Op {
    /// Every operation, in table order.
    pub const ALL: [Op; 4] = [Op::Get, Op::List, Op::Create, Op::Update];

    /// Name in `--crud-mix`.
    pub fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::List => "list",
            Op::Create => "create",
            Op::Update => "update",
        }
    }

    /// What the operation sends, for the table.
    pub fn request(self) -> String {
        match self {
            Op::Get => "GET /todos/<id>".to_owned(),
            Op::List => format!("GET /todos?limit={LIST_LIMIT}"),
            Op::Create => "POST /todos".to_owned(),
            Op::Update => "PUT /todos/<id> + If-Match".to_owned(),
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Weights of the operations (`get=70,list=10,create=15,update=5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mix {
    weights: [u32; 4],
}

impl Mix {
    /// Weight of `op`.
    pub fn weight(&self, op: Op) -> u32 {
        self.weights[op.index()]
    }

    /// Sum of the weights.
    pub fn total(&self) -> u32 {
        self.weights.iter().sum()
    }

    /// Picks an operation with probability weight / total.
    pub fn pick(&self, rng: &mut impl Rng) -> Op {
        let mut r = rng.random_range(0..self.total());
        for op in Op::ALL {
            let w = self.weight(op);
            if r < w {
                return op;
            }
            r -= w;
        }
        Op::Get
    }
}

impl FromStr for Mix {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        let mut weights = [0u32; 4];
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .with_context(|| format!("--crud-mix part {part:?} must be NAME=WEIGHT"))?;
            let op = Op::ALL
                .into_iter()
                .find(|op| op.name() == name.trim())
                .with_context(|| {
                    format!("--crud-mix: unknown operation {name:?} (get, list, create, update)")
                })?;
            weights[op.index()] = weight
                .trim()
                .parse()
                .with_context(|| format!("--crud-mix: invalid weight in {part:?}"))?;
        }
        let mix = Self { weights };
        if mix.total() == 0 {
            bail!("--crud-mix {s:?} gives every operation weight 0");
        }
        Ok(mix)
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = Op::ALL
            .iter()
            .map(|op| format!("{}={}", op.name(), self.weight(*op)))
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// Client-side GCRA per user: when each user may send its next write so
/// that the server's per-client limit is not hit.
pub struct Pacer {
    epoch: Instant,
    interval: u64,
    tolerance: u64,
    /// Theoretical arrival time per user, nanoseconds since `epoch`.
    tats: Mutex<Vec<u64>>,
}

impl Pacer {
    /// `users` users, each allowed `burst` writes at once and one per
    /// `interval` after that.
    pub fn new(users: usize, interval: Duration, burst: u64) -> Self {
        let interval = u64::try_from(interval.as_nanos()).unwrap_or(u64::MAX);
        Self {
            epoch: Instant::now(),
            interval,
            tolerance: interval.saturating_mul(burst.saturating_sub(1)),
            tats: Mutex::new(vec![0; users]),
        }
    }

    /// Reserves the next write of `user`; returns when to send it.
    pub fn reserve(&self, user: usize) -> Instant {
        let now = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.epoch + Duration::from_nanos(self.reserve_at(user, now))
    }

    /// [`Pacer::reserve`] at `now` nanoseconds since the epoch.
    fn reserve_at(&self, user: usize, now: u64) -> u64 {
        let mut tats = self.tats.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(slot) = tats.get_mut(user) else {
            return now;
        };
        let tat = (*slot).max(now);
        *slot = tat.saturating_add(self.interval);
        now.max(tat.saturating_sub(self.tolerance))
    }
}

/// 64 pseudo-random bits from `(seed, i)` (splitmix64 finalizer).
pub fn mix64(seed: u64, i: u64) -> u64 {
    let mut z = seed
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(i)
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const WORDS: [&str; 32] = [
    "buy", "milk", "call", "mom", "fix", "the", "bike", "write", "report", "book", "flights",
    "renew", "passport", "water", "plants", "pay", "rent", "clean", "kitchen", "review", "pull",
    "request", "plan", "sprint", "order", "printer", "ink", "walk", "dog", "backup", "laptop",
    "gym",
];

/// Title of document `i`: 2 to 7 words and its number (20 to 60 bytes).
pub fn title(seed: u64, i: u64) -> String {
    let bits = mix64(seed, i);
    let words = 2 + (bits % 6) as usize;
    let mut t = String::with_capacity(64);
    for w in 0..words {
        let pick = (bits >> (8 + 5 * w)) as usize % WORDS.len();
        t.push_str(WORDS[pick]);
        t.push(' ');
    }
    t.push_str(&format!("#{i}"));
    t
}

/// The `POST /todos` body of document `i` (one in five is done).
pub fn create_body(seed: u64, i: u64) -> Bytes {
    let done = mix64(seed ^ 0xd0e, i).is_multiple_of(5);
    let body = serde_json::json!({ "title": title(seed, i), "done": done });
    Bytes::from(body.to_string())
}

/// A todo as the example answers it (the fields the bench reads).
#[derive(Debug, Deserialize)]
struct TodoReply {
    id: u64,
    version: u64,
}

/// How long a 429 asks to wait (`retry-after` in seconds, fractional
/// accepted), at least 10 ms and at most 5 s; 100 ms without the header.
pub fn retry_after(headers: &HeaderMap) -> Duration {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(Duration::from_millis(100), |s| {
            Duration::from_secs_f64(s.clamp(0.01, 5.0))
        })
}

/// Where requests go.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The gateway address.
    pub connect: SocketAddr,
    /// Host header of each tenant, `seed0003.localhost:PORT`.
    pub hosts: Vec<HeaderValue>,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Endpoint {
    fn request(
        &self,
        method: Method,
        tenant: u32,
        path: &str,
        user: u64,
        body: Option<Bytes>,
    ) -> Result<Request<Full<Bytes>>, TransportError> {
        let host = self
            .hosts
            .get(tenant as usize)
            .ok_or(TransportError::Other)?;
        let client = HeaderValue::from_str(&client_id(user)).map_err(|_| TransportError::Other)?;
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, host.clone())
            .header(X_CLIENT_ID, client);
        if body.is_some() {
            req = req.header(CONTENT_TYPE, "application/json");
        }
        req.body(Full::new(body.unwrap_or_default()))
            .map_err(|_| TransportError::Other)
    }
}

/// A worker's connection, opened again after any failure.
#[derive(Default)]
struct Link {
    conn: Option<Conn>,
}

impl Link {
    async fn exchange(
        &mut self,
        ep: &Endpoint,
        req: Request<Full<Bytes>>,
    ) -> Result<Reply, TransportError> {
        let attempt = async {
            if self.conn.as_ref().is_none_or(Conn::is_closed) {
                self.conn = Some(Conn::open(ep.connect).await?);
            }
            match self.conn.as_mut() {
                Some(conn) => conn.send_full(req).await,
                None => Err(TransportError::Other),
            }
        };
        let result = tokio::time::timeout(ep.timeout, attempt)
            .await
            .unwrap_or(Err(TransportError::Timeout));
        if result.is_err() {
            self.conn = None;
        }
        result
    }
}

/// What seeding did.
#[derive(Debug, Default)]
pub struct Seeded {
    /// Latency of each final create attempt (send to last byte; the
    /// pacer's wait is not included).
    pub latencies: Latencies,
    /// Final outcome of each document.
    pub outcomes: Outcomes,
    /// 429s answered and retried.
    pub retried_429: u64,
    /// Transport failures retried.
    pub retried_transport: u64,
    /// Ids created, per tenant, sorted.
    pub ids: Vec<Vec<u64>>,
    /// The first unexpected answer, for the notes.
    pub first_failure: Option<String>,
    /// Wall time.
    pub elapsed: Duration,
}

impl Seeded {
    /// Documents created.
    pub fn created(&self) -> u64 {
        self.ids.iter().map(|v| v.len() as u64).sum()
    }

    fn merge(&mut self, other: Seeded) {
        self.latencies.merge(&other.latencies);
        self.outcomes.merge(&other.outcomes);
        self.retried_429 += other.retried_429;
        self.retried_transport += other.retried_transport;
        for (mine, theirs) in self.ids.iter_mut().zip(other.ids) {
            mine.extend(theirs);
        }
        if self.first_failure.is_none() {
            self.first_failure = other.first_failure;
        }
    }
}

struct SeedShared {
    size: Size,
    ep: Endpoint,
    seed: u64,
    next: AtomicU64,
    pacer: Pacer,
    progress_every: u64,
    started: Instant,
}

type Task<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// Creates every document through `POST /todos`, `concurrency` at a time
/// over `threads` load generator threads.
pub fn seed(
    size: Size,
    ep: Endpoint,
    seed: u64,
    concurrency: usize,
    threads: usize,
) -> Result<Seeded> {
    let users = usize::try_from(size.users)?;
    let shared = Arc::new(SeedShared {
        size,
        ep,
        seed,
        next: AtomicU64::new(0),
        pacer: Pacer::new(users, PACE_INTERVAL, PACE_BURST),
        progress_every: (size.documents / 10).max(1000),
        started: Instant::now(),
    });
    let workers: Vec<Task<Seeded>> = (0..concurrency.max(1))
        .map(|_| Box::pin(seed_worker(Arc::clone(&shared))) as Task<Seeded>)
        .collect();
    let mut total = Seeded {
        ids: vec![Vec::new(); size.tenants as usize],
        ..Seeded::default()
    };
    for part in run_spread(workers, threads)? {
        total.merge(part);
    }
    total.elapsed = shared.started.elapsed();
    for ids in &mut total.ids {
        ids.sort_unstable();
    }
    Ok(total)
}

async fn seed_worker(shared: Arc<SeedShared>) -> Seeded {
    let size = shared.size;
    let mut out = Seeded {
        ids: vec![Vec::new(); size.tenants as usize],
        ..Seeded::default()
    };
    let mut link = Link::default();
    loop {
        let i = shared.next.fetch_add(1, Ordering::Relaxed);
        if i >= size.documents {
            break;
        }
        if i > 0 && i.is_multiple_of(shared.progress_every) {
            let secs = shared.started.elapsed().as_secs_f64();
            eprintln!(
                "  seeding: {i}/{} in {secs:.1} s ({:.0} docs/s)",
                size.documents,
                i as f64 / secs.max(1e-9)
            );
        }
        let user = size.user_of_document(i);
        let tenant = size.tenant_of_user(user);
        // users fits in usize (checked in `seed`).
        let send_at = shared.pacer.reserve(user as usize);
        tokio::time::sleep_until(send_at.into()).await;
        let body = create_body(shared.seed, i);
        let (mut n429, mut ntransport) = (0u32, 0u32);
        loop {
            let req =
                match shared
                    .ep
                    .request(Method::POST, tenant, "/todos", user, Some(body.clone()))
                {
                    Ok(r) => r,
                    Err(kind) => {
                        out.outcomes.transport(kind);
                        break;
                    }
                };
            let sent = Instant::now();
            match link.exchange(&shared.ep, req).await {
                Ok(reply) if reply.status == 429 && n429 < MAX_429_RETRIES => {
                    n429 += 1;
                    out.retried_429 += 1;
                    tokio::time::sleep(retry_after(&reply.headers)).await;
                }
                Ok(reply) => {
                    out.latencies.record(sent.elapsed());
                    out.outcomes.status(reply.status);
                    match serde_json::from_slice::<TodoReply>(&reply.body) {
                        Ok(todo) if reply.status == 201 => out.ids[tenant as usize].push(todo.id),
                        _ => {
                            out.first_failure.get_or_insert_with(|| {
                                format!(
                                    "{} answered {}: {}",
                                    tenant_name(tenant),
                                    reply.status,
                                    String::from_utf8_lossy(&reply.body)
                                        .chars()
                                        .take(200)
                                        .collect::<String>()
                                )
                            });
                        }
                    }
                    break;
                }
                Err(_) if ntransport < MAX_TRANSPORT_RETRIES => {
                    ntransport += 1;
                    out.retried_transport += 1;
                }
                Err(kind) => {
                    out.outcomes.transport(kind);
                    out.first_failure
                        .get_or_insert_with(|| format!("{}: {kind}", tenant_name(tenant)));
                    break;
                }
            }
        }
    }
    out
}

/// What one CRUD run measured, per operation.
#[derive(Debug, Default, Clone)]
pub struct CrudTally {
    /// Latency per operation ([`Op::ALL`] order).
    pub latencies: [Latencies; 4],
    /// Outcomes per operation.
    pub outcomes: [Outcomes; 4],
    /// Wall time of the measured window.
    pub elapsed: Duration,
}

impl CrudTally {
    fn merge(&mut self, other: &CrudTally) {
        for i in 0..4 {
            self.latencies[i].merge(&other.latencies[i]);
            self.outcomes[i].merge(&other.outcomes[i]);
        }
    }

    /// All operations together.
    pub fn all(&self) -> (Latencies, Outcomes) {
        let mut l = Latencies::new();
        let mut o = Outcomes::default();
        for i in 0..4 {
            l.merge(&self.latencies[i]);
            o.merge(&self.outcomes[i]);
        }
        (l, o)
    }
}

/// The state the CRUD workers share.
pub struct Crud {
    size: Size,
    ep: Endpoint,
    mix: Mix,
    seed: u64,
    /// Seeded ids per tenant.
    ids: Vec<Vec<u64>>,
    /// Last version seen per (tenant, id) after an update; 1 if absent.
    versions: Mutex<HashMap<(u32, u64), u64>>,
    /// Numbers of documents created by the mix, after the seeded ones.
    next_create: AtomicU64,
}

impl Crud {
    /// The mix over the seeded documents.
    pub fn new(size: Size, ep: Endpoint, mix: Mix, seed: u64, ids: Vec<Vec<u64>>) -> Self {
        Self {
            size,
            ep,
            mix,
            seed,
            ids,
            versions: Mutex::new(HashMap::new()),
            next_create: AtomicU64::new(size.documents),
        }
    }

    /// Runs the mix closed-loop on `connections` connections for
    /// `duration`; `round` varies the random choices between runs.
    pub fn run(
        self: &Arc<Self>,
        connections: usize,
        duration: Duration,
        threads: usize,
        round: u64,
    ) -> Result<CrudTally> {
        let started = Instant::now();
        let deadline = started + duration;
        let workers: Vec<Task<CrudTally>> = (0..connections.max(1))
            .map(|w| {
                let rng = StdRng::seed_from_u64(mix64(self.seed ^ round, w as u64));
                Box::pin(Arc::clone(self).worker(rng, deadline)) as Task<CrudTally>
            })
            .collect();
        let mut total = CrudTally::default();
        for part in run_spread(workers, threads)? {
            total.merge(&part);
        }
        total.elapsed = started.elapsed();
        Ok(total)
    }

    async fn worker(self: Arc<Self>, mut rng: StdRng, deadline: Instant) -> CrudTally {
        let mut tally = CrudTally::default();
        let mut link = Link::default();
        loop {
            let sent = Instant::now();
            if sent >= deadline {
                break;
            }
            let user = rng.random_range(0..self.size.users);
            let tenant = self.size.tenant_of_user(user);
            let ids = &self.ids[tenant as usize];
            let mut op = self.mix.pick(&mut rng);
            if ids.is_empty() && matches!(op, Op::Get | Op::Update) {
                // A tenant without documents (tiny scales only).
                op = Op::List;
            }
            let id = if ids.is_empty() {
                0
            } else {
                ids[rng.random_range(0..ids.len())]
            };
            let result = self.one(&mut link, &mut rng, op, tenant, user, id).await;
            let i = op.index();
            match result {
                Ok(reply) => {
                    tally.latencies[i].record(sent.elapsed());
                    tally.outcomes[i].status(reply.status);
                    if op == Op::Update && reply.status == 200 {
                        self.saw_update(tenant, &reply.body);
                    }
                }
                Err(kind) => {
                    tally.outcomes[i].transport(kind);
                    if kind == TransportError::Connect {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        }
        tally
    }

    async fn one(
        &self,
        link: &mut Link,
        rng: &mut StdRng,
        op: Op,
        tenant: u32,
        user: u64,
        id: u64,
    ) -> Result<Reply, TransportError> {
        let ep = &self.ep;
        let req = match op {
            Op::Get => ep.request(Method::GET, tenant, &format!("/todos/{id}"), user, None)?,
            Op::List => ep.request(
                Method::GET,
                tenant,
                &format!("/todos?limit={LIST_LIMIT}"),
                user,
                None,
            )?,
            Op::Create => {
                let n = self.next_create.fetch_add(1, Ordering::Relaxed);
                let body = create_body(self.seed, n);
                ep.request(Method::POST, tenant, "/todos", user, Some(body))?
            }
            Op::Update => {
                let version = self
                    .versions
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&(tenant, id))
                    .copied()
                    .unwrap_or(1);
                let body = serde_json::json!({
                    "title": title(self.seed ^ 0x0bd, rng.random()),
                    "done": rng.random_bool(0.5),
                });
                let mut req = ep.request(
                    Method::PUT,
                    tenant,
                    &format!("/todos/{id}"),
                    user,
                    Some(Bytes::from(body.to_string())),
                )?;
                let tag = HeaderValue::from_str(&format!("\"{version}\""))
                    .map_err(|_| TransportError::Other)?;
                req.headers_mut().insert(IF_MATCH, tag);
                req
            }
        };
        link.exchange(ep, req).await
    }

    /// Remembers the version an update answered.
    fn saw_update(&self, tenant: u32, body: &[u8]) {
        if let Ok(todo) = serde_json::from_slice::<TodoReply>(body) {
            let mut versions = self.versions.lock().unwrap_or_else(PoisonError::into_inner);
            let v = versions.entry((tenant, todo.id)).or_insert(1);
            *v = (*v).max(todo.version);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_scale_and_keep_at_least_one() {
        let full = Size::scaled(10, 10_000, 1_000_000, 1.0).expect("valid");
        assert_eq!(
            (full.tenants, full.users, full.documents),
            (10, 10_000, 1_000_000)
        );
        let ci = Size::scaled(10, 10_000, 1_000_000, 0.001).expect("valid");
        assert_eq!((ci.tenants, ci.users, ci.documents), (10, 10, 1000));
        let tiny = Size::scaled(10, 10_000, 1_000_000, 1e-6).expect("valid");
        assert_eq!((tiny.tenants, tiny.users, tiny.documents), (1, 1, 1));
        assert!(Size::scaled(10, 1, 1, 0.0).is_err());
        assert!(Size::scaled(10, 1, 1, f64::NAN).is_err());
    }

    #[test]
    fn documents_spread_over_users_and_tenants() {
        let s = Size::scaled(10, 10_000, 1_000_000, 0.01).expect("valid");
        let mut per_tenant = vec![0u64; s.tenants as usize];
        for i in 0..s.documents {
            per_tenant[s.tenant_of_user(s.user_of_document(i)) as usize] += 1;
        }
        assert!(
            per_tenant.iter().all(|&n| n == s.documents / 10),
            "{per_tenant:?}"
        );
        assert_eq!(tenant_name(3), "seed0003");
        assert_eq!(client_id(42), "user-00042");
    }

    #[test]
    fn mix_parses_and_picks_by_weight() {
        let mix: Mix = "get=70,list=10,create=15,update=5".parse().expect("valid");
        assert_eq!(mix.total(), 100);
        assert_eq!(mix.to_string(), "get=70,list=10,create=15,update=5");
        let mut rng = StdRng::seed_from_u64(1);
        let mut counts = [0u32; 4];
        for _ in 0..100_000 {
            counts[mix.pick(&mut rng).index()] += 1;
        }
        // Within 1% of the weights.
        for (op, want) in Op::ALL.iter().zip([70_000, 10_000, 15_000, 5_000]) {
            let got = counts[op.index()];
            assert!(got.abs_diff(want) < 1000, "{op:?}: {got}");
        }
        let only_get: Mix = "get=1".parse().expect("valid");
        assert_eq!(only_get.pick(&mut rng), Op::Get);
        assert!("get=0".parse::<Mix>().is_err());
        assert!("read=5".parse::<Mix>().is_err());
        assert!("get".parse::<Mix>().is_err());
    }

    #[test]
    fn pacer_allows_a_burst_then_the_rate() {
        let p = Pacer::new(2, Duration::from_nanos(100), 3);
        // Three at once, then one per 100 ns.
        assert_eq!(p.reserve_at(0, 1000), 1000);
        assert_eq!(p.reserve_at(0, 1000), 1000);
        assert_eq!(p.reserve_at(0, 1000), 1000);
        assert_eq!(p.reserve_at(0, 1000), 1100);
        assert_eq!(p.reserve_at(0, 1000), 1200);
        // Another user is independent.
        assert_eq!(p.reserve_at(1, 1000), 1000);
        // After a long pause the burst is back.
        assert_eq!(p.reserve_at(0, 10_000), 10_000);
        assert_eq!(p.reserve_at(0, 10_000), 10_000);
    }

    #[test]
    fn documents_are_deterministic() {
        assert_eq!(create_body(1, 7), create_body(1, 7));
        assert_ne!(create_body(1, 7), create_body(2, 7));
        assert_ne!(title(1, 7), title(1, 8));
        let t = title(1, 123_456);
        assert!(t.ends_with("#123456") && t.len() <= 200, "{t}");
        let body: serde_json::Value = serde_json::from_slice(&create_body(1, 7)).expect("json");
        assert!(body["title"].is_string() && body["done"].is_boolean());
    }

    #[test]
    fn retry_after_is_bounded() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), Duration::from_millis(100));
        h.insert(RETRY_AFTER, HeaderValue::from_static("1"));
        assert_eq!(retry_after(&h), Duration::from_secs(1));
        h.insert(RETRY_AFTER, HeaderValue::from_static("0"));
        assert_eq!(retry_after(&h), Duration::from_millis(10));
        h.insert(RETRY_AFTER, HeaderValue::from_static("3600"));
        assert_eq!(retry_after(&h), Duration::from_secs(5));
    }
}

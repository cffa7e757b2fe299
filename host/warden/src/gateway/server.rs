//! The gateway's accept loop: HTTP/1.1 with keep-alive and HTTP/2 (h2c,
//! prior knowledge) on one listener; bounded connections; and graceful
//! shutdown: on the signal, stop accepting, let in-flight exchanges finish
//! up to a deadline.
//!
//! Connections are a resource a client can hold without sending a request,
//! so each is bounded: a connection that has not started a request within
//! `header_read_timeout_ms` (nothing sent, or only an HTTP/2 preface) is
//! closed, as is one idle for `idle_timeout_ms` with no request waiting for
//! its answer; HTTP/2 connections are pinged; the node and each client
//! address may hold at most `max` and `max_per_client` connections (more
//! are closed on accept); and the accept loop backs off when it runs out of
//! file descriptors instead of spinning.

use super::Gateway;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use serde::Deserialize;
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;

/// The peer address of the connection a request came on (a request
/// extension): what the login throttle counts failures per.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::SocketAddr);

/// Bounds on the gateway's connections (`[connections]` in host config).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionLimits {
    /// A new connection must start a request within this, milliseconds.
    pub header_read_timeout_ms: u64,
    /// A connection with nothing in flight and no bytes either way for
    /// this long is closed, milliseconds.
    pub idle_timeout_ms: u64,
    /// HTTP/2 ping interval, milliseconds (a peer that does not answer
    /// within the same time is dropped).
    pub h2_keepalive_ms: u64,
    /// Open connections across the node.
    pub max: usize,
    /// Open connections from one client address.
    pub max_per_client: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            h2_keepalive_ms: 20_000,
            max: 10_000,
            max_per_client: 256,
        }
    }
}

/// Serves `gateway` on `listener` until `shutdown` resolves, then drains
/// connections for at most `grace`.
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let header_read = Duration::from_millis(limits.header_read_timeout_ms);
    let keepalive = Duration::from_millis(limits.h2_keepalive_ms);
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .keep_alive(true)
        .header_read_timeout(header_read)
        .timer(hyper_util::rt::TokioTimer::new());
    builder
        .http2()
        .keep_alive_interval(keepalive)
        .keep_alive_timeout(keepalive)
        .timer(hyper_util::rt::TokioTimer::new());
    let graceful = GracefulShutdown::new();
    let counts = Arc::new(Counts::default());
    let mut backoff = Duration::from_millis(5);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        // Typically EMFILE: back off instead of spinning.
                        tracing::warn!(error = %e, backoff_ms = backoff.as_millis() as u64, "accept failed");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(1));
                        continue;
                    }
                };
                backoff = Duration::from_millis(5);
                let Some(slot) = counts.admit(peer.ip(), &limits) else {
                    // Over a cap: closed at once, before any byte is read.
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let activity = Arc::new(Activity::new());
                let io = Watched { inner: stream, activity: activity.clone() };
                let gateway = gateway.clone();
                let tracker = activity.clone();
                let service = service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                    let gateway = gateway.clone();
                    let tracker = tracker.clone();
                    req.extensions_mut().insert(ClientAddr(peer));
                    async move {
                        let _pending = tracker.request_started();
                        Ok::<_, Infallible>(gateway.handle(req).await)
                    }
                });
                let conn = builder.serve_connection(TokioIo::new(io), service).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _slot = slot;
                    tokio::pin!(conn);
                    let idle = Duration::from_millis(limits.idle_timeout_ms);
                    let check = header_read.min(idle).min(Duration::from_secs(1)).max(Duration::from_millis(50));
                    loop {
                        tokio::select! {
                            result = &mut conn => {
                                if let Err(e) = result {
                                    tracing::debug!(error = %e, "connection ended with an error");
                                }
                                break;
                            }
                            () = tokio::time::sleep(check) => {
                                if activity.should_close(header_read, idle) {
                                    tracing::debug!("closing an idle connection");
                                    break;
                                }
                            }
                        }
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_ms = grace.as_millis() as u64,
            "shutdown grace elapsed with requests in flight"
        );
    }
}

/// Open connections, node-wide and per client address.
#[derive(Debug, Default)]
struct Counts {
    total: AtomicUsize,
    per_client: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted connection; dropping it gives its place back.
struct Slot {
    counts: Arc<Counts>,
    ip: IpAddr,
}

impl Counts {
    fn admit(self: &Arc<Self>, ip: IpAddr, limits: &ConnectionLimits) -> Option<Slot> {
        let mut per_client = self.per_client.lock().ok()?;
        let mine = per_client.entry(ip).or_insert(0);
        if *mine >= limits.max_per_client || self.total.load(Ordering::Relaxed) >= limits.max {
            if *mine == 0 {
                per_client.remove(&ip);
            }
            return None;
        }
        *mine += 1;
        self.total.fetch_add(1, Ordering::Relaxed);
        Some(Slot {
            counts: self.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.counts.total.fetch_sub(1, Ordering::Relaxed);
        if let Ok(mut per_client) = self.counts.per_client.lock()
            && let Some(n) = per_client.get_mut(&self.ip)
        {
            *n -= 1;
            if *n == 0 {
                per_client.remove(&self.ip);
            }
        }
    }
}

/// What a connection did lately: how often bytes moved, requests started
/// and still waiting for their answer. The I/O path only bumps a counter
/// (no clock read per syscall); the watchdog notices when it stops moving.
#[derive(Debug)]
struct Activity {
    opened: Instant,
    ios: AtomicU64,
    requests: AtomicU64,
    pending: AtomicUsize,
    /// The watchdog's view: the counter it last saw, and since when
    /// (milliseconds after `opened`).
    seen: Mutex<(u64, u64)>,
}

/// A request waiting for its answer; dropping it marks it answered.
struct Pending(Arc<Activity>);

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.pending.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

impl Activity {
    fn new() -> Self {
        Self {
            opened: Instant::now(),
            ios: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            pending: AtomicUsize::new(0),
            seen: Mutex::new((0, 0)),
        }
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn touch(&self) {
        self.ios.fetch_add(1, Ordering::Relaxed);
    }

    /// Milliseconds since the I/O counter last moved, as far as the
    /// watchdog has seen.
    fn quiet_ms(&self, now: u64) -> u64 {
        let ios = self.ios.load(Ordering::Relaxed);
        let Ok(mut seen) = self.seen.lock() else {
            return 0;
        };
        if seen.0 != ios {
            *seen = (ios, now);
        }
        now.saturating_sub(seen.1)
    }

    fn request_started(self: &Arc<Self>) -> Pending {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.pending.fetch_add(1, Ordering::Relaxed);
        Pending(self.clone())
    }

    /// Never started a request within `first`, or idle for `idle` with
    /// nothing in flight.
    fn should_close(&self, first: Duration, idle: Duration) -> bool {
        let now = self.elapsed_ms();
        if self.requests.load(Ordering::Relaxed) == 0 {
            return u128::from(now) >= first.as_millis();
        }
        let quiet = self.quiet_ms(now);
        self.pending.load(Ordering::Relaxed) == 0 && u128::from(quiet) >= idle.as_millis()
    }
}

/// A socket that records when bytes last moved.
struct Watched<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_without_a_request_closes_after_the_first_timeout() {
        let activity = Arc::new(Activity::new());
        assert!(!activity.should_close(Duration::from_secs(60), Duration::from_secs(60)));
        assert!(activity.should_close(Duration::ZERO, Duration::from_secs(60)));
        let pending = activity.request_started();
        assert!(
            !activity.should_close(Duration::ZERO, Duration::ZERO),
            "a request waiting for its answer keeps the connection"
        );
        drop(pending);
        assert!(activity.should_close(Duration::ZERO, Duration::ZERO));
    }

    #[test]
    fn caps_apply_per_client_and_node_wide() {
        let counts = Arc::new(Counts::default());
        let limits = ConnectionLimits {
            max: 3,
            max_per_client: 2,
            ..ConnectionLimits::default()
        };
        let a: IpAddr = "10.0.0.1".parse().expect("ip");
        let b: IpAddr = "10.0.0.2".parse().expect("ip");
        let first = counts.admit(a, &limits).expect("a1");
        let _second = counts.admit(a, &limits).expect("a2");
        assert!(counts.admit(a, &limits).is_none(), "a is at its cap");
        let _third = counts.admit(b, &limits).expect("b1");
        assert!(counts.admit(b, &limits).is_none(), "the node is at its cap");
        drop(first);
        assert!(counts.admit(a, &limits).is_some(), "a slot came back");
    }
}

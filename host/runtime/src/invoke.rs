//! One request through one fresh instance: the per-request dance.
//!
//! New store (limits, CPU meter, principal) -> incoming-request and
//! response-outparam resources -> a task that instantiates from the
//! pre-instantiated component and calls the handler under a wall-clock
//! deadline -> await the response head. The task keeps running while the
//! guest streams the body; its failure after the head was sent is recorded
//! for the request's log line.

use super::Prepared;
use super::executor::GuestExecutor;
use super::guest_log::GuestLog;
use super::limits::{
    CpuBudgetExceeded, CpuMeter, DeadlineExceeded, MemoryLimitExceeded, MemoryLimiter, WallClock,
};
use super::state::{RequestContext, RequestState, describe_error_code};
use crate::config::EffectiveLimits;
use bytes::Bytes;
use http_body::Body;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use wasmtime::{CallHook, Engine, Store, UpdateDeadline};
use wasmtime_wasi_http::WasiHttpView as _;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// Why a request could not be served by its guest.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The guest spent its CPU budget (e.g. an infinite loop).
    #[error("{0}")]
    CpuBudget(#[from] CpuBudgetExceeded),
    /// The guest ran past its wall-clock deadline.
    #[error("guest exceeded its wall-clock deadline of {0} ms")]
    Timeout(u64),
    /// The guest tried to grow memory past its cap.
    #[error("{0}")]
    Memory(#[from] MemoryLimitExceeded),
    /// The guest holds as many host-side resources as its memory cap
    /// allows (fields, bodies, streams live in the host's memory).
    #[error("guest exceeded its host-side resources: {0}")]
    HostMemory(String),
    /// Every instance slot of the node is in use.
    #[error("no free instance slot on this node")]
    PoolExhausted,
    /// The guest trapped (panic, unreachable, out-of-bounds access...).
    #[error("guest trapped: {0}")]
    Trap(String),
    /// The guest returned without setting a response.
    #[error("guest returned without sending a response")]
    NoResponse,
    /// The guest answered with a wasi:http error code instead of a response.
    #[error("guest reported an error: {0}")]
    Guest(String),
    /// The host failed to set up the request.
    #[error("host error: {0}")]
    Host(String),
}

impl InvokeError {
    /// What the public may be told: a short, generic sentence per code. It
    /// never carries a trap message, a backtrace, a host error chain or a
    /// limit's internal figures; those are in [`Display`](std::fmt::Display),
    /// for the function's log line.
    pub fn public_message(&self) -> &'static str {
        match self {
            Self::CpuBudget(_) => "the function used up its CPU budget",
            Self::Timeout(_) => "the function did not answer in time",
            Self::Memory(_) | Self::HostMemory(_) => "the function ran out of memory",
            Self::PoolExhausted => "the node has no free capacity; retry shortly",
            Self::Trap(_) => "the function failed",
            Self::NoResponse => "the function returned without a response",
            Self::Guest(_) => "the function reported an error",
            Self::Host(_) => "internal error",
        }
    }

    /// HTTP status and stable code for the error response.
    pub fn status_and_code(&self) -> (u16, &'static str) {
        match self {
            Self::CpuBudget(_) => (504, "cpu_budget_exceeded"),
            Self::Timeout(_) => (504, "deadline_exceeded"),
            Self::Memory(_) | Self::HostMemory(_) => (500, "memory_limit_exceeded"),
            Self::PoolExhausted => (503, "capacity_exhausted"),
            Self::Trap(_) => (500, "guest_trapped"),
            Self::NoResponse => (502, "guest_no_response"),
            Self::Guest(_) => (502, "guest_error"),
            Self::Host(_) => (500, "internal"),
        }
    }

    fn classify(err: wasmtime::Error) -> Self {
        let err = match err.downcast::<CpuBudgetExceeded>() {
            Ok(e) => return Self::CpuBudget(e),
            Err(err) => err,
        };
        let err = match err.downcast::<DeadlineExceeded>() {
            Ok(e) => return Self::Timeout(e.timeout_ms),
            Err(err) => err,
        };
        let err = match err.downcast::<MemoryLimitExceeded>() {
            Ok(e) => return Self::Memory(e),
            Err(err) => err,
        };
        if matches!(
            err.downcast_ref::<wasmtime::component::ResourceTableError>(),
            Some(wasmtime::component::ResourceTableError::Full)
        ) {
            return Self::HostMemory(format!("{err:#}"));
        }
        if err
            .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
            .is_some()
        {
            return Self::PoolExhausted;
        }
        // The whole chain: the trap, the wasm backtrace (function names from
        // the name section) and any host context. It goes to the log line,
        // never to the public response.
        Self::Trap(format!("{err:#}"))
    }
}

/// What every request of the node runs on: the engine, the guests'
/// threads and the epoch tick.
pub(super) struct Sandbox<'a> {
    pub engine: &'a Engine,
    pub executor: &'a GuestExecutor,
    pub tick_ms: u64,
}

/// Runs `req` through a fresh instance of `prepared`.
pub(super) async fn invoke<B>(
    sandbox: Sandbox<'_>,
    prepared: &Arc<Prepared>,
    req: hyper::Request<B>,
    limits: &EffectiveLimits,
    ctx: RequestContext,
    log: &GuestLog,
) -> Result<hyper::Response<HyperOutgoingBody>, InvokeError>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    let cpu_ms = u64::try_from(limits.cpu.as_millis()).unwrap_or(u64::MAX);
    let state = RequestState::new(
        log,
        MemoryLimiter::new(limits.memory_bytes),
        CpuMeter::new(cpu_ms, sandbox.tick_ms),
        ctx,
    );
    let clock = WallClock::starting_now(limits.timeout);
    let mut store = Store::new(sandbox.engine, state);
    store.limiter(|s| &mut s.limiter);
    // Host calls are charged to the guest's CPU unless they suspended: the
    // task counts its polls, and a call that began and ended in one poll
    // computed rather than waited.
    let polls = Arc::new(AtomicU64::new(0));
    let hook_polls = polls.clone();
    store.call_hook(move |mut ctx, hook| {
        let poll = hook_polls.load(Ordering::Relaxed);
        match hook {
            CallHook::CallingHost => ctx.data_mut().cpu.enter_host(poll),
            CallHook::ReturningFromHost => {
                clock.check().map_err(wasmtime::Error::new)?;
                ctx.data_mut()
                    .cpu
                    .leave_host(poll)
                    .map_err(wasmtime::Error::new)?
            }
            CallHook::CallingWasm | CallHook::ReturningFromWasm => {}
        }
        Ok(())
    });
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |mut ctx| {
        clock.check().map_err(wasmtime::Error::new)?;
        match ctx.data_mut().cpu.charge() {
            // Yield every tick so a busy guest cannot hold a guest thread
            // hostage while its neighbours wait.
            Ok(()) => Ok(UpdateDeadline::Yield(1)),
            Err(e) => Err(wasmtime::Error::new(e)),
        }
    });

    let (sender, receiver) = tokio::sync::oneshot::channel();
    let host_err = |e: wasmtime::Error| InvokeError::Host(format!("{e:#}"));
    let req = store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Http, req)
        .map_err(host_err)?;
    let out = store
        .data_mut()
        .http()
        .new_response_outparam(sender)
        .map_err(host_err)?;

    let pre = prepared.pre.clone();
    let timeout = limits.timeout;
    let task_log = log.clone();
    // On the guests' own threads: a guest in a synchronous host call holds
    // a guest thread, never a gateway worker.
    let task = sandbox.executor.spawn(async move {
        let run = async {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, req, out)
                .await
        };
        let run = CountPolls::new(run, polls);
        let result = match tokio::time::timeout(timeout, run).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(InvokeError::classify(e)),
            Err(_) => Err(InvokeError::Timeout(
                u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            )),
        };
        if let Err(e) = &result {
            task_log.set_error(e.to_string());
        }
        result
    });

    match receiver.await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(code)) => Err(InvokeError::Guest(describe_error_code(&code))),
        Err(_) => match task.await {
            Ok(Ok(())) => Err(InvokeError::NoResponse),
            Ok(Err(e)) => Err(e),
            Err(join) => Err(InvokeError::Host(format!("guest task failed: {join}"))),
        },
    }
}

/// Counts how often the guest's future is polled, so the CPU meter can tell
/// a host call that computed (one poll) from one that waited (several).
struct CountPolls<F> {
    inner: Pin<Box<F>>,
    polls: Arc<AtomicU64>,
}

impl<F: Future> CountPolls<F> {
    fn new(inner: F, polls: Arc<AtomicU64>) -> Self {
        Self {
            inner: Box::pin(inner),
            polls,
        }
    }
}

impl<F: Future> Future for CountPolls<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, Ordering::Relaxed);
        self.inner.as_mut().poll(cx)
    }
}

//! The guests' own threads: a tokio runtime apart from the gateway's.
//!
//! Guests run wasm and make host calls, some synchronous (random bytes,
//! fields, hashing). On the gateway's workers, a guest inside such a call
//! holds a worker that also accepts connections, parses requests, drives
//! timers and writes other tenants' responses. On their own runtime, the
//! worst a guest can do is hold a guest thread; the gateway keeps
//! answering, and the wall-clock deadline is checked on every epoch tick
//! (see `invoke`), so it fires on the guest's next tick even when every
//! guest thread is busy.
//!
//! Guest threads look for newly arrived requests before resuming a guest
//! that yielded at an epoch tick, so a neighbour's request starts within a
//! tick however many guests burn CPU. They can also run at a lower OS
//! priority (`[pool] guest_nice`, off by default: it costs throughput at
//! saturation), so that accepting, parsing and writing responses preempt
//! a CPU-bound guest at once.

use std::future::Future;
use tokio::task::JoinHandle;

/// Name of every guest thread (seen in `top -H`, and checked by a test).
pub const GUEST_THREAD_NAME: &str = "warden-guest";

/// A multi-thread tokio runtime that runs guest tasks only.
pub struct GuestExecutor {
    // `Option` so that `Drop` can take it: a runtime dropped inside an async
    // context must be shut down in the background, not joined.
    runtime: Option<tokio::runtime::Runtime>,
    threads: usize,
}

impl std::fmt::Debug for GuestExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuestExecutor")
            .field("threads", &self.threads)
            .finish()
    }
}

impl GuestExecutor {
    /// Starts `threads` guest threads (0: one per available core) at
    /// niceness `nice` (0: the process's own).
    pub fn start(threads: usize, nice: i32) -> std::io::Result<Self> {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(2, usize::from)
        } else {
            threads
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .global_queue_interval(1)
            .on_thread_start(move || lower_priority(nice))
            .thread_name(GUEST_THREAD_NAME)
            .enable_all()
            .build()?;
        Ok(Self {
            runtime: Some(runtime),
            threads,
        })
    }

    /// Guest threads running.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `task` on a guest thread.
    pub fn spawn<F>(&self, task: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.runtime {
            Some(runtime) => runtime.spawn(task),
            // Only reachable during drop, when nobody can call this.
            None => tokio::spawn(task),
        }
    }
}

/// Makes the calling thread `nice` steps nicer; a failure (not permitted,
/// not Linux) only costs the neighbours some latency, so it is logged.
fn lower_priority(nice: i32) {
    if nice == 0 {
        return;
    }
    let thread = rustix::thread::gettid();
    let current = rustix::process::getpriority_process(Some(thread)).unwrap_or(0);
    if let Err(error) = rustix::process::setpriority_process(Some(thread), current + nice) {
        tracing::warn!(%error, nice, "cannot lower the guest thread's priority");
    }
}

impl Drop for GuestExecutor {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn tasks_run_on_guest_threads_and_dropping_inside_async_is_fine() {
        let executor = GuestExecutor::start(2, 10).expect("executor");
        assert_eq!(executor.threads(), 2);
        let name = executor
            .spawn(async { std::thread::current().name().map(str::to_string) })
            .await
            .expect("joined");
        assert_eq!(name.as_deref(), Some(GUEST_THREAD_NAME));
        let nice = executor
            .spawn(async { rustix::process::getpriority_process(Some(rustix::thread::gettid())) })
            .await
            .expect("joined")
            .expect("getpriority");
        let ours = rustix::process::getpriority_process(Some(rustix::thread::gettid()))
            .expect("getpriority");
        assert_eq!(nice, (ours + 10).min(19), "guest threads are nicer");
        // The caller's thread is not a guest thread.
        assert_ne!(std::thread::current().name(), Some(GUEST_THREAD_NAME));
        drop(executor);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_guest_thread_blocked_in_sync_code_leaves_the_caller_free() {
        let executor = GuestExecutor::start(1, 0).expect("executor");
        let (release, wait) = std::sync::mpsc::channel::<()>();
        // The only guest thread is stuck in synchronous code...
        let stuck = executor.spawn(async move {
            let _ = wait.recv();
        });
        // ...and the caller's runtime still runs its timers and tasks.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let answered = tokio::spawn(async { 42 }).await.expect("joined");
        assert_eq!(answered, 42);
        release.send(()).expect("release");
        stuck.await.expect("joined");
    }
}

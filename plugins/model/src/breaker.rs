//! A circuit breaker per provider endpoint, per node.
//!
//! Closed: calls pass; it opens after `consecutive_failures` in a row, or
//! when `error_rate_percent` of at least `min_calls` calls in the current
//! window failed. Open: calls fail fast (`Unavailable`) for `cool_down_ms`.
//! Half-open: one probe passes; its success closes the breaker, its
//! failure opens it again. A probe whose caller gave up (dropped guard)
//! frees the slot for the next probe.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::config::BreakerConfig;

/// What the breaker does with the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls pass.
    Closed,
    /// Calls fail fast.
    Open,
    /// The cool-down is over: the next call is a probe.
    HalfOpen,
}

#[derive(Debug)]
enum State {
    Closed,
    Open { until: Instant },
    HalfOpen { probing: bool },
}

#[derive(Debug)]
struct Inner {
    state: State,
    consecutive: u32,
    window_start: Instant,
    calls: u32,
    failures: u32,
}

/// The breaker of one endpoint.
#[derive(Debug)]
pub(crate) struct Breaker {
    config: BreakerConfig,
    inner: Mutex<Inner>,
}

/// Admission of one attempt; report its outcome with `success` / `failure`.
#[derive(Debug)]
pub(crate) struct BreakerGuard {
    breaker: Arc<Breaker>,
    probe: bool,
    done: bool,
}

impl Breaker {
    pub(crate) fn new(config: BreakerConfig) -> Arc<Self> {
        Arc::new(Self {
            config,
            inner: Mutex::new(Inner {
                state: State::Closed,
                consecutive: 0,
                window_start: Instant::now(),
                calls: 0,
                failures: 0,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The state the next call would meet.
    pub(crate) fn state(&self) -> BreakerState {
        match self.lock().state {
            State::Closed => BreakerState::Closed,
            State::Open { until } if Instant::now() < until => BreakerState::Open,
            State::Open { .. } | State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Admits an attempt, or `None` while open (or while a probe runs).
    pub(crate) fn admit(self: &Arc<Self>) -> Option<BreakerGuard> {
        let mut inner = self.lock();
        let probe = match inner.state {
            State::Closed => false,
            State::Open { until } if Instant::now() < until => return None,
            State::Open { .. } | State::HalfOpen { probing: false } => {
                inner.state = State::HalfOpen { probing: true };
                true
            }
            State::HalfOpen { probing: true } => return None,
        };
        Some(BreakerGuard {
            breaker: self.clone(),
            probe,
            done: false,
        })
    }

    fn record(&self, probe: bool, failed: bool) {
        let mut inner = self.lock();
        let now = Instant::now();
        if probe {
            inner.state = if failed {
                self.open_at(now)
            } else {
                State::Closed
            };
            inner.consecutive = 0;
            inner.calls = 0;
            inner.failures = 0;
            inner.window_start = now;
            return;
        }
        if !matches!(inner.state, State::Closed) {
            return;
        }
        if now.duration_since(inner.window_start) > Duration::from_millis(self.config.window_ms) {
            inner.window_start = now;
            inner.calls = 0;
            inner.failures = 0;
        }
        inner.calls += 1;
        if failed {
            inner.failures += 1;
            inner.consecutive += 1;
        } else {
            inner.consecutive = 0;
        }
        let by_rate = inner.calls >= self.config.min_calls.max(1)
            && u64::from(inner.failures) * 100
                >= u64::from(self.config.error_rate_percent) * u64::from(inner.calls);
        if inner.consecutive >= self.config.consecutive_failures || (failed && by_rate) {
            tracing::warn!(
                consecutive = inner.consecutive,
                calls = inner.calls,
                failures = inner.failures,
                "model provider breaker opens"
            );
            inner.state = self.open_at(now);
        }
    }

    fn open_at(&self, now: Instant) -> State {
        State::Open {
            until: now + Duration::from_millis(self.config.cool_down_ms),
        }
    }
}

impl BreakerGuard {
    /// The attempt succeeded.
    pub(crate) fn success(mut self) {
        self.done = true;
        self.breaker.record(self.probe, false);
    }

    /// The attempt failed in a way that says the provider is unwell.
    pub(crate) fn failure(mut self) {
        self.done = true;
        self.breaker.record(self.probe, true);
    }
}

impl Drop for BreakerGuard {
    fn drop(&mut self) {
        if !self.done && self.probe {
            let mut inner = self.breaker.lock();
            if matches!(inner.state, State::HalfOpen { probing: true }) {
                inner.state = State::HalfOpen { probing: false };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> BreakerConfig {
        BreakerConfig {
            consecutive_failures: 100,
            error_rate_percent: 50,
            min_calls: 4,
            window_ms: 60_000,
            cool_down_ms: 60_000,
        }
    }

    #[test]
    fn opens_on_error_rate_over_the_window() {
        let breaker = Breaker::new(config());
        for failed in [false, true, false] {
            let guard = breaker.admit().unwrap();
            if failed {
                guard.failure()
            } else {
                guard.success()
            }
        }
        assert_eq!(breaker.state(), BreakerState::Closed);
        breaker.admit().unwrap().failure();
        assert_eq!(breaker.state(), BreakerState::Open);
        assert!(breaker.admit().is_none());
    }

    #[test]
    fn an_abandoned_probe_frees_the_slot() {
        let mut cfg = config();
        cfg.consecutive_failures = 1;
        cfg.cool_down_ms = 1;
        let breaker = Breaker::new(cfg);
        breaker.admit().unwrap().failure();
        std::thread::sleep(Duration::from_millis(5));
        let probe = breaker.admit().unwrap();
        assert!(breaker.admit().is_none(), "one probe at a time");
        drop(probe);
        assert!(breaker.admit().is_some());
    }
}

//! Retry budget and full-jitter backoff.
//!
//! Retries multiply load exactly when a provider struggles; the budget
//! caps them at a share of calls (e.g. 20%) over a window, plus a small
//! floor so a quiet node can still retry.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::Rng;

use crate::config::ResilienceConfig;

#[derive(Debug)]
struct Window {
    start: Instant,
    calls: u64,
    retries: u64,
}

/// Calls and retries of one endpoint in the current window.
#[derive(Debug)]
pub(crate) struct RetryBudget {
    percent: u64,
    floor: u64,
    window: Duration,
    state: Mutex<Window>,
}

impl RetryBudget {
    pub(crate) fn new(config: &ResilienceConfig) -> Self {
        Self {
            percent: u64::from(config.retry_budget_percent),
            floor: u64::from(config.retry_budget_min),
            window: Duration::from_millis(config.retry_window_ms.max(1)),
            state: Mutex::new(Window {
                start: Instant::now(),
                calls: 0,
                retries: 0,
            }),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Window) -> T) -> T {
        let mut w = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if w.start.elapsed() > self.window {
            *w = Window {
                start: Instant::now(),
                calls: 0,
                retries: 0,
            };
        }
        f(&mut w)
    }

    /// Counts one call (not its retries).
    pub(crate) fn record_call(&self) {
        self.with(|w| w.calls += 1);
    }

    /// Takes one retry from the budget, if any is left.
    pub(crate) fn try_retry(&self) -> bool {
        self.with(|w| {
            let allowed = self.floor + w.calls * self.percent / 100;
            if w.retries < allowed {
                w.retries += 1;
                true
            } else {
                false
            }
        })
    }
}

/// Full jitter: uniform in `0..=min(cap, base * 2^attempt)`.
pub(crate) fn backoff(config: &ResilienceConfig, attempt: u32) -> Duration {
    let ceiling = config
        .retry_base_ms
        .saturating_mul(1u64 << attempt.min(20))
        .min(config.retry_max_backoff_ms);
    Duration::from_millis(rand::rng().random_range(0..=ceiling))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_is_a_share_of_calls_plus_a_floor() {
        let config = ResilienceConfig {
            retry_budget_percent: 20,
            retry_budget_min: 1,
            ..ResilienceConfig::default()
        };
        let budget = RetryBudget::new(&config);
        for _ in 0..10 {
            budget.record_call();
        }
        let granted = (0..10).filter(|_| budget.try_retry()).count();
        assert_eq!(granted, 3, "1 floor + 20% of 10");
    }

    #[test]
    fn backoff_stays_under_its_ceiling() {
        let config = ResilienceConfig::default();
        for attempt in 0..30 {
            assert!(backoff(&config, attempt) <= Duration::from_millis(2_000));
        }
    }
}

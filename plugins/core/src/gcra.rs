//! The GCRA step, as a pure function of stored state and time.
//!
//! One copy for every GCRA in Warden: the rate-limit plugin's in-process
//! backend and the SDK's native stand-in call it, and the plugin's Redis
//! backend runs the same steps in Lua (in microseconds, on the server's
//! clock). Keeping it pure (no clock, no map) is what lets them share it.
//! Check the quota with [`Quota::validate`](crate::Quota::validate) first.

use std::time::Duration;

use crate::Decision;

/// Outcome of one step: the decision, and the new TAT to store if the call
/// was allowed (`None`: leave the stored value as it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// What to answer the caller.
    pub decision: Decision,
    /// The theoretical arrival time to store, if it changed.
    pub new_tat: Option<u64>,
}

/// One GCRA step in nanoseconds.
///
/// `tat` is the stored theoretical arrival time (`None` = fresh key), `now`
/// the current time, `interval` the time per unit, `burst` the bucket size.
/// The bucket holds `burst * interval` of credit; spending `cost` units moves
/// the TAT forward by `cost * interval`, which is allowed while the TAT stays
/// within the tolerance of `now`.
pub fn step(tat: Option<u64>, now: u64, interval: u64, burst: u32, cost: u32) -> Step {
    let tolerance = interval.saturating_mul(u64::from(burst));
    let tat = tat.unwrap_or(now).max(now);
    let new_tat = tat.saturating_add(interval.saturating_mul(u64::from(cost)));
    let allow_at = new_tat.saturating_sub(tolerance);
    let remaining = |tat: u64| {
        let used = tat - now;
        u32::try_from(tolerance.saturating_sub(used) / interval.max(1)).unwrap_or(u32::MAX)
    };
    if now < allow_at {
        return Step {
            decision: Decision {
                allowed: false,
                limit: burst,
                remaining: remaining(tat),
                retry_after: Duration::from_nanos(allow_at - now),
                reset_after: Duration::from_nanos(tat - now),
            },
            new_tat: None,
        };
    }
    Step {
        decision: Decision {
            allowed: true,
            limit: burst,
            remaining: remaining(new_tat),
            retry_after: Duration::ZERO,
            reset_after: Duration::from_nanos(new_tat - now),
        },
        new_tat: Some(new_tat),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    /// Runs calls at the given times (ms) on one key; returns the decisions.
    fn run(interval_ms: u64, burst: u32, calls: &[(u64, u32)]) -> Vec<Decision> {
        let mut tat = None;
        calls
            .iter()
            .map(|&(at, cost)| {
                let step = step(tat, at * MS, interval_ms * MS, burst, cost);
                tat = step.new_tat.or(tat);
                step.decision
            })
            .collect()
    }

    #[test]
    fn a_full_bucket_allows_burst_then_denies() {
        // 10 per second (100 ms each), burst 3, all at t=0.
        let d = run(100, 3, &[(0, 1), (0, 1), (0, 1), (0, 1)]);
        assert_eq!(
            d.iter().map(|d| d.allowed).collect::<Vec<_>>(),
            [true, true, true, false]
        );
        assert_eq!(
            d.iter().map(|d| d.remaining).collect::<Vec<_>>(),
            [2, 1, 0, 0]
        );
        assert_eq!(d[3].retry_after, Duration::from_millis(100));
        assert_eq!(d[3].reset_after, Duration::from_millis(300));
        assert_eq!(d[2].reset_after, Duration::from_millis(300));
    }

    #[test]
    fn credit_refills_at_the_rate() {
        let d = run(100, 3, &[(0, 3), (50, 1), (100, 1), (100, 1), (400, 3)]);
        assert_eq!(
            d.iter().map(|d| d.allowed).collect::<Vec<_>>(),
            [true, false, true, false, true]
        );
        assert_eq!(d[1].retry_after, Duration::from_millis(50));
    }

    #[test]
    fn cost_is_all_or_nothing() {
        let d = run(100, 5, &[(0, 4), (0, 2), (0, 1)]);
        assert!(d[0].allowed && !d[1].allowed && d[2].allowed);
        assert_eq!(d[1].retry_after, Duration::from_millis(100));
        assert_eq!(d[2].remaining, 0);
    }

    #[test]
    fn zero_cost_only_reports() {
        let d = run(100, 2, &[(0, 1), (0, 0), (0, 0)]);
        assert!(d.iter().all(|d| d.allowed));
        assert_eq!(d[1].remaining, 1);
        assert_eq!(d[2].remaining, 1);
    }

    #[test]
    fn a_long_idle_key_starts_full() {
        let d = run(100, 3, &[(0, 3), (10_000, 3)]);
        assert!(d[1].allowed);
        assert_eq!(d[1].remaining, 0);
    }
}

//! Open-loop scheduling: request `i` is due at `start + i / rate`.
//!
//! Latency in open-loop mode is measured from a request's due time, not from
//! when a connection became free to send it. When the server falls behind,
//! requests queue in the load generator and that wait shows up in the
//! latency, instead of the generator quietly slowing down (coordinated
//! omission).

use std::time::Duration;

/// A fixed arrival rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    rate: f64,
}

impl Schedule {
    /// A schedule of `rate` requests per second; `None` unless `rate` is a
    /// finite positive number.
    pub fn new(rate: f64) -> Option<Self> {
        (rate.is_finite() && rate > 0.0).then_some(Self { rate })
    }

    /// Requests per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Offset from the start at which request `index` is due.
    pub fn due(&self, index: u64) -> Duration {
        Duration::from_secs_f64(index as f64 / self.rate)
    }

    /// How many requests are due at or before `elapsed` (indices
    /// `0..due_by(elapsed)`).
    pub fn due_by(&self, elapsed: Duration) -> u64 {
        // Index i is due when i / rate <= elapsed, i.e. i <= elapsed * rate.
        // The small epsilon keeps exact multiples from rounding down.
        let last = (elapsed.as_secs_f64() * self.rate + 1e-9).floor();
        if last < 0.0 { 0 } else { last as u64 + 1 }
    }

    /// Number of requests due strictly before `offset`: with a warm-up of
    /// length `offset`, these are the warm-up requests and index
    /// `count_before(offset)` is the first measured one.
    pub fn count_before(&self, offset: Duration) -> u64 {
        let x = offset.as_secs_f64() * self.rate;
        // ceil(x) indices satisfy i < x, minus rounding noise on exact values.
        let c = (x - 1e-9).ceil();
        if c < 0.0 { 0 } else { c as u64 }
    }
}

/// Latency of a request that was due at `due` and completed at `done`
/// (both offsets from the same start). Zero if `done` precedes `due`.
pub fn latency_from_due(due: Duration, done: Duration) -> Duration {
    done.saturating_sub(due)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_positive_rates() {
        assert!(Schedule::new(0.0).is_none());
        assert!(Schedule::new(-1.0).is_none());
        assert!(Schedule::new(f64::NAN).is_none());
        assert!(Schedule::new(f64::INFINITY).is_none());
    }

    #[test]
    fn due_times_are_evenly_spaced() {
        let s = Schedule::new(1000.0).expect("rate");
        assert_eq!(s.due(0), Duration::ZERO);
        assert_eq!(s.due(1), Duration::from_millis(1));
        assert_eq!(s.due(1000), Duration::from_secs(1));
        let s = Schedule::new(3.0).expect("rate");
        assert_eq!(s.due(3), Duration::from_secs(1));
    }

    #[test]
    fn due_by_counts_requests_released_so_far() {
        let s = Schedule::new(1000.0).expect("rate");
        // Request 0 is due immediately.
        assert_eq!(s.due_by(Duration::ZERO), 1);
        assert_eq!(s.due_by(Duration::from_micros(999)), 1);
        assert_eq!(s.due_by(Duration::from_millis(1)), 2);
        assert_eq!(s.due_by(Duration::from_secs(1)), 1001);
    }

    #[test]
    fn warmup_split_is_exact() {
        let s = Schedule::new(1000.0).expect("rate");
        // Indices 0..2000 are due before 2 s; index 2000 is due at 2 s.
        assert_eq!(s.count_before(Duration::from_secs(2)), 2000);
        assert!(s.due(2000) >= Duration::from_secs(2));
        assert!(s.due(1999) < Duration::from_secs(2));
        assert_eq!(s.count_before(Duration::ZERO), 0);
        let s = Schedule::new(7.0).expect("rate");
        let n = s.count_before(Duration::from_secs(1));
        assert_eq!(n, 7);
        assert!(s.due(n) >= Duration::from_secs(1) && s.due(n - 1) < Duration::from_secs(1));
    }

    #[test]
    fn latency_counts_from_the_due_time_not_the_send_time() {
        // Due at 10 ms, the generator could only send at 30 ms (all
        // connections busy), the response came at 31 ms: 21 ms, not 1 ms.
        let due = Duration::from_millis(10);
        let done = Duration::from_millis(31);
        assert_eq!(latency_from_due(due, done), Duration::from_millis(21));
        assert_eq!(latency_from_due(done, due), Duration::ZERO);
    }
}

//! Latency recording in an HDR histogram and its percentile summary.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Highest latency the histogram tracks exactly, in microseconds (one hour);
/// larger values are clamped to it.
const MAX_MICROS: u64 = 3_600_000_000;

/// Latencies in microseconds, 3 significant digits (0.1% resolution).
#[derive(Debug, Clone)]
pub struct Latencies {
    hist: Histogram<u64>,
}

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

impl Latencies {
    /// An empty histogram.
    pub fn new() -> Self {
        let hist = Histogram::new_with_bounds(1, MAX_MICROS, 3)
            .expect("constant histogram bounds are valid");
        Self { hist }
    }

    /// Records one latency; sub-microsecond values count as 1 us.
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(MAX_MICROS);
        self.hist.saturating_record(micros.clamp(1, MAX_MICROS));
    }

    /// Adds every value of `other` into `self`.
    pub fn merge(&mut self, other: &Latencies) {
        // Both histograms have the same bounds, so adding cannot fail; if it
        // ever did, fall back to re-recording the other's values.
        if self.hist.add(&other.hist).is_err() {
            for v in other.hist.iter_recorded() {
                let _ = self
                    .hist
                    .record_n(v.value_iterated_to(), v.count_at_value());
            }
        }
    }

    /// Number of recorded values.
    pub fn len(&self) -> u64 {
        self.hist.len()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.hist.is_empty()
    }

    /// Percentiles of what was recorded.
    pub fn summary(&self) -> Summary {
        if self.hist.is_empty() {
            return Summary::default();
        }
        Summary {
            count: self.hist.len(),
            mean_us: self.hist.mean(),
            p50_us: self.hist.value_at_quantile(0.50),
            p95_us: self.hist.value_at_quantile(0.95),
            p99_us: self.hist.value_at_quantile(0.99),
            p999_us: self.hist.value_at_quantile(0.999),
            max_us: self.hist.max(),
        }
    }
}

/// Percentile summary of a latency histogram, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Number of recorded latencies.
    pub count: u64,
    /// Arithmetic mean.
    pub mean_us: f64,
    /// Median.
    pub p50_us: u64,
    /// 95th percentile.
    pub p95_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// 99.9th percentile.
    pub p999_us: u64,
    /// Largest recorded value (to histogram precision).
    pub max_us: u64,
}

/// Formats microseconds as milliseconds with three decimals, e.g. `0.131 ms`.
pub fn fmt_ms(micros: u64) -> String {
    format!("{:.3} ms", micros as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_uniform_distribution() {
        let mut l = Latencies::new();
        for us in 1..=1000u64 {
            l.record(Duration::from_micros(us));
        }
        let s = l.summary();
        assert_eq!(s.count, 1000);
        assert_eq!(s.p50_us, 500);
        assert_eq!(s.p95_us, 950);
        assert_eq!(s.p99_us, 990);
        assert_eq!(s.max_us, 1000);
        assert!((s.mean_us - 500.5).abs() < 0.01);
    }

    #[test]
    fn tail_is_not_averaged_away() {
        let mut l = Latencies::new();
        for _ in 0..990 {
            l.record(Duration::from_micros(100));
        }
        for _ in 0..10 {
            l.record(Duration::from_millis(50));
        }
        let s = l.summary();
        assert_eq!(s.p50_us, 100);
        // p99 is the 990th value: still 100 us; p99.9 lands in the slow tail.
        assert_eq!(s.p99_us, 100);
        assert!(s.p999_us >= 49_950, "{s:?}");
        assert!(s.max_us >= 49_950 && s.max_us <= 50_050, "{s:?}");
    }

    #[test]
    fn merge_adds_counts_and_clamps_extremes() {
        let mut a = Latencies::new();
        let mut b = Latencies::new();
        a.record(Duration::from_nanos(10));
        b.record(Duration::from_secs(10_000));
        a.merge(&b);
        let s = a.summary();
        assert_eq!(s.count, 2);
        assert_eq!(a.summary().p50_us, 1);
        assert!(s.max_us >= MAX_MICROS - MAX_MICROS / 1000);
    }

    #[test]
    fn empty_summary_is_zero() {
        assert_eq!(Latencies::new().summary(), Summary::default());
        assert_eq!(fmt_ms(131), "0.131 ms");
    }
}

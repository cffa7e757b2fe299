//! The comparison table: one row per server or case, ratio rows at the end,
//! printed as Markdown so it can be pasted into RESULTS.md.

use std::fmt::Write as _;

/// What a row measured; `None` where the scenario has no such figure.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Figures {
    /// Responses per second.
    pub rps: Option<f64>,
    /// Median latency, microseconds.
    pub p50_us: Option<f64>,
    /// 95th percentile latency, microseconds.
    pub p95_us: Option<f64>,
    /// 99th percentile latency, microseconds.
    pub p99_us: Option<f64>,
    /// Largest latency, microseconds.
    pub max_us: Option<f64>,
    /// Server CPU time per request, microseconds.
    pub cpu_per_req_us: Option<f64>,
    /// Responses received (or samples taken).
    pub count: u64,
    /// Error responses and failed requests.
    pub errors: u64,
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    /// A measurement, with free-form notes (RSS, deploy time, ...).
    Measured {
        /// Server or case.
        label: String,
        /// Its figures.
        figures: Figures,
        /// Extra facts for the notes column.
        note: String,
    },
    /// `label / other` for every figure both rows have.
    Ratio {
        /// e.g. `Warden / native`.
        label: String,
        /// Numerator.
        num: Figures,
        /// Denominator.
        den: Figures,
    },
    /// Not run, and why.
    Skipped {
        /// Server or case.
        label: String,
        /// Why (`wasmtime-cli not installed`, ...).
        reason: String,
    },
    /// Tried and failed, and why.
    Failed {
        /// Server or case.
        label: String,
        /// The error.
        reason: String,
    },
}

impl Row {
    /// True for a failed row.
    pub fn is_failure(&self) -> bool {
        matches!(self, Row::Failed { .. })
    }
}

/// A titled table of rows.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Scenario and parameters.
    pub title: String,
    /// Rows in order.
    pub rows: Vec<Row>,
}

/// Number of columns.
const COLUMNS: usize = 9;

const HEADER: [&str; COLUMNS] = [
    "server / case",
    "req/s",
    "p50",
    "p95",
    "p99",
    "max",
    "CPU/req",
    "n",
    "errors / notes",
];

impl Table {
    /// Renders the table as Markdown.
    pub fn render(&self) -> String {
        let cells: Vec<[String; COLUMNS]> = self.rows.iter().map(cells).collect();
        let mut widths = HEADER.map(str::len);
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        let _ = writeln!(out, "### {}\n", self.title);
        line(&mut out, &HEADER.map(str::to_owned), &widths);
        let rule = widths.map(|w| "-".repeat(w));
        line(&mut out, &rule, &widths);
        for row in &cells {
            line(&mut out, row, &widths);
        }
        out
    }
}

fn line(out: &mut String, cells: &[String; COLUMNS], widths: &[usize; COLUMNS]) {
    out.push('|');
    for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
        // Text columns left-aligned, figures right-aligned.
        if i == 0 || i == COLUMNS - 1 {
            let _ = write!(out, " {c:<w$} |");
        } else {
            let _ = write!(out, " {c:>w$} |");
        }
    }
    out.push('\n');
}

fn cells(row: &Row) -> [String; COLUMNS] {
    match row {
        Row::Measured {
            label,
            figures: f,
            note,
        } => {
            let mut notes = format!("{} errors", f.errors);
            if !note.is_empty() {
                notes = format!("{notes}; {note}");
            }
            [
                label.clone(),
                opt(f.rps, |v| format!("{v:.0}")),
                opt(f.p50_us, fmt_latency),
                opt(f.p95_us, fmt_latency),
                opt(f.p99_us, fmt_latency),
                opt(f.max_us, fmt_latency),
                opt(f.cpu_per_req_us, |v| format!("{v:.1} us")),
                f.count.to_string(),
                notes,
            ]
        }
        Row::Ratio { label, num, den } => [
            label.clone(),
            ratio(num.rps, den.rps),
            ratio(num.p50_us, den.p50_us),
            ratio(num.p95_us, den.p95_us),
            ratio(num.p99_us, den.p99_us),
            ratio(num.max_us, den.max_us),
            ratio(num.cpu_per_req_us, den.cpu_per_req_us),
            String::new(),
            "ratio (>1: first is higher)".to_owned(),
        ],
        Row::Skipped { label, reason } => blank(label, format!("skipped: {reason}")),
        Row::Failed { label, reason } => blank(label, format!("FAILED: {reason}")),
    }
}

fn blank(label: &str, note: String) -> [String; COLUMNS] {
    let dash = || "-".to_owned();
    [
        label.to_owned(),
        dash(),
        dash(),
        dash(),
        dash(),
        dash(),
        dash(),
        dash(),
        note,
    ]
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "-".to_owned(), f)
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
        _ => "-".to_owned(),
    }
}

/// Microseconds as `0.131 ms`, or `12.3 s` for long cold paths.
pub fn fmt_latency(us: f64) -> String {
    if us >= 10_000_000.0 {
        format!("{:.1} s", us / 1e6)
    } else {
        format!("{:.3} ms", us / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_measured_ratio_and_skipped_rows() {
        let a = Figures {
            rps: Some(20_000.0),
            p50_us: Some(1000.0),
            p95_us: Some(3000.0),
            p99_us: Some(4000.0),
            max_us: Some(9000.0),
            cpu_per_req_us: Some(50.0),
            count: 100_000,
            errors: 0,
        };
        let b = Figures {
            rps: Some(10_000.0),
            p50_us: Some(2000.0),
            cpu_per_req_us: Some(100.0),
            ..a
        };
        let t = Table {
            title: "hello".into(),
            rows: vec![
                Row::Measured {
                    label: "warden".into(),
                    figures: a,
                    note: String::new(),
                },
                Row::Skipped {
                    label: "wasmtime serve".into(),
                    reason: "wasmtime-cli not installed".into(),
                },
                Row::Ratio {
                    label: "warden / x".into(),
                    num: a,
                    den: b,
                },
            ],
        };
        let s = t.render();
        assert!(s.contains("| warden "), "{s}");
        assert!(s.contains("20000"), "{s}");
        assert!(s.contains("1.000 ms"), "{s}");
        assert!(s.contains("2.00x"), "{s}");
        assert!(s.contains("0.50x"), "{s}");
        assert!(s.contains("skipped: wasmtime-cli not installed"), "{s}");
        // Every line has the same number of columns.
        let bars: Vec<usize> = s
            .lines()
            .filter(|l| l.starts_with('|'))
            .map(|l| l.matches('|').count())
            .collect();
        assert!(bars.iter().all(|&n| n == COLUMNS + 1), "{bars:?}");
    }
}

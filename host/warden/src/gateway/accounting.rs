//! Step: accounting. When a response's last byte is sent (or the client
//! hangs up), one JSON access line and the RED metrics of the route are
//! recorded, covering the whole exchange, streaming included.

use super::admission::Admitted;
use super::body::EndOfBody;
use crate::metrics::RouteMetrics;
use crate::telemetry::{AccessLine, AccessLog, now_ms};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use warden_runtime::GuestLog;

/// What one request's log line and metrics say, recorded at body end.
pub struct Accounting {
    /// When the request arrived.
    pub start: Instant,
    /// The request id.
    pub request_id: String,
    /// Method and path as received.
    pub method: String,
    /// The request path.
    pub path: String,
    /// Tenant, function and version that served it (empty when unknown).
    pub tenant: String,
    /// Function name.
    pub function: String,
    /// Version digest.
    pub version: String,
    /// The response status.
    pub status: u16,
    /// The guest's captured output, when a guest ran.
    pub log: Option<GuestLog>,
    /// The body is the guest's own (not an error body the gateway wrote
    /// after the guest failed): only then can it fail upstream.
    pub guest_body: bool,
    /// The route's RED metrics (or the unrouted ones).
    pub metrics: RouteMetrics,
    /// Raised when the request body broke its cap mid-stream: the response
    /// is then cut short.
    pub body_over_cap: Option<Arc<AtomicBool>>,
    /// The request's admission slots, freed when the body ends.
    pub admitted: Option<Admitted>,
    /// The function's response size cap, bytes.
    pub max_response_bytes: u64,
    /// Why the function failed before its response, in full (trap,
    /// backtrace, host error chain): for the log line only.
    pub error_detail: Option<String>,
    /// The verified subject, when a token was verified.
    pub subject: Option<String>,
    /// Where the line goes.
    pub access_log: Arc<AccessLog>,
}

impl EndOfBody for Accounting {
    fn aborted(&self) -> bool {
        self.body_over_cap
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
    }

    fn failed_upstream(&self) -> bool {
        self.guest_body && self.log.as_ref().is_some_and(|log| log.error().is_some())
    }

    fn max_bytes(&self) -> u64 {
        self.max_response_bytes
    }

    fn end(self, bytes: u64, failed: bool) {
        let elapsed = self.start.elapsed();
        self.metrics.record(self.status, elapsed.as_secs_f64());
        let (guest_output, guest_output_dropped) =
            self.log.as_ref().map(GuestLog::take).unwrap_or_default();
        let guest_error = self
            .log
            .as_ref()
            .and_then(GuestLog::error)
            .or(self.error_detail);
        self.access_log.record(&AccessLine {
            ts_ms: now_ms(),
            level: "INFO",
            target: "warden::access",
            request_id: &self.request_id,
            tenant: &self.tenant,
            function: &self.function,
            version: &self.version,
            method: &self.method,
            path: &self.path,
            subject: self.subject.as_deref().unwrap_or(""),
            status: self.status,
            duration_us: u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            bytes_out: bytes,
            stream_failed: failed,
            guest_output: &guest_output,
            guest_output_dropped,
            guest_error: guest_error.as_deref().unwrap_or(""),
        });
        drop(self.admitted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;

    #[test]
    fn the_end_records_the_status_class_and_aborts_on_an_over_cap_body() {
        let metrics = Metrics::new();
        let flag = Arc::new(AtomicBool::new(false));
        let accounting = Accounting {
            start: Instant::now(),
            request_id: "r1".into(),
            method: "GET".into(),
            path: "/x".into(),
            tenant: "acme".into(),
            function: "f".into(),
            version: String::new(),
            status: 503,
            log: None,
            guest_body: false,
            metrics: metrics.route("acme", "f"),
            body_over_cap: Some(flag.clone()),
            admitted: None,
            max_response_bytes: u64::MAX,
            error_detail: None,
            subject: None,
            access_log: Arc::new(AccessLog::disabled()),
        };
        assert!(!accounting.aborted());
        flag.store(true, Ordering::Relaxed);
        assert!(accounting.aborted());
        accounting.end(10, false);
        let text = metrics.encode();
        assert!(
            text.lines().any(|l| l.contains("class=\"5xx\"")
                && l.contains("tenant=\"acme\"")
                && l.ends_with(" 1")),
            "{text}"
        );
    }

    #[test]
    fn only_the_guests_own_body_fails_upstream() {
        let log = GuestLog::new(16);
        log.set_error("trapped".into());
        let mut accounting = Accounting {
            start: Instant::now(),
            request_id: "r1".into(),
            method: "GET".into(),
            path: "/x".into(),
            tenant: String::new(),
            function: String::new(),
            version: String::new(),
            status: 500,
            log: Some(log),
            guest_body: false,
            metrics: Metrics::new().route("", ""),
            body_over_cap: None,
            admitted: None,
            max_response_bytes: u64::MAX,
            error_detail: None,
            subject: None,
            access_log: Arc::new(AccessLog::disabled()),
        };
        assert!(
            !accounting.failed_upstream(),
            "the gateway's error body after a failure is complete"
        );
        accounting.guest_body = true;
        assert!(
            accounting.failed_upstream(),
            "a guest body after a trap is not"
        );
    }
}

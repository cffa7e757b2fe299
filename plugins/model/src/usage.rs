//! Usage records: one per call, to a sink the host turns into metrics.

use std::sync::Mutex;
use std::time::Duration;

use warden_plugin_core::Tenant;

use crate::{ModelError, Served, Usage};

/// Which operation a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `complete`.
    Complete,
    /// `stream`.
    Stream,
    /// `embed`.
    Embed,
}

/// What one call did and cost.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRecord {
    /// The calling tenant.
    pub tenant: Tenant,
    /// The calling function.
    pub function: String,
    /// What was called.
    pub operation: Operation,
    /// The alias the caller named.
    pub alias: String,
    /// The provider's name in config (empty when resolution failed).
    pub provider: String,
    /// Model, variant, cache and fallback.
    pub served: Served,
    /// Tokens.
    pub usage: Usage,
    /// Provider attempts (0 when served from cache or refused before).
    pub attempts: u32,
    /// From the call to its result (streams: to the end).
    pub latency: Duration,
    /// Streams: to the first chunk.
    pub time_to_first_token: Option<Duration>,
    /// The error, when the call failed; streams cut short by the caller
    /// say so in `cancelled`.
    pub error: Option<ModelError>,
    /// The caller dropped a stream before its end.
    pub cancelled: bool,
}

/// Where usage records go. Called on the request path: it must not block
/// (hand off to a channel or bump counters).
pub trait UsageSink: Send + Sync + 'static {
    /// Takes one record.
    fn record(&self, record: UsageRecord);
}

/// Drops every record.
#[derive(Debug, Default)]
pub struct NoopSink;

impl UsageSink for NoopSink {
    fn record(&self, _record: UsageRecord) {}
}

/// Keeps every record in memory: for tests and debugging.
#[derive(Debug, Default)]
pub struct MemorySink {
    records: Mutex<Vec<UsageRecord>>,
}

impl MemorySink {
    /// The records so far, oldest first.
    pub fn records(&self) -> Vec<UsageRecord> {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl UsageSink for MemorySink {
    fn record(&self, record: UsageRecord) {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(record);
    }
}

//! The runtime's own settings: the instance pool (engine-wide), and the
//! limits one request runs under (resolved by the host from a function's
//! limits, the host defaults and the tenant's tier).

use serde::Deserialize;
use std::time::Duration;

/// The instance pool and node-wide admission.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PoolConfig {
    /// Component instances that can be live at once (pooling allocator slots).
    pub instances: u32,
    /// Largest linear memory any guest may reach, MiB (size of a pool slot).
    pub max_memory_mb: u64,
    /// Bytes of each memory and table slot kept resident between uses, KiB:
    /// avoids madvise + page-fault churn (measured 2.5x on hello).
    pub keep_resident_kb: u64,
    /// Requests in flight across the node; past it requests are shed with 503.
    pub max_inflight: usize,
    /// Epoch tick period, milliseconds: the granularity of CPU deadlines.
    pub epoch_tick_ms: u64,
    /// Memory the admitted requests' caps may add up to, MiB; beyond it
    /// requests are shed with 503. Default (0): half of the machine's
    /// memory.
    pub memory_budget_mb: u64,
    /// Longest a component may take to compile, milliseconds; a slower one
    /// (a compile bomb) is refused with `compile_timeout`.
    pub compile_timeout_ms: u64,
    /// Threads that run guests, apart from the gateway's workers, so a guest
    /// in a synchronous host call never stalls the gateway. Default (0):
    /// one per core.
    pub guest_threads: usize,
    /// How much nicer (lower OS priority) guest threads run than the
    /// gateway's, so that serving connections preempts busy guests.
    /// Default 0 (the process's priority): measured on 2 cores, nice 10
    /// cost 27% of hello's throughput at saturation and moved a noisy
    /// neighbour's p99 only from 5.6 to 5.1 ms (bench/RESULTS.md).
    pub guest_nice: i32,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            instances: 1000,
            max_memory_mb: 512,
            keep_resident_kb: 4096,
            max_inflight: 900,
            epoch_tick_ms: 1,
            compile_timeout_ms: 20_000,
            memory_budget_mb: 0,
            guest_threads: 0,
            guest_nice: 0,
        }
    }
}

/// The limits a request of one function runs under, resolved from the
/// function's own limits over the host defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectiveLimits {
    /// Linear memory cap, bytes.
    pub memory_bytes: usize,
    /// CPU budget.
    pub cpu: Duration,
    /// Wall-clock deadline.
    pub timeout: Duration,
    /// Request body cap, bytes.
    pub max_body_bytes: u64,
    /// Response body cap, bytes: a longer (or endless) stream is cut as an
    /// error, never ended cleanly.
    pub max_response_bytes: u64,
}

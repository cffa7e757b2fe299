//! Per-request resource limits enforced inside the store: linear memory
//! (a [`ResourceLimiter`]) and CPU time (epoch ticks counted while the guest
//! actually runs wasm), plus the wall clock.
//!
//! No single host call does unbounded work, and no request moves unbounded
//! bytes:
//! - `get-random-bytes` (secure and insecure): 64 KiB per call;
//! - request body reads return at most the frame already buffered (the
//!   guest's `len` is an upper bound, never an allocation), and the whole
//!   body is capped by `max_body_kb` before it reaches the guest;
//! - response body writes take at most the stream's write permit (one
//!   1 MiB chunk in flight), and the whole body is cut as failed past
//!   `max_response_kb`;
//! - a `fields` resource holds at most 32 KiB, and the resource table at
//!   most memory cap / 32 KiB entries;
//! - host time that computed (did not suspend) is charged to the CPU
//!   budget, and the wall-clock deadline is checked on every epoch tick and
//!   every return from the host.

use wasmtime::ResourceLimiter;

/// The guest tried to grow memory past its function's cap. Returned as a
/// trap so the request fails with a clear reason instead of an allocator
/// abort deep in the guest.
#[derive(Debug, thiserror::Error)]
#[error("guest memory limit of {limit} bytes exceeded (wanted {desired} bytes)")]
pub struct MemoryLimitExceeded {
    /// The cap, bytes.
    pub limit: usize,
    /// The size the guest asked for, bytes.
    pub desired: usize,
}

/// The guest used up its CPU budget.
#[derive(Debug, thiserror::Error)]
#[error("guest exceeded its CPU budget of {budget_ms} ms")]
pub struct CpuBudgetExceeded {
    /// The budget, milliseconds.
    pub budget_ms: u64,
}

/// The guest ran past its wall-clock deadline. Raised from the epoch
/// callback and on return from every host call, so the deadline fires even
/// when the guest's thread never gets back to the timer.
#[derive(Debug, thiserror::Error)]
#[error("guest exceeded its wall-clock deadline of {timeout_ms} ms")]
pub struct DeadlineExceeded {
    /// The deadline, milliseconds after the request started.
    pub timeout_ms: u64,
}

/// A request's wall-clock deadline, checked where the guest can be stopped.
#[derive(Debug, Clone, Copy)]
pub struct WallClock {
    deadline: std::time::Instant,
    timeout_ms: u64,
}

impl WallClock {
    /// A deadline `timeout` from now.
    pub fn starting_now(timeout: std::time::Duration) -> Self {
        let now = std::time::Instant::now();
        Self {
            deadline: now
                .checked_add(timeout)
                .unwrap_or(now + std::time::Duration::from_secs(86_400)),
            timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// Errs once the deadline has passed.
    pub fn check(&self) -> Result<(), DeadlineExceeded> {
        if std::time::Instant::now() >= self.deadline {
            Err(DeadlineExceeded {
                timeout_ms: self.timeout_ms,
            })
        } else {
            Ok(())
        }
    }
}

/// Caps linear memory and table growth for one store.
#[derive(Debug)]
pub struct MemoryLimiter {
    limit: usize,
}

impl MemoryLimiter {
    /// A limiter allowing `limit` bytes of linear memory per memory.
    pub fn new(limit: usize) -> Self {
        Self { limit }
    }

    /// The cap, bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }
}

/// Table elements any one table may hold; generous for real programs,
/// small enough that a table bomb cannot eat the node.
const MAX_TABLE_ELEMENTS: usize = 1_000_000;

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            return Err(wasmtime::Error::new(MemoryLimitExceeded {
                limit: self.limit,
                desired,
            }));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// Counts the guest's CPU: the epoch ticks during which it was executing
/// wasm, plus the time its host calls computed for it.
///
/// The deadline callback fires at most once per tick and only while wasm
/// runs. A host call is charged its wall time when it completed within one
/// poll of the guest's task (it computed: random bytes, fields, hashing);
/// a call that suspended (awaiting Redis, a timer) is I/O, not charged.
#[derive(Debug, Clone, Copy)]
pub struct CpuMeter {
    /// Ticks charged so far.
    pub used_ticks: u64,
    /// Ticks allowed.
    pub budget_ticks: u64,
    /// The budget as configured, for the error message.
    pub budget_ms: u64,
    tick_ns: u64,
    /// Host time charged but not yet a whole tick, nanoseconds.
    host_ns: u64,
    /// When the current host call started, and in which poll.
    in_host: Option<(std::time::Instant, u64)>,
}

impl CpuMeter {
    /// A meter allowing `budget_ms` with ticks of `tick_ms`.
    pub fn new(budget_ms: u64, tick_ms: u64) -> Self {
        Self {
            used_ticks: 0,
            budget_ticks: budget_ms.div_ceil(tick_ms.max(1)).max(1),
            budget_ms,
            tick_ns: tick_ms.max(1).saturating_mul(1_000_000),
            host_ns: 0,
            in_host: None,
        }
    }

    /// The guest calls the host during poll number `poll` of its task.
    pub fn enter_host(&mut self, poll: u64) {
        self.in_host = Some((std::time::Instant::now(), poll));
    }

    /// The host call returns during poll `poll`: charged if it did not
    /// suspend in between; errs once the budget is spent.
    pub fn leave_host(&mut self, poll: u64) -> Result<(), CpuBudgetExceeded> {
        let Some((started, entered)) = self.in_host.take() else {
            return Ok(());
        };
        if entered != poll {
            return Ok(());
        }
        let spent = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.host_ns = self.host_ns.saturating_add(spent);
        let ticks = self.host_ns / self.tick_ns;
        self.host_ns %= self.tick_ns;
        self.used_ticks = self.used_ticks.saturating_add(ticks);
        if self.used_ticks > self.budget_ticks {
            Err(CpuBudgetExceeded {
                budget_ms: self.budget_ms,
            })
        } else {
            Ok(())
        }
    }

    /// Charges one tick; errs once the budget is spent.
    pub fn charge(&mut self) -> Result<(), CpuBudgetExceeded> {
        self.used_ticks += 1;
        if self.used_ticks > self.budget_ticks {
            Err(CpuBudgetExceeded {
                budget_ms: self.budget_ms,
            })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meter_trips_after_budget() {
        let mut m = CpuMeter::new(3, 1);
        assert!(m.charge().is_ok());
        assert!(m.charge().is_ok());
        assert!(m.charge().is_ok());
        assert!(m.charge().is_err());
    }

    #[test]
    fn host_calls_are_charged_unless_they_suspended() {
        let mut m = CpuMeter::new(5, 1);
        m.enter_host(1);
        std::thread::sleep(std::time::Duration::from_millis(3));
        m.leave_host(1).expect("3 of 5 ms");
        assert!(m.used_ticks >= 3, "{m:?}");
        let used = m.used_ticks;
        m.enter_host(2);
        std::thread::sleep(std::time::Duration::from_millis(10));
        m.leave_host(3).expect("suspended: not charged");
        assert_eq!(m.used_ticks, used);
        m.enter_host(4);
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(m.leave_host(4).is_err(), "over the budget");
    }

    #[test]
    fn the_wall_clock_trips_after_its_deadline() {
        let clock = WallClock::starting_now(std::time::Duration::from_millis(5));
        assert!(clock.check().is_ok());
        std::thread::sleep(std::time::Duration::from_millis(6));
        assert_eq!(clock.check().map_err(|e| e.timeout_ms).err(), Some(5));
    }

    #[test]
    fn limiter_refuses_growth_past_cap() {
        let mut l = MemoryLimiter::new(1 << 20);
        assert!(l.memory_growing(0, 1 << 20, None).expect("ok"));
        assert!(l.memory_growing(0, 2 << 20, None).is_err());
    }
}

//! Step: admission and load shedding. A request takes one of the node's
//! slots, one of its tenant's (its tier's `max_concurrent`), and its
//! function's memory cap out of the node's memory budget; when any is
//! exhausted it is shed with 503 + `Retry-After`, never queued, so a burst
//! cannot build an unbounded backlog, one tenant cannot take the whole
//! node, and the memory the admitted requests may use together stays under
//! the budget (an OOM is never the way a node says no). The slots are held
//! until the response body ends.

use super::GatewayError;
use super::tier::TenantPolicy;
use crate::metrics::Metrics;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The node-wide bound.
#[derive(Debug)]
pub struct Admission {
    node: Arc<Semaphore>,
    /// The node's memory budget, one permit per MiB.
    memory: Arc<Semaphore>,
    metrics: Arc<Metrics>,
}

/// A request's slots; dropping it frees them and the in-flight gauge.
#[derive(Debug)]
pub struct Admitted {
    _node: OwnedSemaphorePermit,
    _tenant: OwnedSemaphorePermit,
    _memory: OwnedSemaphorePermit,
    metrics: Arc<Metrics>,
}

impl Admission {
    /// Admits at most `max_inflight` requests at once across the node, whose
    /// memory caps add up to at most `memory_budget_mb`.
    pub fn new(max_inflight: usize, memory_budget_mb: u64, metrics: Arc<Metrics>) -> Self {
        let budget = usize::try_from(memory_budget_mb)
            .unwrap_or(usize::MAX)
            .min(Semaphore::MAX_PERMITS);
        Self {
            node: Arc::new(Semaphore::new(max_inflight)),
            memory: Arc::new(Semaphore::new(budget)),
            metrics,
        }
    }

    /// Takes a node slot, one of the tenant's and `memory_bytes` of the
    /// memory budget, or sheds.
    pub fn admit(
        &self,
        tenant: &TenantPolicy,
        memory_bytes: usize,
    ) -> Result<Admitted, GatewayError> {
        let shed = |e: GatewayError| {
            self.metrics.shed.inc();
            e
        };
        let node = self
            .node
            .clone()
            .try_acquire_owned()
            .map_err(|_| shed(GatewayError::Overloaded))?;
        let tenant = tenant.admit().map_err(shed)?;
        let mib = u32::try_from(memory_bytes.div_ceil(1 << 20).max(1)).unwrap_or(u32::MAX);
        let memory = self
            .memory
            .clone()
            .try_acquire_many_owned(mib)
            .map_err(|_| shed(GatewayError::MemoryBudget))?;
        self.metrics.inflight.inc();
        Ok(Admitted {
            _node: node,
            _tenant: tenant,
            _memory: memory,
            metrics: self.metrics.clone(),
        })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.metrics.inflight.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Tier;

    fn tenant(max_concurrent: usize) -> TenantPolicy {
        let tier = Tier {
            max_concurrent,
            ..Tier::default()
        };
        TenantPolicy::new("t", &tier, Arc::new(Semaphore::new(max_concurrent)))
    }

    #[test]
    fn the_node_bound_sheds_and_frees_on_drop() {
        let admission = Admission::new(1, 1024, Arc::new(Metrics::new()));
        let policy = tenant(5);
        let first = admission.admit(&policy, 1).expect("first");
        assert!(matches!(
            admission.admit(&policy, 1),
            Err(GatewayError::Overloaded)
        ));
        drop(first);
        assert!(admission.admit(&policy, 1).is_ok());
    }

    #[test]
    fn a_tenant_at_its_bound_is_shed_while_others_pass() {
        let admission = Admission::new(10, 1024, Arc::new(Metrics::new()));
        let busy = tenant(1);
        let other = tenant(1);
        let _held = admission.admit(&busy, 1).expect("first");
        assert!(matches!(
            admission.admit(&busy, 1),
            Err(GatewayError::TenantOverloaded)
        ));
        assert!(admission.admit(&other, 1).is_ok());
    }

    #[test]
    fn memory_caps_of_admitted_requests_stay_within_the_budget() {
        let admission = Admission::new(10, 256, Arc::new(Metrics::new()));
        let policy = tenant(10);
        let first = admission.admit(&policy, 128 << 20).expect("128 of 256");
        let _second = admission.admit(&policy, 128 << 20).expect("256 of 256");
        assert!(matches!(
            admission.admit(&policy, 1 << 20),
            Err(GatewayError::MemoryBudget)
        ));
        drop(first);
        assert!(admission.admit(&policy, 100 << 20).is_ok());
    }
}

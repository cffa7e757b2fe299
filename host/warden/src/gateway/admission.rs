//! Step: admission and load shedding. A request takes one of the node's
//! slots and one of its tenant's (its tier's `max_concurrent`); when either
//! is exhausted it is shed with 503 + `Retry-After`, never queued, so a
//! burst cannot build an unbounded backlog and one tenant cannot take the
//! whole node. The slots are held until the response body ends.

use super::GatewayError;
use super::tier::TenantPolicy;
use crate::metrics::Metrics;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The node-wide bound.
#[derive(Debug)]
pub struct Admission {
    node: Arc<Semaphore>,
    metrics: Arc<Metrics>,
}

/// A request's slots; dropping it frees them and the in-flight gauge.
#[derive(Debug)]
pub struct Admitted {
    _node: OwnedSemaphorePermit,
    _tenant: OwnedSemaphorePermit,
    metrics: Arc<Metrics>,
}

impl Admission {
    /// Admits at most `max_inflight` requests at once across the node.
    pub fn new(max_inflight: usize, metrics: Arc<Metrics>) -> Self {
        Self {
            node: Arc::new(Semaphore::new(max_inflight)),
            metrics,
        }
    }

    /// Takes a node slot and one of the tenant's, or sheds.
    pub fn admit(&self, tenant: &TenantPolicy) -> Result<Admitted, GatewayError> {
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
        self.metrics.inflight.inc();
        Ok(Admitted {
            _node: node,
            _tenant: tenant,
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
        let admission = Admission::new(1, Arc::new(Metrics::new()));
        let policy = tenant(5);
        let first = admission.admit(&policy).expect("first");
        assert!(matches!(
            admission.admit(&policy),
            Err(GatewayError::Overloaded)
        ));
        drop(first);
        assert!(admission.admit(&policy).is_ok());
    }

    #[test]
    fn a_tenant_at_its_bound_is_shed_while_others_pass() {
        let admission = Admission::new(10, Arc::new(Metrics::new()));
        let busy = tenant(1);
        let other = tenant(1);
        let _held = admission.admit(&busy).expect("first");
        assert!(matches!(
            admission.admit(&busy),
            Err(GatewayError::TenantOverloaded)
        ));
        assert!(admission.admit(&other).is_ok());
    }
}

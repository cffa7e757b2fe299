//! Step: version selection. The seam where a request is given the version
//! of its function that serves it: the stable one, or a canary by weight
//! (sticky per subject) once rollouts land. Today a function has one active
//! version, and a function without one answers 503.

use super::GatewayError;
use super::routes::RouteTarget;
use std::sync::Arc;
use warden_runtime::{Prepared, Principal};

/// The version chosen for one request.
#[derive(Debug, Clone)]
pub struct Selected {
    /// The pre-instantiated component to run.
    pub prepared: Arc<Prepared>,
}

impl Selected {
    /// The version's digest, for the access line and metrics.
    pub fn version(&self) -> &str {
        &self.prepared.digest
    }
}

/// Picks the version of `target` that serves this request.
pub fn select(
    target: &RouteTarget,
    _principal: Option<&Principal>,
) -> Result<Selected, GatewayError> {
    let prepared = target
        .prepared
        .clone()
        .ok_or_else(|| GatewayError::NoActiveVersion(target.function.clone()))?;
    Ok(Selected { prepared })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::routes::tests::target;

    #[test]
    fn a_function_without_an_active_version_is_refused() {
        let refused = select(&target(None), None);
        assert!(
            matches!(refused, Err(GatewayError::NoActiveVersion(ref f)) if f == "f"),
            "{refused:?}"
        );
    }
}

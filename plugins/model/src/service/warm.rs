//! Warm-up: prefetch a tenant's known prompts into the cache, so the first
//! real callers hit. The host calls it on activation and on a schedule.

use warden_plugin_core::Tenant;

use super::ModelService;
use crate::{CallContext, CompletionRequest};

/// What a warm-up did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WarmUpReport {
    /// Prompts fetched from the provider and cached.
    pub loaded: usize,
    /// Prompts that were already cached.
    pub already_cached: usize,
    /// Prompts skipped: not deterministic, so never cached.
    pub skipped: usize,
    /// Prompts whose call failed (budget, provider, ...).
    pub failed: usize,
}

impl ModelService {
    /// Completes each deterministic request once, one after the other (a
    /// warm-up must not stampede the provider), as `function` with the
    /// subject `warm-up`. Budgets apply as to any call.
    pub async fn warm_up(
        &self,
        tenant: &Tenant,
        function: &str,
        requests: Vec<CompletionRequest>,
    ) -> WarmUpReport {
        let ctx = CallContext::new(function, Some("warm-up"));
        let mut report = WarmUpReport::default();
        for request in requests {
            if !request.is_deterministic() {
                report.skipped += 1;
                continue;
            }
            match self.complete(tenant, &ctx, request).await {
                Ok(c) if c.served.cached => report.already_cached += 1,
                Ok(_) => report.loaded += 1,
                Err(error) => {
                    tracing::warn!(%tenant, %error, "model warm-up call failed");
                    report.failed += 1;
                }
            }
        }
        report
    }
}

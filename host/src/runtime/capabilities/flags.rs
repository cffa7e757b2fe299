//! `warden:platform/flags` on the [`warden_plugin_flags::FlagStore`]
//! backend. A backend failure evaluates to "no variant" (the guest's safe
//! default) and is logged, rather than failing the request.

use crate::runtime::bindings::flags::{Context, Host, VariantValue};
use crate::runtime::state::RequestState;
use warden_plugin_flags::EvalContext;

impl Host for RequestState {
    async fn evaluate(
        &mut self,
        flag: String,
        context: Context,
    ) -> wasmtime::Result<Option<VariantValue>> {
        let ctx = EvalContext {
            subject: context.subject,
            attributes: context.attributes.into_iter().collect(),
        };
        let caps = self.caps.clone();
        match caps.flags.evaluate(&self.tenant, &flag, &ctx).await {
            Ok(variant) => Ok(variant.map(|v| VariantValue {
                name: v.name,
                value: v.value,
            })),
            Err(e) => {
                tracing::warn!(tenant = %self.tenant, flag, error = %e, "flag evaluation failed; serving no variant");
                Ok(None)
            }
        }
    }
}

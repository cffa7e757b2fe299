//! `warden:platform/feature-flags` on the [`warden_plugin_flags::FlagStore`]
//! backend. A backend failure evaluates to "no variant" (the guest's safe
//! default) and is logged, rather than failing the request.

use std::sync::Arc;
use warden_plugin_core::Tenant;
use warden_plugin_flags::{EvalContext, FlagStore};
use warden_world::flags::{self as wit, Context, VariantValue};
use wasmtime::component::{HasData, Linker};

/// The node's flag store.
pub struct FlagsCtx {
    store: Arc<dyn FlagStore>,
}

impl std::fmt::Debug for FlagsCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlagsCtx").finish_non_exhaustive()
    }
}

impl FlagsCtx {
    /// The context over `store`.
    pub fn new(store: Arc<dyn FlagStore>) -> Self {
        Self { store }
    }
}

/// One request's view of the flags: the store and the calling tenant.
pub struct FlagsView<'a> {
    ctx: &'a FlagsCtx,
    tenant: &'a Tenant,
}

impl<'a> FlagsView<'a> {
    /// `tenant`'s view of `ctx`.
    pub fn new(ctx: &'a FlagsCtx, tenant: &'a Tenant) -> Self {
        Self { ctx, tenant }
    }
}

struct FlagsBinding;
impl HasData for FlagsBinding {
    type Data<'a> = FlagsView<'a>;
}

/// Adds `warden:platform/feature-flags` to `linker`, reaching the view
/// through `view`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> FlagsView<'_>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, FlagsBinding>(linker, view)
}

impl wit::Host for FlagsView<'_> {
    async fn evaluate(
        &mut self,
        flag: String,
        context: Context,
    ) -> wasmtime::Result<Option<VariantValue>> {
        let ctx = EvalContext {
            subject: context.subject,
            attributes: context.attributes.into_iter().collect(),
        };
        match self.ctx.store.evaluate(self.tenant, &flag, &ctx).await {
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

//! The `warden:platform/auth` interface: the verified principal of the
//! request, bound from the WIT in `../wit`.
//!
//! The gateway fills [`Principal`] after verifying credentials; the guest
//! only ever reads the result. Until gateway auth is configured there is no
//! principal and the guest sees `none`.

use super::state::RequestState;

use super::bindings::auth as wit;

/// A principal verified by the gateway for one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principal {
    /// Subject of the token.
    pub subject: String,
    /// Tenant that issued it.
    pub tenant: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Claims the tenant exposes to its functions, as (name, JSON value).
    pub claims: Vec<(String, String)>,
    /// Authentication time, Unix seconds.
    pub auth_time: Option<u64>,
    /// Authentication methods (`amr`).
    pub methods: Vec<String>,
}

impl wit::Host for RequestState {
    async fn current_principal(&mut self) -> wasmtime::Result<Option<wit::Principal>> {
        Ok(self.principal.as_ref().map(|p| wit::Principal {
            subject: p.subject.clone(),
            tenant: p.tenant.clone(),
            scopes: p.scopes.clone(),
            claims: p.claims.clone(),
            auth_time: p.auth_time,
            methods: p.methods.clone(),
        }))
    }

    async fn has_scope(&mut self, scope: String) -> wasmtime::Result<bool> {
        Ok(self
            .principal
            .as_ref()
            .is_some_and(|p| p.scopes.contains(&scope)))
    }
}

/// Adds `warden:platform/auth` to the linker.
pub fn add_to_linker(
    linker: &mut wasmtime::component::Linker<RequestState>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<RequestState, wasmtime::component::HasSelf<RequestState>>(linker, |s| s)
}

//! The `warden:platform/auth` interface: the verified principal of the
//! request, bound from the WIT in `../wit`.
//!
//! The gateway fills [`Principal`] after verifying credentials; the guest
//! only ever reads the result. Until gateway auth is configured there is no
//! principal and the guest sees `none`.

use warden_world::auth as wit;
use wasmtime::component::{HasData, Linker};

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

/// One request's view of auth: the principal the gateway verified.
#[derive(Debug, Clone, Copy)]
pub struct AuthView<'a> {
    principal: Option<&'a Principal>,
}

impl<'a> AuthView<'a> {
    /// A view of `principal` (`None`: the request is anonymous).
    pub fn new(principal: Option<&'a Principal>) -> Self {
        Self { principal }
    }
}

struct AuthBinding;
impl HasData for AuthBinding {
    type Data<'a> = AuthView<'a>;
}

/// Adds `warden:platform/auth` to `linker`, reaching the view through `view`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> AuthView<'_>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, AuthBinding>(linker, view)
}

impl wit::Host for AuthView<'_> {
    async fn current_principal(&mut self) -> wasmtime::Result<Option<wit::Principal>> {
        Ok(self.principal.map(|p| wit::Principal {
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

//! The verified principal of the current request (`warden:platform/auth`).
//!
//! Warden's gateway verifies credentials before the function runs; the
//! function only sees the outcome, never the token. Routes without gateway
//! auth have no principal.
//!
//! On native targets (unit tests) there is no gateway: [`principal`] returns
//! what the test set with [`testing::set_principal`](crate::testing::set_principal)
//! on its thread, `None` by default.

use serde::Serialize;

use crate::HttpError;

/// Who made the request, as verified by the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// Subject (`sub`) of the verified token.
    pub subject: String,
    /// Tenant that issued the token; always the tenant owning the function.
    pub tenant: String,
    /// Scopes granted to the token.
    pub scopes: Vec<String>,
    /// Claims the tenant exposes to its functions, as (name, JSON value).
    pub claims: Vec<(String, String)>,
    /// When the user authenticated, seconds since the Unix epoch.
    pub auth_time: Option<u64>,
    /// Authentication methods used (`amr`), e.g. `"pwd"`, `"otp"`.
    pub methods: Vec<String>,
}

impl Principal {
    /// A principal of `tenant` with `subject` and no scopes, claims or
    /// methods; for tests, with
    /// [`testing::set_principal`](crate::testing::set_principal).
    pub fn new(subject: impl Into<String>, tenant: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            tenant: tenant.into(),
            scopes: Vec::new(),
            claims: Vec::new(),
            auth_time: None,
            methods: Vec::new(),
        }
    }

    /// The same principal, also granted `scope`.
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scopes.push(scope.into());
        self
    }

    /// Whether this principal was granted `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// The raw JSON text of claim `name`, if the tenant exposes it.
    pub fn claim(&self, name: &str) -> Option<&str> {
        self.claims
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
    }
}

#[cfg(target_arch = "wasm32")]
impl From<crate::bindings::warden::platform::auth::Principal> for Principal {
    fn from(p: crate::bindings::warden::platform::auth::Principal) -> Self {
        Self {
            subject: p.subject,
            tenant: p.tenant,
            scopes: p.scopes,
            claims: p.claims,
            auth_time: p.auth_time,
            methods: p.methods,
        }
    }
}

/// The verified principal of the request being handled, if any.
pub fn principal() -> Option<Principal> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::bindings::warden::platform::auth::current_principal().map(Principal::from)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        crate::native::with(|state| state.principal.clone())
    }
}

/// Whether the verified principal was granted `scope` (`false` without one).
pub fn has_scope(scope: &str) -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        crate::bindings::warden::platform::auth::has_scope(scope)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        principal().is_some_and(|p| p.has_scope(scope))
    }
}

/// The principal, provided it holds `scope`: 401 `unauthenticated` without
/// a principal, 403 `forbidden` without the scope. Meant for `?`.
pub fn require_scope(scope: &str) -> Result<Principal, HttpError> {
    let principal = principal()
        .ok_or_else(|| HttpError::unauthenticated("this endpoint requires authentication"))?;
    if principal.has_scope(scope) {
        Ok(principal)
    } else {
        Err(HttpError::forbidden(format!("missing scope `{scope}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_has_no_principal_until_a_test_sets_one() {
        assert_eq!(principal(), None);
        assert!(!has_scope("read"));
        assert_eq!(require_scope("read").err().map(|e| e.status()), Some(401));

        let reader = Principal::new("u1", "acme").with_scope("read");
        crate::testing::set_principal(reader.clone());
        assert_eq!(principal(), Some(reader.clone()));
        assert!(has_scope("read"));
        assert_eq!(require_scope("read").ok(), Some(reader));
        assert_eq!(require_scope("write").err().map(|e| e.status()), Some(403));

        crate::testing::clear_principal();
        assert_eq!(principal(), None);
        crate::testing::set_principal(Principal::new("u2", "acme"));
        crate::testing::reset();
        assert_eq!(principal(), None);
    }

    #[test]
    fn principals_are_per_thread() {
        crate::testing::set_principal(Principal::new("here", "acme"));
        let elsewhere = std::thread::spawn(principal).join().ok().flatten();
        assert_eq!(elsewhere, None);
        assert_eq!(principal().map(|p| p.subject).as_deref(), Some("here"));
    }

    #[test]
    fn claims_and_scopes() {
        let p = Principal {
            subject: "u1".into(),
            tenant: "acme".into(),
            scopes: vec!["quotes:read".into()],
            claims: vec![("email".into(), "\"a@b.c\"".into())],
            auth_time: None,
            methods: vec![],
        };
        assert!(p.has_scope("quotes:read"));
        assert!(!p.has_scope("quotes:write"));
        assert_eq!(p.claim("email"), Some("\"a@b.c\""));
    }
}

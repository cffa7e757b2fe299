//! What a scoped admin token (`wat_...`, one tenant, some of `deploy read
//! keys users admin`) may do: a request under `/v1/tenants/{tenant}/...`
//! needs one scope, decided here from the method and the path; everything
//! else (listing tenants, creating or replacing one, which sets its tier
//! and hosts) is the node's admin token's alone.
//!
//! The table, most specific first:
//!
//! | request                                   | scope   |
//! | ----------------------------------------- | ------- |
//! | `.../admin-tokens...` (any method)        | admin   |
//! | `DELETE /tenants/{t}`                     | admin   |
//! | `.../users...`, `.../clients...` (any)    | users   |
//! | `.../keys...`, `POST .../tokens`          | keys    |
//! | other `GET`                               | read    |
//! | `PUT .../functions/{f}`, `POST .../versions`, `POST .../activate` | deploy |
//! | anything else                             | admin   |
//!
//! A token's `admin` scope implies every other one.

use axum::http::Method;
use warden_plugin_auth::service::AdminScope;

/// Who may make a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Required {
    /// Only the node's admin token.
    Node,
    /// A token of `tenant` with `scope` (or the node's token).
    Tenant {
        /// The tenant named by the path.
        tenant: String,
        /// The scope the action needs.
        scope: AdminScope,
    },
}

/// What `method` on `path` (with or without the `/v1` prefix) requires.
pub fn required(method: &Method, path: &str) -> Required {
    let path = path.strip_prefix("/v1").unwrap_or(path);
    let mut segments = path.trim_start_matches('/').split('/');
    let (Some("tenants"), Some(tenant)) = (segments.next(), segments.next()) else {
        return Required::Node;
    };
    // A name that would decode to another one is never matched to a token.
    if tenant.is_empty() || tenant.contains('%') {
        return Required::Node;
    }
    let rest: Vec<&str> = segments.collect();
    let first = rest.first().copied();
    let last = rest.last().copied();
    let scope = match (first, last) {
        (None, _) if *method == Method::GET => AdminScope::Read,
        (None, _) if *method == Method::DELETE => AdminScope::Admin,
        (None, _) => return Required::Node,
        (Some("admin-tokens"), _) => AdminScope::Admin,
        (Some("users" | "clients"), _) => AdminScope::Users,
        (Some("keys"), _) => AdminScope::Keys,
        (Some("tokens"), _) if *method == Method::POST => AdminScope::Keys,
        _ if *method == Method::GET => AdminScope::Read,
        (Some("functions"), _) if *method == Method::PUT && rest.len() == 2 => AdminScope::Deploy,
        (Some("functions"), Some("versions" | "activate")) if *method == Method::POST => {
            AdminScope::Deploy
        }
        _ => AdminScope::Admin,
    };
    Required::Tenant {
        tenant: tenant.to_owned(),
        scope,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(method: Method, path: &str) -> Option<AdminScope> {
        match required(&method, path) {
            Required::Node => None,
            Required::Tenant { tenant, scope } => {
                assert_eq!(tenant, "acme");
                Some(scope)
            }
        }
    }

    #[test]
    fn every_route_needs_the_scope_of_its_action() {
        use AdminScope::*;
        assert_eq!(required(&Method::GET, "/v1/tenants"), Required::Node);
        assert_eq!(
            scope(Method::PUT, "/v1/tenants/acme"),
            None,
            "sets tier and hosts"
        );
        assert_eq!(scope(Method::GET, "/v1/tenants/acme"), Some(Read));
        assert_eq!(scope(Method::DELETE, "/tenants/acme"), Some(Admin));
        assert_eq!(
            scope(Method::GET, "/tenants/acme/functions/f/versions"),
            Some(Read)
        );
        assert_eq!(
            scope(Method::PUT, "/tenants/acme/functions/f"),
            Some(Deploy)
        );
        assert_eq!(
            scope(Method::POST, "/tenants/acme/functions/f/versions"),
            Some(Deploy)
        );
        assert_eq!(
            scope(Method::POST, "/tenants/acme/functions/f/activate"),
            Some(Deploy)
        );
        assert_eq!(scope(Method::GET, "/tenants/acme/keys"), Some(Keys));
        assert_eq!(scope(Method::POST, "/tenants/acme/keys/rotate"), Some(Keys));
        assert_eq!(scope(Method::POST, "/tenants/acme/tokens"), Some(Keys));
        assert_eq!(scope(Method::GET, "/tenants/acme/users"), Some(Users));
        assert_eq!(
            scope(Method::POST, "/tenants/acme/clients/c/rotate-secret"),
            Some(Users)
        );
        assert_eq!(
            scope(Method::GET, "/tenants/acme/admin-tokens"),
            Some(Admin)
        );
        assert_eq!(
            required(&Method::GET, "/tenants/ac%6De/keys"),
            Required::Node
        );
    }
}

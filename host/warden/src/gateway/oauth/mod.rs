//! Step before routing: each tenant's OAuth 2.0 / OIDC token service on
//! its hosts, answered by the platform like the JWKS. The logic is the auth
//! plugin's [`TokenService`]; these files parse requests, call it and
//! render its answers, one file per endpoint:
//!
//! ```text
//! /.well-known/oauth-authorization-server   metadata.rs  (RFC 8414)
//! /.well-known/openid-configuration         metadata.rs  (OIDC discovery)
//! /oauth2/authorize  GET | POST             authorize.rs (validates, shows the login page)
//! /oauth2/login      POST                   login.rs     (password, then TOTP; issues the code)
//! /oauth2/token      POST                   token.rs     (RFC 6749, DPoP)
//! /oauth2/revoke     POST                   revoke.rs    (RFC 7009)
//! /oauth2/introspect POST                   introspect.rs (RFC 7662)
//! /oauth2/userinfo   GET | POST             userinfo.rs  (OIDC)
//! ```
//!
//! Served only for tenants whose token service is on (`[auth]
//! token_service`, the default) and who name an `issuer` and `audiences`
//! of their own: without those, tokens it issued would verify nowhere, so
//! every path here is a 404 (`token_service_off`). The URLs a tenant
//! advertises use the scheme of its `issuer` and the host the client
//! asked for (a tenant may be reached under several hosts; DPoP's `htu`
//! must be the URL the client used).

mod authorize;
mod client_auth;
mod form;
mod introspect;
mod login;
mod login_state;
mod metadata;
mod page;
mod reply;
mod revoke;
mod token;
mod userinfo;

pub use form::MAX_FORM_BYTES;
pub use login_state::LOGIN_STATE_PREFIX;

use super::GatewayBody;
use super::route::host_of;
use super::routes::{Routes, TenantIssuer};
use http::{Request, Response, StatusCode};
use http_body::Body;
use serde_json::json;
use std::sync::Arc;
use warden_plugin_auth::service::TokenService;
use warden_plugin_auth::{Tenant, unix_now};
use warden_plugin_kv::KvStore;
use warden_registry::{OAUTH_METADATA_PATH, OAUTH_PREFIX, OIDC_DISCOVERY_PATH};

/// The token service's endpoints of every tenant of the node.
pub struct OAuth {
    service: Arc<TokenService>,
    logins: login_state::LoginStates,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth").finish_non_exhaustive()
    }
}

/// Which endpoint a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Metadata,
    Authorize,
    Login,
    Token,
    Revoke,
    Introspect,
    Userinfo,
    Unknown,
}

/// The endpoint and the tenant a request is for, and the tenant's issuer
/// (`None` when its token service is off).
#[derive(Debug)]
pub struct Wanted {
    endpoint: Endpoint,
    tenant: Tenant,
    issuer: Option<Arc<TenantIssuer>>,
    host: String,
}

impl Wanted {
    /// The tenant the request is for.
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }
}

/// What one request works with: the tenant's issuer and its public URLs.
pub(crate) struct Site<'a> {
    pub(crate) tenant: &'a Tenant,
    pub(crate) issuer: &'a TenantIssuer,
    base: String,
}

impl Site<'_> {
    /// The public URL of `path` (e.g. `/oauth2/token`).
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn endpoint_of(path: &str) -> Option<Endpoint> {
    if path == OAUTH_METADATA_PATH || path == OIDC_DISCOVERY_PATH {
        return Some(Endpoint::Metadata);
    }
    let rest = path.strip_prefix(OAUTH_PREFIX)?;
    Some(match rest {
        "/authorize" => Endpoint::Authorize,
        "/login" => Endpoint::Login,
        "/token" => Endpoint::Token,
        "/revoke" => Endpoint::Revoke,
        "/introspect" => Endpoint::Introspect,
        "/userinfo" => Endpoint::Userinfo,
        "" => Endpoint::Unknown,
        other if other.starts_with('/') => Endpoint::Unknown,
        _ => return None,
    })
}

/// The endpoint a request on a tenant's host is for, told apart by its
/// path alone before the route table is loaded.
pub fn wanted<B>(routes: &Routes, req: &Request<B>) -> Option<Wanted> {
    let endpoint = endpoint_of(req.uri().path())?;
    let host = host_of(req).ok()?;
    let table = routes.load();
    let (tenant, issuer) = table.issuer_at(host)?;
    Some(Wanted {
        endpoint,
        tenant: Tenant::new(tenant).ok()?,
        issuer: issuer.cloned(),
        host: host.to_ascii_lowercase(),
    })
}

/// The scheme of the tenant's `issuer` (`https` unless it says `http`).
fn scheme_of(issuer: &str) -> &'static str {
    public_scheme(Some(issuer))
}

/// The scheme clients use for a tenant's URLs: its issuer's, `https` when
/// it says nothing else (the gateway sits behind TLS at the edge).
pub fn public_scheme(issuer: Option<&str>) -> &'static str {
    match issuer {
        Some(issuer) if issuer.starts_with("http://") => "http",
        _ => "https",
    }
}

impl OAuth {
    /// Endpoints over `service`; login forms in progress are kept in `kv`
    /// (the node's store, shared by every node on Redis).
    pub fn new(service: Arc<TokenService>, kv: Arc<dyn KvStore>) -> Self {
        Self {
            service,
            logins: login_state::LoginStates::new(kv),
        }
    }

    /// The token service (the admin API and the DPoP check use it too).
    pub fn service(&self) -> &Arc<TokenService> {
        &self.service
    }

    /// Deletes `tenant`'s login forms that expired before `now`; how many.
    pub async fn sweep_logins(
        &self,
        tenant: &Tenant,
        now: u64,
    ) -> Result<u64, warden_plugin_auth::service::ServiceError> {
        self.logins.sweep(tenant, now).await
    }

    /// Answers `req`, which [`wanted`] picked.
    pub async fn answer<B>(&self, wanted: Wanted, req: Request<B>) -> Response<GatewayBody>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let Some(issuer) = wanted.issuer.as_deref() else {
            return reply::json(
                StatusCode::NOT_FOUND,
                &json!({ "error": "not_found", "error_description": "this tenant has no token service" }),
            );
        };
        let site = Site {
            tenant: &wanted.tenant,
            issuer,
            base: format!("{}://{}", scheme_of(&issuer.issuer.issuer), wanted.host),
        };
        let now = unix_now();
        let service = &self.service;
        match wanted.endpoint {
            Endpoint::Metadata => metadata::answer(&site, req.method()),
            Endpoint::Authorize => authorize::answer(service, &self.logins, &site, req, now).await,
            Endpoint::Login => login::answer(service, &self.logins, &site, req, now).await,
            Endpoint::Token => token::answer(service, &site, req, now).await,
            Endpoint::Revoke => revoke::answer(service, &site, req, now).await,
            Endpoint::Introspect => introspect::answer(service, &site, req, now).await,
            Endpoint::Userinfo => userinfo::answer(service, &site, req, now).await,
            Endpoint::Unknown => reply::json(
                StatusCode::NOT_FOUND,
                &json!({ "error": "not_found", "error_description": "no such token-service endpoint" }),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_pick_endpoints_and_nothing_else() {
        assert_eq!(endpoint_of("/oauth2/token"), Some(Endpoint::Token));
        assert_eq!(endpoint_of(OIDC_DISCOVERY_PATH), Some(Endpoint::Metadata));
        assert_eq!(endpoint_of("/oauth2/nope"), Some(Endpoint::Unknown));
        assert_eq!(endpoint_of("/oauth2"), Some(Endpoint::Unknown));
        assert_eq!(endpoint_of("/oauth2x"), None);
        assert_eq!(endpoint_of("/token"), None);
        assert_eq!(scheme_of("http://acme.localhost/"), "http");
        assert_eq!(scheme_of("https://acme/"), "https");
    }
}

//! `/.well-known/oauth-authorization-server` (RFC 8414) and
//! `/.well-known/openid-configuration` (OIDC discovery): one document from
//! the plugin's `discovery_document`, with this host's endpoint URLs.

use super::{Site, reply};
use crate::gateway::GatewayBody;
use http::{Method, Response};
use warden_plugin_auth::service::{Endpoints, discovery_document};
use warden_registry::JWKS_PATH;

/// The endpoint URLs of `site`.
pub(crate) fn endpoints(site: &Site<'_>) -> Endpoints {
    Endpoints {
        authorization: site.url("/oauth2/authorize"),
        token: site.url("/oauth2/token"),
        revocation: site.url("/oauth2/revoke"),
        introspection: site.url("/oauth2/introspect"),
        userinfo: site.url("/oauth2/userinfo"),
        jwks: site.url(JWKS_PATH),
    }
}

/// The discovery document (GET or HEAD).
pub(crate) fn answer(site: &Site<'_>, method: &Method) -> Response<GatewayBody> {
    if !matches!(*method, Method::GET | Method::HEAD) {
        return reply::method_not_allowed("GET");
    }
    let document = discovery_document(&site.issuer.issuer, &endpoints(site));
    reply::public_json(&document)
}

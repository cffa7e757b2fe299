//! Who the request is from, as the gateway hands it to the function: never
//! the raw token.

use warden_plugin_core::Tenant;

/// The verified principal of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPrincipal {
    /// The tenant whose keys or issuers vouched for the token.
    pub tenant: Tenant,
    /// `sub`.
    pub subject: String,
    /// `iss`.
    pub issuer: String,
    /// `scope` (space-separated) or `scp`.
    pub scopes: Vec<String>,
    /// The route's `expose_claims` that the token has, each value as JSON
    /// text, in the route's order.
    pub claims: Vec<(String, String)>,
    /// `auth_time`, seconds since the epoch.
    pub auth_time: Option<u64>,
    /// `amr`.
    pub amr: Vec<String>,
    /// `acr`.
    pub acr: Option<String>,
    /// `exp`: the principal is not valid after it.
    pub expires_at: u64,
    /// `cnf.jkt` (RFC 9449): the token is bound to this DPoP key, and the
    /// gateway must require a proof of it (see
    /// [`crate::service::DpopVerifier::check_request`]).
    pub dpop_jkt: Option<String>,
    /// `fid`: the refresh-token family (login session) the token belongs to.
    pub family: Option<String>,
}

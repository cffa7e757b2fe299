//! What the discovery documents say: RFC 8414 authorization-server
//! metadata (`/.well-known/oauth-authorization-server`) and OIDC
//! discovery (`/.well-known/openid-configuration`), from the issuer and
//! the endpoint URLs the host serves. One function, so the documents can
//! never advertise what the service does not do (no `plain` PKCE, no
//! implicit flow, no password grant).

use serde_json::{Value, json};

use super::Issuer;

/// The URLs of the host's token-service endpoints for one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Authorization endpoint (login page).
    pub authorization: String,
    /// Token endpoint.
    pub token: String,
    /// RFC 7009 revocation endpoint.
    pub revocation: String,
    /// RFC 7662 introspection endpoint.
    pub introspection: String,
    /// OIDC userinfo endpoint.
    pub userinfo: String,
    /// The tenant's JWKS.
    pub jwks: String,
}

/// The RFC 8414 / OIDC discovery document (the same JSON serves both).
pub fn discovery_document(issuer: &Issuer, endpoints: &Endpoints) -> Value {
    json!({
        "issuer": issuer.issuer,
        "authorization_endpoint": endpoints.authorization,
        "token_endpoint": endpoints.token,
        "revocation_endpoint": endpoints.revocation,
        "introspection_endpoint": endpoints.introspection,
        "userinfo_endpoint": endpoints.userinfo,
        "jwks_uri": endpoints.jwks,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA", "ES256", "RS256"],
        "dpop_signing_alg_values_supported": ["EdDSA", "ES256", "RS256"],
        "scopes_supported": ["openid"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "preferred_username"],
        "authorization_response_iss_parameter_supported": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_the_service_does_is_advertised() {
        let issuer = Issuer {
            tenant: warden_plugin_core::Tenant::new("acme").unwrap(),
            issuer: "https://acme.example/".into(),
            audience: "api".into(),
            max_lifetime_s: 900,
        };
        let url = |p: &str| format!("https://acme.example/{p}");
        let doc = discovery_document(
            &issuer,
            &Endpoints {
                authorization: url("authorize"),
                token: url("token"),
                revocation: url("revoke"),
                introspection: url("introspect"),
                userinfo: url("userinfo"),
                jwks: url("jwks.json"),
            },
        );
        assert_eq!(doc["issuer"], "https://acme.example/");
        assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(doc["response_types_supported"], json!(["code"]));
    }
}

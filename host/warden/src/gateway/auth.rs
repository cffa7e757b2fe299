//! Step: authentication. The seam where the gateway verifies credentials
//! before any guest runs and hands the function a verified principal (the
//! `auth` interface), never the raw token.
//!
//! Today no tenant configures auth, so [`Anonymous`] admits every request
//! without a principal; gateway auth (per-tenant keys, JWT validation,
//! scopes, replay and step-up) fills this trait.

use super::GatewayError;
use super::routes::RouteTarget;
use async_trait::async_trait;
use http::HeaderMap;
use warden_runtime::Principal;

/// Decides who a request runs for, or refuses it.
#[async_trait]
pub trait Authenticate: Send + Sync + 'static {
    /// The verified principal for a request to `target` (`None`: the route
    /// is public and the request anonymous), or the refusal.
    async fn authenticate(
        &self,
        target: &RouteTarget,
        headers: &HeaderMap,
    ) -> Result<Option<Principal>, GatewayError>;
}

/// Every route is public: no principal, nothing refused.
#[derive(Debug, Default, Clone, Copy)]
pub struct Anonymous;

#[async_trait]
impl Authenticate for Anonymous {
    async fn authenticate(
        &self,
        _target: &RouteTarget,
        _headers: &HeaderMap,
    ) -> Result<Option<Principal>, GatewayError> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::routes::tests::target;

    #[tokio::test]
    async fn anonymous_admits_without_a_principal_even_with_a_token() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            "Bearer x".parse().expect("value"),
        );
        let principal = Anonymous
            .authenticate(&target(None), &headers)
            .await
            .expect("admitted");
        assert_eq!(principal, None);
    }
}

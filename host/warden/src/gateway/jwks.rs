//! Step before routing: the platform's own answer at
//! `/.well-known/jwks.json` on every tenant host, the tenant's public
//! signing keys, so that anyone can verify the tokens it issues. No
//! function may claim the path (the registry refuses such routes).

use super::GatewayError;
use super::body::GatewayBody;
use super::route::host_of;
use super::routes::Routes;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, header};
use http_body_util::{BodyExt as _, Full};
use warden_plugin_auth::{KeyManager, Tenant, unix_now};
use warden_registry::JWKS_PATH;

/// How long clients and CDNs may keep the key set: short enough that a
/// new key is seen well within the rotation overlap (a day by default).
const CACHE_CONTROL: &str = "public, max-age=300";

/// The tenant the request asks the key set of, when it is a `GET` or
/// `HEAD` of the JWKS path on a tenant's host. Every other request is
/// told apart by its path alone, before the route table is loaded.
pub fn wanted<B>(routes: &Routes, req: &Request<B>) -> Option<Tenant> {
    if req.uri().path() != JWKS_PATH || !matches!(*req.method(), Method::GET | Method::HEAD) {
        return None;
    }
    let host = host_of(req).ok()?;
    Tenant::new(routes.load().tenant_at(host)?).ok()
}

/// The key set of `tenant` as the response.
pub async fn answer(
    keys: &KeyManager,
    tenant: &Tenant,
    head: bool,
) -> Result<Response<GatewayBody>, GatewayError> {
    let body = keys.jwks(tenant, unix_now()).await.map_err(|error| {
        tracing::warn!(%tenant, %error, "cannot read the tenant's keys for its JWKS");
        GatewayError::KeysUnavailable
    })?;
    let body = if head {
        Bytes::new()
    } else {
        Bytes::from(body)
    };
    let mut response = Response::new(
        Full::new(body)
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jwk-set+json"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::{RouteTable, TenantRoutes};

    fn request(method: Method, host: &str, path: &str) -> Request<()> {
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, host)
            .body(())
            .expect("request")
    }

    #[test]
    fn only_a_get_or_head_of_the_path_on_a_tenant_host_is_answered() {
        let mut table = RouteTable::new("localhost");
        table.set_tenant("acme", &[], TenantRoutes::default());
        let routes: Routes = std::sync::Arc::new(arc_swap::ArcSwap::from_pointee(table));
        let asks = |m, h, p| wanted(&routes, &request(m, h, p)).map(|t| t.to_string());
        assert_eq!(
            asks(Method::GET, "acme.localhost:8080", JWKS_PATH).as_deref(),
            Some("acme")
        );
        assert_eq!(
            asks(Method::HEAD, "acme.localhost", JWKS_PATH).as_deref(),
            Some("acme")
        );
        assert_eq!(asks(Method::POST, "acme.localhost", JWKS_PATH), None);
        assert_eq!(asks(Method::GET, "globex.localhost", JWKS_PATH), None);
        assert_eq!(
            asks(Method::GET, "acme.localhost", "/.well-known/jwks"),
            None
        );
    }
}

//! Step: routing. `host + path` to a route target, and the request marked
//! with the route it matched, so the function can work with paths relative
//! to where it is mounted.

use super::GatewayError;
use super::routes::{Lookup, RouteTable, RouteTarget};
use http::{HeaderValue, Request};
use std::sync::Arc;
use warden_registry::normalize_route;

/// Header carrying the matched route prefix to the guest (e.g. `/todos`;
/// empty for a function mounted at `/`). The gateway always sets it and
/// never passes on a client's copy, so a function can trust it.
pub const ROUTE_PREFIX_HEADER: &str = "x-warden-route-prefix";

/// A request's route.
#[derive(Debug, Clone)]
pub struct Matched {
    /// The function that serves it.
    pub target: Arc<RouteTarget>,
    /// The route prefix it matched, without a trailing `/`.
    pub prefix: String,
}

/// The request's host: the URI authority (HTTP/2 `:authority`, HTTP/1.1
/// absolute-form) or the `Host` header. Ambiguity is refused rather than
/// resolved: two `Host` headers, or a `Host` that disagrees with the
/// authority, could route differently at a proxy in front of us.
pub fn host_of<B>(req: &Request<B>) -> Result<&str, GatewayError> {
    let mut hosts = req.headers().get_all(http::header::HOST).iter();
    let header = hosts.next();
    if hosts.next().is_some() {
        return Err(GatewayError::DuplicateHost);
    }
    let header = header
        .map(|h| h.to_str().map_err(|_| GatewayError::InvalidHost))
        .transpose()?;
    match (req.uri().authority(), header) {
        (Some(authority), Some(host)) if !authority.as_str().eq_ignore_ascii_case(host) => {
            Err(GatewayError::ConflictingHost)
        }
        (Some(authority), _) => Ok(authority.as_str()),
        (None, Some(host)) => Ok(host),
        (None, None) => Err(GatewayError::MissingHost),
    }
}

/// Finds the function serving `req` in `table`.
pub fn find<B>(table: &RouteTable, req: &Request<B>) -> Result<Matched, GatewayError> {
    let host = host_of(req)?;
    match table.lookup(host, req.uri().path()) {
        Lookup::Found(target, prefix) => Ok(Matched {
            target: target.clone(),
            prefix: match normalize_route(prefix) {
                "/" => String::new(),
                route => route.to_string(),
            },
        }),
        Lookup::UnknownHost => Err(GatewayError::UnknownHost(host.to_string())),
        Lookup::NoRoute(tenant) => Err(GatewayError::RouteNotFound {
            tenant: tenant.to_string(),
            path: req.uri().path().to_string(),
        }),
    }
}

/// Replaces any client-sent route-prefix header with the matched one.
pub fn mark<B>(req: &mut Request<B>, matched: &Matched) {
    let headers = req.headers_mut();
    headers.remove(ROUTE_PREFIX_HEADER);
    if let Ok(value) = HeaderValue::from_str(&matched.prefix) {
        headers.insert(ROUTE_PREFIX_HEADER, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::TenantRoutes;
    use crate::gateway::routes::tests::target;

    fn table() -> RouteTable {
        let mut table = RouteTable::new("localhost");
        let routes = TenantRoutes::new(vec![(
            vec!["/todos/".to_string(), "/".to_string()],
            Arc::new(target(None)),
        )]);
        table.set_tenant("acme", &[], routes);
        table
    }

    fn request(host: &str, path: &str) -> Request<()> {
        Request::builder()
            .uri(path)
            .header("host", host)
            .header(ROUTE_PREFIX_HEADER, "/forged")
            .body(())
            .expect("request")
    }

    #[test]
    fn the_matched_prefix_replaces_a_forged_header() {
        let mut req = request("acme.localhost", "/todos/1");
        let matched = find(&table(), &req).expect("found");
        assert_eq!(matched.prefix, "/todos");
        mark(&mut req, &matched);
        let values: Vec<_> = req.headers().get_all(ROUTE_PREFIX_HEADER).iter().collect();
        assert_eq!(values, ["/todos"]);
        let root = find(&table(), &request("acme.localhost", "/other")).expect("root");
        assert_eq!(root.prefix, "", "a function at / has an empty prefix");
    }

    #[test]
    fn ambiguous_or_non_ascii_hosts_are_refused() {
        let two = Request::builder()
            .uri("/")
            .header("host", "acme.localhost")
            .header("host", "other.localhost")
            .body(())
            .expect("request");
        assert!(matches!(host_of(&two), Err(GatewayError::DuplicateHost)));
        let conflicting = Request::builder()
            .uri("http://acme.localhost/")
            .header("host", "other.localhost")
            .body(())
            .expect("request");
        assert!(matches!(
            host_of(&conflicting),
            Err(GatewayError::ConflictingHost)
        ));
        let same = Request::builder()
            .uri("http://acme.localhost/")
            .header("host", "ACME.localhost")
            .body(())
            .expect("request");
        assert_eq!(host_of(&same).expect("agrees"), "acme.localhost");
        let bytes = http::HeaderValue::from_bytes(b"caf\xc3\xa9.localhost").expect("value");
        let non_ascii = Request::builder()
            .uri("/")
            .header("host", bytes)
            .body(())
            .expect("request");
        assert!(matches!(
            host_of(&non_ascii),
            Err(GatewayError::InvalidHost)
        ));
    }

    #[test]
    fn unknown_hosts_and_missing_hosts_are_refused() {
        assert!(matches!(
            find(&table(), &request("nobody.localhost", "/")),
            Err(GatewayError::UnknownHost(_))
        ));
        let bare = Request::builder().uri("/").body(()).expect("request");
        assert!(matches!(
            find(&table(), &bare),
            Err(GatewayError::MissingHost)
        ));
    }
}

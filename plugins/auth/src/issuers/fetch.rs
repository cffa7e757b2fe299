//! Fetching a JWKS over HTTP: plain `http://` to loopback only, a time
//! budget, a body cap, no redirects.
//!
//! This build has no TLS client (a TLS stack would be the crate's largest
//! dependency by far): `https://` URLs are accepted in config, and every
//! fetch of one fails with [`FetchError::TlsUnavailable`], so the issuer's
//! tokens are refused (`jwks_unavailable`) until a TLS-capable fetcher is
//! added here. Nothing else changes when it is.

use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use http::Uri;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Largest JWKS document read, in bytes.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Why a JWKS could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// An `https://` URL, and this build has no TLS client.
    #[error("TLS not available in this build")]
    TlsUnavailable,
    /// Connection failed or the server sent no complete answer.
    #[error("fetch failed: {0}")]
    Http(String),
    /// No answer within the time budget.
    #[error("fetch timed out")]
    Timeout,
    /// The server answered, but not `200 OK`.
    #[error("unexpected status {0}")]
    Status(u16),
    /// The body is over [`MAX_JWKS_BYTES`] or not a JWKS.
    #[error("invalid JWKS: {0}")]
    Invalid(String),
}

/// Checks a configured `jwks_url`: `https://`, or `http://` to a loopback
/// address (`localhost`, `127.0.0.0/8`, `[::1]`); no userinfo.
pub fn check_jwks_url(url: &str) -> Result<Uri, String> {
    let uri: Uri = url
        .parse()
        .map_err(|_| format!("jwks_url {url:?} is not a URL"))?;
    let authority = uri
        .authority()
        .ok_or_else(|| format!("jwks_url {url:?} has no host"))?;
    if authority.as_str().contains('@') {
        return Err(format!("jwks_url {url:?} must not carry credentials"));
    }
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if is_loopback(authority.host()) => Ok(uri),
        Some("http") => Err(format!(
            "jwks_url {url:?}: http:// is allowed only for loopback addresses; use https://"
        )),
        _ => Err(format!("jwks_url {url:?} must be https://")),
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A shared HTTP client for every issuer of the node.
#[derive(Clone)]
pub(crate) struct Fetcher {
    client: Client<HttpConnector, Empty<Bytes>>,
    timeout: Duration,
}

impl Fetcher {
    pub(crate) fn new(timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            timeout,
        }
    }

    /// GETs `uri`; the body of a `200 OK`.
    pub(crate) async fn get(&self, uri: &Uri) -> Result<Bytes, FetchError> {
        if uri.scheme_str() != Some("http") {
            return Err(FetchError::TlsUnavailable);
        }
        let request = http::Request::get(uri.clone())
            .header(
                http::header::ACCEPT,
                "application/jwk-set+json, application/json",
            )
            .body(Empty::new())
            .map_err(|e| FetchError::Http(e.to_string()))?;
        let work = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| FetchError::Http(e.to_string()))?;
            if response.status() != http::StatusCode::OK {
                return Err(FetchError::Status(response.status().as_u16()));
            }
            Limited::new(response.into_body(), MAX_JWKS_BYTES)
                .collect()
                .await
                .map(|body| body.to_bytes())
                .map_err(|e| FetchError::Invalid(e.to_string()))
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| FetchError::Timeout)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_only_to_loopback() {
        for ok in [
            "https://login.example.com/jwks",
            "http://127.0.0.1:8080/jwks",
            "http://127.9.0.1/jwks",
            "http://localhost:1/jwks",
            "http://[::1]:9/jwks",
        ] {
            assert!(check_jwks_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://login.example.com/jwks",
            "http://10.0.0.1/jwks",
            "http://127.0.0.1.example.com/",
            "ftp://127.0.0.1/",
            "https://user:pw@login.example.com/",
            "/jwks",
            "not a url",
        ] {
            assert!(check_jwks_url(bad).is_err(), "{bad}");
        }
    }
}

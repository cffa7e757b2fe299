//! Fetching a JWKS: `https://` (rustls), or plain `http://` to loopback
//! only; a time budget, a body cap, no redirects.
//!
//! TLS is `warden_plugin_core::tls` (rustls on `ring`, shared with the
//! model plugin), HTTP/1.1 only (a JWKS is one GET). Servers are trusted by
//! the Mozilla roots (`webpki-roots`, compiled in, so a node's trust does
//! not depend on the host's CA bundle) plus any extra roots the operator
//! configures (`[auth] jwks_ca_file`, for an IdP behind a private CA). The
//! certificate must name the URL's host; there is no way to turn
//! verification off.

use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use http::Uri;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use warden_plugin_core::tls::{self, CertificateDer};

/// Largest JWKS document read, in bytes.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Why a JWKS could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Connection or TLS handshake failed (e.g. a certificate no configured
    /// root trusts), or the server sent no complete answer.
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

pub(crate) use warden_plugin_core::tls::parse_pem_roots;

/// A shared HTTP(S) client for every issuer of the node.
#[derive(Clone)]
pub(crate) struct Fetcher {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    timeout: Duration,
}

impl Fetcher {
    /// A client trusting the Mozilla roots plus `extra_roots`. Fails only
    /// when an extra root is not a usable CA certificate.
    pub(crate) fn new(
        timeout: Duration,
        extra_roots: &[CertificateDer<'static>],
    ) -> Result<Self, String> {
        let tls = tls::client_config(extra_roots)?;
        // `http://` is loopback-only: checked in `check_jwks_url` and
        // again in `get`.
        let connector = tls::https_connector(tls, timeout);
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            timeout,
        })
    }

    /// GETs `uri`; the body of a `200 OK`. A redirect is a
    /// [`FetchError::Status`], never followed: the URL is the trust anchor.
    pub(crate) async fn get(&self, uri: &Uri) -> Result<Bytes, FetchError> {
        match (uri.scheme_str(), uri.host()) {
            (Some("https"), _) => {}
            (Some("http"), Some(host)) if is_loopback(host) => {}
            _ => {
                return Err(FetchError::Http(format!(
                    "{uri}: only https://, or http:// to loopback"
                )));
            }
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

    #[test]
    fn pem_roots_are_the_shared_parser() {
        // The parser's own cases are in warden_plugin_core::tls.
        let one = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(parse_pem_roots(one).unwrap().len(), 1);
        assert!(parse_pem_roots(b"").is_err());
    }

    #[tokio::test]
    async fn plain_http_to_a_remote_host_is_refused_by_the_fetcher_too() {
        let fetcher = Fetcher::new(Duration::from_millis(200), &[]).unwrap();
        let uri: Uri = "http://192.0.2.1/jwks".parse().unwrap();
        let error = fetcher.get(&uri).await.unwrap_err();
        assert!(
            matches!(error, FetchError::Http(ref m) if m.contains("loopback")),
            "{error}"
        );
    }
}

//! The one way Warden's plugins open HTTPS connections (the auth plugin's
//! JWKS fetcher, the model plugin's OpenAI-compatible provider): rustls on
//! the `ring` provider, chosen explicitly so no process-wide default is
//! needed; the Mozilla roots compiled in (`webpki-roots`, so a node's trust
//! does not depend on the host's CA bundle) plus extra roots an operator
//! configures for a private CA. The certificate must name the URL's host;
//! there is no way to turn verification off.

use std::sync::Arc;
use std::time::Duration;

use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject as _;

pub use rustls::pki_types::CertificateDer;

/// The certificates of a PEM document (`CERTIFICATE` sections; other
/// sections, such as keys, are skipped). An error when it holds none or a
/// section is malformed, so a wrong file is caught at start, not at the
/// first connection.
pub fn parse_pem_roots(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let roots = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a PEM certificate file: {e}"))?;
    if roots.is_empty() {
        return Err("holds no PEM certificate".to_owned());
    }
    Ok(roots)
}

/// Reads and parses a PEM CA file (see [`parse_pem_roots`]); the error
/// names the file.
pub fn read_pem_roots(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem =
        std::fs::read(path).map_err(|e| format!("cannot read CA file {}: {e}", path.display()))?;
    parse_pem_roots(&pem).map_err(|e| format!("CA file {}: {e}", path.display()))
}

/// A TLS client config trusting the Mozilla roots plus `extra_roots`.
/// Fails only when an extra root is not a usable CA certificate.
pub fn client_config(
    extra_roots: &[CertificateDer<'static>],
) -> Result<rustls::ClientConfig, String> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for (i, root) in extra_roots.iter().enumerate() {
        roots
            .add(root.clone())
            .map_err(|e| format!("certificate {} is not a usable root: {e}", i + 1))?;
    }
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS setup failed: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth())
}

/// An HTTP/1.1 connector speaking TLS to `https://` URLs and plain TCP to
/// `http://` ones, with a connect timeout and `TCP_NODELAY` (small
/// requests and streamed chunks must not wait for Nagle). Which plain
/// `http://` targets are acceptable is the caller's policy.
pub fn https_connector(
    tls: rustls::ClientConfig,
    connect_timeout: Duration,
) -> HttpsConnector<HttpConnector> {
    let mut http = HttpConnector::new();
    http.set_connect_timeout(Some(connect_timeout));
    http.set_nodelay(true);
    // The TLS layer decides the scheme.
    http.enforce_http(false);
    HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_roots_must_hold_a_certificate() {
        assert!(parse_pem_roots(b"").is_err());
        assert!(parse_pem_roots(b"not pem at all").is_err());
        let key_only = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(parse_pem_roots(key_only).is_err());
        let truncated = b"-----BEGIN CERTIFICATE-----\nAAAA\n";
        assert!(parse_pem_roots(truncated).is_err());
        let one = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(parse_pem_roots(one).unwrap().len(), 1);
        let missing = read_pem_roots(std::path::Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(missing.contains("/nonexistent/ca.pem"), "{missing}");
    }

    #[test]
    fn a_garbage_root_is_refused_and_none_is_fine() {
        assert!(client_config(&[]).is_ok());
        let garbage = CertificateDer::from(vec![1u8, 2, 3]);
        assert!(client_config(&[garbage]).is_err());
    }
}

//! A throwaway certificate authority for HTTPS tests: a CA of its own,
//! which no built-in root trusts, and a server certificate it signed for
//! `localhost` and `127.0.0.1`. A client trusts the server only when it is
//! given [`TestCa::ca_pem`] (a provider's `ca_file`, say), so a test shows
//! both that TLS works and that verification is on.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A CA and the server config of a leaf it signed.
#[derive(Debug, Clone)]
pub struct TestCa {
    /// The CA certificate, PEM: what a `ca_file` holds.
    pub ca_pem: String,
    server: Arc<rustls::ServerConfig>,
}

impl TestCa {
    /// A fresh CA and leaf (rcgen, ring).
    ///
    /// # Panics
    /// When key generation or signing fails (test support: fail loudly).
    #[allow(clippy::unwrap_used)]
    pub fn new() -> Self {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "warden test CA");
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf_params =
            rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();
        let chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone(), ca.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let server = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
        Self {
            ca_pem: ca.pem(),
            server: Arc::new(server),
        }
    }

    /// An acceptor presenting the leaf certificate.
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.server.clone())
    }

    /// Writes [`Self::ca_pem`] to `dir/ca.pem` and returns the path.
    ///
    /// # Panics
    /// When the file cannot be written.
    pub fn write_ca_file(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.ca_pem).expect("write ca.pem");
        path
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

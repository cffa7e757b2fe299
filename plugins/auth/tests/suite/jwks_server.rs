//! A real HTTP (or HTTPS, tokio-rustls) JWKS endpoint on 127.0.0.1:0
//! (hyper), counting its hits. Every response closes its connection, so
//! stopping the server really makes the next fetch fail. The HTTPS
//! server's certificate comes from the shared [`TestCa`]: a CA of its own,
//! which no built-in root trusts, and a leaf for `localhost` and 127.0.0.1.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
pub use warden_plugin_testing::TestCa;

pub struct JwksServer {
    pub url: String,
    hits: Arc<AtomicUsize>,
    body: Arc<Mutex<String>>,
    task: tokio::task::JoinHandle<()>,
}

impl JwksServer {
    /// Plain HTTP at `http://127.0.0.1:PORT/.well-known/jwks.json`.
    pub async fn start(body: String) -> Self {
        Self::serve(body, None).await
    }

    /// HTTPS with `ca`'s server certificate, at
    /// `https://localhost:PORT/.well-known/jwks.json`.
    pub async fn start_tls(body: String, ca: &TestCa) -> Self {
        Self::serve(body, Some(ca.acceptor())).await
    }

    async fn serve(body: String, tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let url = match tls {
            Some(_) => format!("https://localhost:{port}/.well-known/jwks.json"),
            None => format!("http://127.0.0.1:{port}/.well-known/jwks.json"),
        };
        let hits = Arc::new(AtomicUsize::new(0));
        let body = Arc::new(Mutex::new(body));
        let (h, b) = (hits.clone(), body.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (h, b) = (h.clone(), b.clone());
                let service = service_fn(move |_request| {
                    h.fetch_add(1, Ordering::SeqCst);
                    let body = b.lock().unwrap().clone();
                    async move {
                        let response = http::Response::builder()
                            .header("content-type", "application/jwk-set+json")
                            .body(Full::new(Bytes::from(body)))
                            .unwrap();
                        Ok::<_, Infallible>(response)
                    }
                });
                let tls = tls.clone();
                tokio::spawn(async move {
                    let mut http = hyper::server::conn::http1::Builder::new();
                    http.keep_alive(false);
                    match tls {
                        // A failed handshake (an untrusting client) ends
                        // the connection before any request is counted.
                        Some(tls) => {
                            if let Ok(stream) = tls.accept(stream).await {
                                let _ = http.serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                        None => {
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                });
            }
        });
        Self {
            url,
            hits,
            body,
            task,
        }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn set_body(&self, body: String) {
        *self.body.lock().unwrap() = body;
    }

    /// Stops accepting; the port refuses connections from now on.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

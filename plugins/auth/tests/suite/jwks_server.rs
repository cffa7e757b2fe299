//! A real HTTP JWKS endpoint on 127.0.0.1:0 (hyper), counting its hits.
//! Every response closes its connection, so stopping the server really
//! makes the next fetch fail.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

pub struct JwksServer {
    pub url: String,
    hits: Arc<AtomicUsize>,
    body: Arc<Mutex<String>>,
    task: tokio::task::JoinHandle<()>,
}

impl JwksServer {
    pub async fn start(body: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
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
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .keep_alive(false)
                        .serve_connection(TokioIo::new(stream), service),
                );
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

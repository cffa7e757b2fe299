//! One HTTP/1.1 keep-alive client connection.

use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{HOST, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::errors::TransportError;
use crate::target::Target;

/// What every request of a run carries besides its target.
#[derive(Debug, Clone)]
pub struct RequestTemplate {
    /// Request method.
    pub method: Method,
    /// Extra headers, sent on every request.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Request body (empty for none).
    pub body: Bytes,
}

impl RequestTemplate {
    /// Builds the request for `target`.
    pub fn build(&self, target: &Target) -> Result<Request<Full<Bytes>>, TransportError> {
        let mut req = Request::builder()
            .method(self.method.clone())
            .uri(target.path.as_str())
            .header(HOST, target.host.clone());
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        req.body(Full::new(self.body.clone()))
            .map_err(|_| TransportError::Other)
    }
}

/// A response, reduced to what the report needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status code.
    pub status: u16,
    /// Body length in bytes.
    pub body_len: u64,
}

/// A whole response: status, headers and body (for clients that read what
/// the server answered, such as the seeding scenario).
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

/// An open connection; requests on it go one at a time.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
}

impl Conn {
    /// Opens a TCP connection to `addr` (with `TCP_NODELAY`) and runs the
    /// HTTP/1.1 handshake; the connection driver runs as a tokio task.
    pub async fn open(addr: SocketAddr) -> Result<Self, TransportError> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|_| TransportError::Connect)?;
        // Without it, small requests wait on Nagle's algorithm; a failure here
        // only costs latency, so it is not an error.
        let _ = stream.set_nodelay(true);
        let (sender, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| TransportError::Handshake)?;
        tokio::spawn(async move {
            // Errors surface on the next send; nothing to do here.
            let _ = conn.await;
        });
        Ok(Self { sender })
    }

    /// True once the server or the driver has closed the connection.
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Sends one request and reads the whole response body.
    pub async fn send(&mut self, req: Request<Full<Bytes>>) -> Result<Answer, TransportError> {
        self.sender
            .ready()
            .await
            .map_err(|e| TransportError::from_hyper(&e))?;
        let resp = self
            .sender
            .send_request(req)
            .await
            .map_err(|e| TransportError::from_hyper(&e))?;
        let status = resp.status().as_u16();
        let mut body = resp.into_body();
        let mut body_len = 0u64;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| match TransportError::from_hyper(&e) {
                TransportError::Other => TransportError::Body,
                kind => kind,
            })?;
            if let Some(data) = frame.data_ref() {
                body_len += data.len() as u64;
            }
        }
        Ok(Answer { status, body_len })
    }

    /// Sends one request and returns the whole response.
    pub async fn send_full(&mut self, req: Request<Full<Bytes>>) -> Result<Reply, TransportError> {
        self.sender
            .ready()
            .await
            .map_err(|e| TransportError::from_hyper(&e))?;
        let resp = self
            .sender
            .send_request(req)
            .await
            .map_err(|e| TransportError::from_hyper(&e))?;
        let (parts, body) = resp.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| match TransportError::from_hyper(&e) {
                TransportError::Other => TransportError::Body,
                kind => kind,
            })?
            .to_bytes();
        Ok(Reply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    }
}

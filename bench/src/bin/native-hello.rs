//! `native-hello`: the physical ceiling of the hello comparison.
//!
//! A minimal hyper 1 HTTP/1.1 server that answers every request the way the
//! `wasi-hello` component does under `wasmtime serve`: status 200,
//! `content-type: text/plain`, body `Hello, wasi!\n`, sent chunked (the
//! component streams its body without a length). `--content-length` sends
//! a `content-length` instead.
//!
//! Run with: `cargo run --release -p warden-bench --bin native-hello -- --listen 127.0.0.1:0`
//! It prints `listening on http://ADDR/` once bound.
#![forbid(unsafe_code)]

use std::convert::Infallible;
use std::io::Write as _;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use anyhow::Result;
use bytes::Bytes;
use clap::Parser;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Request, Response};
use http_body_util::BodyExt as _;
use http_body_util::Full;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::{Body, Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The body of the `wasi-hello` component.
const BODY: &[u8] = b"Hello, wasi!\n";

/// Minimal native hello server.
#[derive(Debug, Parser)]
#[command(name = "native-hello", version)]
struct Args {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Send `content-length` instead of a chunked body.
    #[arg(long)]
    content_length: bool,
}

/// A body of one chunk whose length is not announced, so hyper sends it
/// with `transfer-encoding: chunked`, like a streamed component body.
struct OneChunk(Option<Bytes>);

impl Body for OneChunk {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.take().map(|b| Ok(Frame::data(b))))
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let listener = TcpListener::bind(args.listen).await?;
    println!("listening on http://{}/", listener.local_addr()?);
    std::io::stdout().flush()?;
    let content_length = args.content_length;
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                // Out of file descriptors and the like: keep serving.
                eprintln!("accept: {e}");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = service_fn(move |_req: Request<Incoming>| async move {
                let body = if content_length {
                    Full::new(Bytes::from_static(BODY)).boxed_unsync()
                } else {
                    UnsyncBoxBody::new(OneChunk(Some(Bytes::from_static(BODY))))
                };
                let mut resp = Response::new(body);
                resp.headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
                Ok::<_, Infallible>(resp)
            });
            // A client hanging up mid-request is routine under load.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

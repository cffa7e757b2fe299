//! Bodies on the gateway's two sides: the request body capped while it
//! streams into the guest, and the response body tracked until its last
//! byte so the request's log line and metrics cover the whole exchange.

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

/// The response body type of every gateway response.
pub type GatewayBody = UnsyncBoxBody<Bytes, wasmtime_wasi_http::Error>;

/// A request body that fails once more than `limit` bytes have streamed
/// through, and raises `exceeded` so the gateway can answer 413 whatever
/// the guest does with the error.
pub struct CappedBody<B> {
    inner: B,
    remaining: u64,
    limit: u64,
    exceeded: Arc<AtomicBool>,
}

impl<B> CappedBody<B> {
    /// Wraps `inner` with a cap of `limit` bytes.
    pub fn new(inner: B, limit: u64, exceeded: Arc<AtomicBool>) -> Self {
        Self {
            inner,
            remaining: limit,
            limit,
            exceeded,
        }
    }
}

impl<B> Body for CappedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let len = data.len() as u64;
                    if len > this.remaining {
                        this.exceeded.store(true, Ordering::Relaxed);
                        return Poll::Ready(Some(Err(
                            wasmtime_wasi_http::Error::HttpRequestBodySize(Some(this.limit)),
                        )));
                    }
                    this.remaining -= len;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Called once when a tracked response body ends.
pub trait EndOfBody {
    /// The body ended after `bytes` bytes; `failed` if the stream errored.
    fn end(self, bytes: u64, failed: bool);

    /// Whether the response must be cut short now (e.g. the request body
    /// went over its cap after the guest had started answering).
    fn aborted(&self) -> bool {
        false
    }
}

impl<F: FnOnce(u64, bool)> EndOfBody for F {
    fn end(self, bytes: u64, failed: bool) {
        self(bytes, failed)
    }
}

/// A response body that calls `on_end` exactly once, when the body is
/// finished or dropped (client hung up), with the bytes sent and whether
/// the stream failed.
pub struct TrackedBody<B, F: EndOfBody> {
    inner: B,
    bytes: u64,
    failed: bool,
    on_end: Option<F>,
}

impl<B, F: EndOfBody> TrackedBody<B, F> {
    /// Wraps `inner`.
    pub fn new(inner: B, on_end: F) -> Self {
        Self {
            inner,
            bytes: 0,
            failed: false,
            on_end: Some(on_end),
        }
    }

    fn finish(&mut self) {
        if let Some(on_end) = self.on_end.take() {
            on_end.end(self.bytes, self.failed);
        }
    }
}

impl<B, F> Body for TrackedBody<B, F>
where
    B: Body<Data = Bytes, Error = wasmtime_wasi_http::Error> + Unpin,
    F: EndOfBody + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.on_end.as_ref().is_some_and(EndOfBody::aborted) {
            this.failed = true;
            this.finish();
            return Poll::Ready(Some(Err(wasmtime_wasi_http::Error::HttpRequestBodySize(
                None,
            ))));
        }
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.bytes += data.len() as u64;
                }
            }
            Poll::Ready(Some(Err(_))) => {
                this.failed = true;
                this.finish();
            }
            Poll::Ready(None) => this.finish(),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B, F: EndOfBody> Drop for TrackedBody<B, F> {
    fn drop(&mut self) {
        self.finish();
    }
}

//! The response body, tracked until its last byte so the request's log
//! line and metrics cover the whole exchange (the request side's cap is in
//! `body_cap.rs`).

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The response body type of every gateway response.
pub type GatewayBody = UnsyncBoxBody<Bytes, wasmtime_wasi_http::Error>;

/// Called once when a tracked response body ends.
pub trait EndOfBody {
    /// The body ended after `bytes` bytes; `failed` if the stream errored.
    fn end(self, bytes: u64, failed: bool);

    /// Whether the response must be cut short now (e.g. the request body
    /// went over its cap after the guest had started answering).
    fn aborted(&self) -> bool {
        false
    }

    /// Whether the producer failed, so that the body's end is not a clean
    /// end: a guest that trapped or ran out of budget after sending the
    /// head must not look like a complete response.
    fn failed_upstream(&self) -> bool {
        false
    }

    /// The most bytes the response may carry; past it the stream is cut.
    fn max_bytes(&self) -> u64 {
        u64::MAX
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
                    if this
                        .on_end
                        .as_ref()
                        .is_some_and(|e| this.bytes > e.max_bytes())
                    {
                        // Over the cap: an error, never a clean end, so the
                        // client can tell the response is incomplete.
                        this.failed = true;
                        this.finish();
                        return Poll::Ready(Some(Err(
                            wasmtime_wasi_http::Error::HttpResponseBodySize(None),
                        )));
                    }
                }
            }
            Poll::Ready(None) if this.on_end.as_ref().is_some_and(EndOfBody::failed_upstream) => {
                // HTTP/1.1: no terminating chunk and the connection closes;
                // HTTP/2: RST_STREAM.
                this.failed = true;
                this.finish();
                return Poll::Ready(Some(Err(wasmtime_wasi_http::Error::HttpResponseIncomplete)));
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

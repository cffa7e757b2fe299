//! Step: the request body cap. A declared `content-length` over the cap is
//! refused up front (413, before admission); the body is then capped again
//! while it streams into the guest, since chunked bodies declare nothing.

use super::GatewayError;
use bytes::Bytes;
use http::{HeaderMap, Request};
use http_body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

/// Refuses a request whose declared length is over `cap` bytes.
pub fn check_declared(headers: &HeaderMap, cap: u64) -> Result<(), GatewayError> {
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > cap) {
        return Err(GatewayError::BodyTooLarge(cap));
    }
    Ok(())
}

/// Wraps the body with a cap of `cap` bytes; the flag turns true once the
/// guest read past it (then the gateway answers 413 whatever the guest did).
pub fn cap<B>(req: Request<B>, cap: u64) -> (Request<CappedBody<B>>, Arc<AtomicBool>) {
    let exceeded = Arc::new(AtomicBool::new(false));
    let flag = exceeded.clone();
    (req.map(|body| CappedBody::new(body, cap, flag)), exceeded)
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt as _, Full};

    #[test]
    fn a_declared_length_over_the_cap_is_refused() {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_LENGTH, "11".parse().expect("value"));
        assert!(matches!(
            check_declared(&headers, 10),
            Err(GatewayError::BodyTooLarge(10))
        ));
        assert!(check_declared(&headers, 11).is_ok());
        assert!(check_declared(&HeaderMap::new(), 0).is_ok(), "undeclared");
    }

    #[tokio::test]
    async fn a_streamed_body_over_the_cap_fails_and_raises_the_flag() {
        let body = Full::new(Bytes::from_static(b"0123456789ab"))
            .map_err(|never| -> wasmtime_wasi_http::Error { match never {} });
        let (req, exceeded) = cap(Request::new(body), 10);
        let result = req.into_body().collect().await;
        assert!(result.is_err());
        assert!(exceeded.load(Ordering::Relaxed));
        let body = Full::new(Bytes::from_static(b"0123456789"))
            .map_err(|never| -> wasmtime_wasi_http::Error { match never {} });
        let (req, exceeded) = cap(Request::new(body), 10);
        assert!(req.into_body().collect().await.is_ok());
        assert!(!exceeded.load(Ordering::Relaxed));
    }
}

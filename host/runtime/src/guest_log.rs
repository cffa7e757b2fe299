//! Captures a guest's stdout and stderr into a bounded buffer.
//!
//! Writes always succeed from the guest's point of view (Rust's `println!`
//! panics when stdout fails), but only the first `cap` bytes are kept; the
//! rest is counted and dropped, so a chatty guest cannot grow host memory.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// A shared, size-capped log buffer for one request's guest output.
#[derive(Clone, Debug)]
pub struct GuestLog {
    inner: Arc<Mutex<Captured>>,
    cap: usize,
}

#[derive(Debug, Default)]
struct Captured {
    bytes: Vec<u8>,
    dropped: u64,
    error: Option<String>,
}

impl GuestLog {
    /// A buffer keeping at most `cap` bytes.
    pub fn new(cap: usize) -> Self {
        Self {
            inner: Arc::default(),
            cap,
        }
    }

    /// What the guest wrote (lossy UTF-8) and how many bytes were dropped.
    pub fn take(&self) -> (String, u64) {
        match self.inner.lock() {
            Ok(mut c) => {
                let text = String::from_utf8_lossy(&c.bytes).into_owned();
                c.bytes.clear();
                (text, std::mem::take(&mut c.dropped))
            }
            Err(_) => (String::new(), 0),
        }
    }

    /// Records why the guest failed after its response head was sent.
    pub fn set_error(&self, error: String) {
        if let Ok(mut c) = self.inner.lock() {
            c.error.get_or_insert(error);
        }
    }

    /// The failure recorded by [`GuestLog::set_error`], if any.
    pub fn error(&self) -> Option<String> {
        self.inner.lock().ok().and_then(|c| c.error.clone())
    }

    fn append(&self, buf: &[u8]) {
        if let Ok(mut c) = self.inner.lock() {
            let room = self.cap.saturating_sub(c.bytes.len());
            let kept = room.min(buf.len());
            c.bytes.extend_from_slice(&buf[..kept]);
            c.dropped += (buf.len() - kept) as u64;
        }
    }
}

impl IsTerminal for GuestLog {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestLog {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    /// A synchronous stream: a write lands in the buffer before the guest's
    /// next instruction. (The default adapter writes from a background
    /// task, so a guest that prints its panic message and then traps lost
    /// the message.)
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

/// Writes never block and never fail (past the cap they are counted).
const WRITE_BUDGET: usize = 64 << 10;

#[async_trait::async_trait]
impl OutputStream for GuestLog {
    fn write(&mut self, bytes: bytes::Bytes) -> Result<(), StreamError> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(WRITE_BUDGET)
    }
}

#[async_trait::async_trait]
impl Pollable for GuestLog {
    async fn ready(&mut self) {}
}

impl AsyncWrite for GuestLog {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_cap_and_counts_the_rest() {
        let log = GuestLog::new(4);
        log.append(b"hello");
        log.append(b"!!");
        let (text, dropped) = log.take();
        assert_eq!(text, "hell");
        assert_eq!(dropped, 3);
    }
}

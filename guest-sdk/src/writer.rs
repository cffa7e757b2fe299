//! Streaming responses: send the head first, then body chunks as they are
//! produced.

use std::cell::RefCell;
use std::fmt::Display;
use std::rc::Rc;

use crate::bindings::wasi::http::types::{OutgoingBody, OutgoingResponse, ResponseOutparam};
use crate::bindings::wasi::io::streams::{OutputStream, StreamError};
use crate::{Headers, IntoResponse, Response, WriteError};

/// The right to answer the current request, handed to streaming handlers.
///
/// Answer once: either [`send`](Self::send) a complete response, or
/// [`start`](Self::start) one and write its body through the returned
/// [`BodyWriter`]. Dropping the writer without answering sends a 500, so
/// the client never hangs on a handler that forgot to reply.
pub struct ResponseWriter {
    target: Option<Target>,
}

enum Target {
    Wasi(ResponseOutparam),
    Memory(Rc<RefCell<Record>>),
}

impl ResponseWriter {
    pub(crate) fn from_wasi(outparam: ResponseOutparam) -> Self {
        Self {
            target: Some(Target::Wasi(outparam)),
        }
    }

    /// A writer that records what the handler sends instead of sending it:
    /// for unit tests of streaming handlers on native targets.
    pub fn capture() -> (Self, Captured) {
        let record = Rc::new(RefCell::new(Record::default()));
        let writer = Self {
            target: Some(Target::Memory(Rc::clone(&record))),
        };
        (writer, Captured(record))
    }

    /// Sends the status and headers now and returns the body writer.
    ///
    /// A status the host rejects (outside 100..=599) becomes 500, with a
    /// line on stderr.
    pub fn start(mut self, status: u16, headers: &Headers) -> BodyWriter {
        let sink = match self.target.take() {
            Some(Target::Wasi(outparam)) => start_wasi(outparam, status, headers),
            Some(Target::Memory(record)) => {
                {
                    let mut record = record.borrow_mut();
                    record.status = Some(status);
                    record.headers = headers.clone();
                }
                Sink::Memory(record)
            }
            // `start` and `send` consume the writer, so the target is there.
            None => Sink::Gone,
        };
        BodyWriter {
            sink,
            closed: false,
        }
    }

    /// Sends a complete response (adding `content-length` when missing).
    ///
    /// Errors writing the body (the client hung up) are ignored: there is
    /// nobody left to tell.
    pub fn send(self, response: impl IntoResponse) {
        let (status, mut headers, body) = response.into_response().into_parts();
        let bodiless = matches!(status, 100..=199 | 204 | 304);
        if !headers.contains("content-length") && !bodiless {
            headers.insert("content-length", body.len().to_string());
        }
        let mut writer = self.start(status, &headers);
        if !body.is_empty() {
            let _ = writer.write(&body);
        }
        let _ = writer.finish();
    }
}

impl Drop for ResponseWriter {
    fn drop(&mut self) {
        if self.target.is_some() {
            let unanswered = ResponseWriter {
                target: self.target.take(),
            };
            unanswered.send(Response::error(
                500,
                "no_response",
                "the function returned without sending a response",
            ));
        }
    }
}

impl std::fmt::Debug for ResponseWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseWriter")
            .field("answered", &self.target.is_none())
            .finish()
    }
}

fn start_wasi(outparam: ResponseOutparam, status: u16, headers: &Headers) -> Sink {
    let response = OutgoingResponse::new(headers.to_fields());
    if response.set_status_code(status).is_err() {
        eprintln!("warden-sdk: invalid status {status}, sending 500");
        let _ = response.set_status_code(500);
    }
    // `body` only fails when called twice; this response is brand new.
    let body = response.body();
    // Hand the head to the host before writing: body bytes written before
    // `set` would wait for a reader that does not exist yet.
    ResponseOutparam::set(outparam, Ok(response));
    let Ok(body) = body else {
        return Sink::Gone;
    };
    match body.write() {
        Ok(stream) => Sink::Wasi {
            stream: Some(stream),
            body: Some(body),
        },
        Err(()) => {
            let _ = OutgoingBody::finish(body, None);
            Sink::Gone
        }
    }
}

/// The body of a started response; every [`write`](Self::write) reaches
/// the client before it returns.
///
/// Writes never panic. Once the client hangs up they return
/// [`WriteError::Closed`], which a handler can ignore or use to stop
/// producing output early. Dropping the writer finishes the body.
pub struct BodyWriter {
    sink: Sink,
    closed: bool,
}

enum Sink {
    /// `stream` is a child of `body` and is dropped first on finish.
    Wasi {
        stream: Option<OutputStream>,
        body: Option<OutgoingBody>,
    },
    Memory(Rc<RefCell<Record>>),
    /// The host refused the body; every write reports a closed stream.
    Gone,
}

impl BodyWriter {
    /// Writes `chunk` and flushes it to the client.
    pub fn write(&mut self, chunk: impl AsRef<[u8]>) -> Result<(), WriteError> {
        let chunk = chunk.as_ref();
        if self.closed {
            return Err(WriteError::Closed);
        }
        let result = match &mut self.sink {
            Sink::Wasi {
                stream: Some(stream),
                ..
            } => write_and_flush(stream, chunk).map_err(WriteError::from_stream),
            Sink::Wasi { stream: None, .. } | Sink::Gone => Err(WriteError::Closed),
            Sink::Memory(record) => {
                let mut record = record.borrow_mut();
                if record.client_gone {
                    Err(WriteError::Closed)
                } else {
                    if !chunk.is_empty() {
                        record.chunks.push(chunk.to_vec());
                    }
                    Ok(())
                }
            }
        };
        if result.is_err() {
            self.closed = true;
        }
        result
    }

    /// Ends the body. Reports a failure the host noticed while finishing,
    /// e.g. fewer bytes written than a declared `content-length`.
    pub fn finish(mut self) -> Result<(), WriteError> {
        self.finish_in_place()
    }

    /// Ends the body as a failure: the host cuts the response instead of
    /// ending it (a chunked body loses its last chunk, the connection
    /// closes), so the client can tell a broken answer from a complete one.
    /// For errors after the head was sent, e.g. a model stream that broke
    /// off; whatever was written before still reaches the client first.
    pub fn abort(mut self) {
        match &mut self.sink {
            Sink::Wasi { stream, body } => {
                drop(stream.take());
                // Dropping an outgoing body without `finish` aborts it.
                drop(body.take());
            }
            Sink::Memory(record) => record.borrow_mut().aborted = true,
            Sink::Gone => {}
        }
        self.sink = Sink::Gone;
    }

    fn finish_in_place(&mut self) -> Result<(), WriteError> {
        match &mut self.sink {
            Sink::Wasi { stream, body } => {
                drop(stream.take());
                match body.take() {
                    Some(body) => OutgoingBody::finish(body, None)
                        .map_err(|code| WriteError::Failed(format!("{code:?}"))),
                    None => Ok(()),
                }
            }
            Sink::Memory(record) => {
                record.borrow_mut().finished = true;
                Ok(())
            }
            Sink::Gone => Ok(()),
        }
    }
}

impl Drop for BodyWriter {
    fn drop(&mut self) {
        let _ = self.finish_in_place();
    }
}

impl std::io::Write for BodyWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        BodyWriter::write(self, buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        // Every write is flushed already.
        Ok(())
    }
}

impl std::fmt::Debug for BodyWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyWriter")
            .field("closed", &self.closed)
            .finish()
    }
}

/// Writes all of `bytes` within the host's write permits, then flushes.
fn write_and_flush(stream: &OutputStream, mut bytes: &[u8]) -> Result<(), StreamError> {
    while !bytes.is_empty() {
        let permit = stream.check_write()?;
        if permit == 0 {
            stream.subscribe().block();
            continue;
        }
        let n = usize::try_from(permit).map_or(bytes.len(), |p| p.min(bytes.len()));
        stream.write(&bytes[..n])?;
        bytes = &bytes[n..];
    }
    stream.blocking_flush()
}

/// What a [`ResponseWriter::capture`] writer recorded.
#[derive(Debug, Clone)]
pub struct Captured(Rc<RefCell<Record>>);

#[derive(Debug, Default)]
struct Record {
    status: Option<u16>,
    headers: Headers,
    chunks: Vec<Vec<u8>>,
    finished: bool,
    aborted: bool,
    client_gone: bool,
}

impl Captured {
    /// The status sent, if the response was started.
    pub fn status(&self) -> Option<u16> {
        self.0.borrow().status
    }

    /// The headers sent.
    pub fn headers(&self) -> Headers {
        self.0.borrow().headers.clone()
    }

    /// The body chunks, one per successful write.
    pub fn chunks(&self) -> Vec<Vec<u8>> {
        self.0.borrow().chunks.clone()
    }

    /// The whole body written so far.
    pub fn body(&self) -> Vec<u8> {
        self.0.borrow().chunks.concat()
    }

    /// Whether the body was finished (explicitly or by drop).
    pub fn is_finished(&self) -> bool {
        self.0.borrow().finished
    }

    /// Whether the body was ended as a failure ([`BodyWriter::abort`]).
    pub fn is_aborted(&self) -> bool {
        self.0.borrow().aborted
    }

    /// Simulates the client hanging up: later writes fail with
    /// [`WriteError::Closed`].
    pub fn hang_up(&self) {
        self.0.borrow_mut().client_gone = true;
    }
}

/// What a streaming handler may return: `()` or `Result<(), E>`.
///
/// An `Err` is logged to stderr (which Warden captures into the function's
/// log) and otherwise ignored: the response is already on its way.
pub trait HandlerOutcome {
    /// Reports the outcome once the handler has returned.
    fn report(self);
}

impl HandlerOutcome for () {
    fn report(self) {}
}

impl<E: Display> HandlerOutcome for Result<(), E> {
    fn report(self) {
        if let Err(err) = self {
            eprintln!("warden-sdk: streaming handler ended with an error: {err}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_records_status_headers_and_length() {
        let (writer, captured) = ResponseWriter::capture();
        writer.send(Response::text(201, "hi"));
        assert_eq!(captured.status(), Some(201));
        assert_eq!(captured.headers().get("content-length"), Some("2"));
        assert_eq!(captured.body(), b"hi");
        assert!(captured.is_finished());
    }

    #[test]
    fn dropping_an_unanswered_writer_sends_500() {
        let (writer, captured) = ResponseWriter::capture();
        drop(writer);
        assert_eq!(captured.status(), Some(500));
        assert!(String::from_utf8_lossy(&captured.body()).contains("no_response"));
    }

    #[test]
    fn writes_after_hang_up_fail_without_panicking() {
        let (writer, captured) = ResponseWriter::capture();
        let mut body = writer.start(200, &Headers::new());
        assert_eq!(body.write("a"), Ok(()));
        captured.hang_up();
        assert_eq!(body.write("b"), Err(WriteError::Closed));
        assert_eq!(body.write("c"), Err(WriteError::Closed));
        drop(body);
        assert_eq!(captured.chunks(), vec![b"a".to_vec()]);
        assert!(captured.is_finished());
    }

    #[test]
    fn an_aborted_body_is_not_finished() {
        let (writer, captured) = ResponseWriter::capture();
        let mut body = writer.start(200, &Headers::new());
        assert_eq!(body.write("partial"), Ok(()));
        body.abort();
        assert!(captured.is_aborted());
        assert!(!captured.is_finished(), "an abort is not a clean end");
        assert_eq!(captured.body(), b"partial");
    }
}

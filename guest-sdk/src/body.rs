//! Reading a request body chunk by chunk, without buffering it whole.

use std::collections::VecDeque;

use crate::BodyError;
use crate::bindings::wasi::http::types::{IncomingBody, IncomingRequest};
use crate::bindings::wasi::io::streams::{InputStream, StreamError};

/// Largest chunk asked of the host per read. Big enough to keep the number
/// of host calls low, small enough not to balloon guest memory.
const CHUNK: u64 = 64 * 1024;

/// A request body being read as it arrives.
///
/// Obtained from [`Request::take_body_reader`](crate::Request::take_body_reader)
/// in a streaming handler. Yields chunks in arrival order through
/// [`read_chunk`](Self::read_chunk), as an [`Iterator`], or as a
/// [`std::io::Read`] (e.g. for `serde_json::from_reader`).
pub struct BodyReader {
    source: Source,
    /// Unconsumed tail of the last chunk, for the `io::Read` impl.
    pending: Vec<u8>,
    pending_pos: usize,
}

enum Source {
    /// The host's body stream. Field order matters: `stream` is a child of
    /// `body` and must be dropped first.
    Wasi {
        stream: InputStream,
        _body: IncomingBody,
    },
    /// Chunks held in memory (native tests, or the body was already read).
    Memory(VecDeque<Vec<u8>>),
    Done,
}

impl BodyReader {
    /// Takes the body of a wasi:http request. Fails if it was consumed before.
    pub(crate) fn from_wasi(request: &IncomingRequest) -> Result<Self, BodyError> {
        let body = request
            .consume()
            .map_err(|()| BodyError::other("the request body was already consumed"))?;
        let stream = body
            .stream()
            .map_err(|()| BodyError::other("the request body stream was already taken"))?;
        Ok(Self::with_source(Source::Wasi {
            stream,
            _body: body,
        }))
    }

    /// A reader over bytes in memory, yielded as one chunk. For tests.
    pub fn from_bytes(data: impl Into<Vec<u8>>) -> Self {
        Self::from_chunks([data.into()])
    }

    /// A reader yielding `chunks` one by one, as if they arrived over the
    /// network in that shape. For tests of streaming handlers.
    pub fn from_chunks(chunks: impl IntoIterator<Item = Vec<u8>>) -> Self {
        let chunks = chunks.into_iter().filter(|c| !c.is_empty()).collect();
        Self::with_source(Source::Memory(chunks))
    }

    fn with_source(source: Source) -> Self {
        Self {
            source,
            pending: Vec::new(),
            pending_pos: 0,
        }
    }

    /// The next chunk of the body, or `None` at its end.
    ///
    /// Blocks until the host has data. Chunks are never empty.
    pub fn read_chunk(&mut self) -> Result<Option<Vec<u8>>, BodyError> {
        if self.pending_pos < self.pending.len() {
            let rest = self.pending.split_off(self.pending_pos);
            self.pending.clear();
            self.pending_pos = 0;
            return Ok(Some(rest));
        }
        let next = match &mut self.source {
            Source::Wasi { stream, .. } => loop {
                match stream.blocking_read(CHUNK) {
                    Ok(chunk) if chunk.is_empty() => continue,
                    Ok(chunk) => break Ok(Some(chunk)),
                    Err(StreamError::Closed) => break Ok(None),
                    Err(err) => break Err(BodyError::from_stream(err)),
                }
            },
            Source::Memory(chunks) => Ok(chunks.pop_front()),
            Source::Done => Ok(None),
        };
        if !matches!(next, Ok(Some(_))) {
            // End or failure: release the host resources now, not at drop.
            self.source = Source::Done;
        }
        next
    }

    /// Reads the rest of the body into one buffer.
    pub fn read_all(mut self) -> Result<Vec<u8>, BodyError> {
        let mut all = Vec::new();
        while let Some(chunk) = self.read_chunk()? {
            if all.is_empty() {
                all = chunk;
            } else {
                all.extend_from_slice(&chunk);
            }
        }
        Ok(all)
    }
}

impl Iterator for BodyReader {
    type Item = Result<Vec<u8>, BodyError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.read_chunk().transpose()
    }
}

impl std::io::Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pending_pos >= self.pending.len() {
            match self.read_chunk() {
                Ok(Some(chunk)) => {
                    self.pending = chunk;
                    self.pending_pos = 0;
                }
                Ok(None) => return Ok(0),
                Err(err) => return Err(std::io::Error::other(err)),
            }
        }
        let available = &self.pending[self.pending_pos..];
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.pending_pos += n;
        Ok(n)
    }
}

impl std::fmt::Debug for BodyReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match self.source {
            Source::Wasi { .. } => "wasi",
            Source::Memory(_) => "memory",
            Source::Done => "done",
        };
        f.debug_struct("BodyReader")
            .field("source", &source)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn yields_chunks_in_order_then_none() {
        let mut reader = BodyReader::from_chunks([b"ab".to_vec(), Vec::new(), b"c".to_vec()]);
        assert_eq!(reader.read_chunk(), Ok(Some(b"ab".to_vec())));
        assert_eq!(reader.read_chunk(), Ok(Some(b"c".to_vec())));
        assert_eq!(reader.read_chunk(), Ok(None));
        assert_eq!(reader.read_chunk(), Ok(None));
    }

    #[test]
    fn io_read_spans_chunks() {
        let mut reader = BodyReader::from_chunks([b"hel".to_vec(), b"lo".to_vec()]);
        let mut small = [0u8; 2];
        assert_eq!(reader.read(&mut small).ok(), Some(2));
        assert_eq!(&small, b"he");
        // The unread tail of a chunk comes back before the next chunk.
        assert_eq!(reader.read_chunk(), Ok(Some(b"l".to_vec())));
        let mut rest = String::new();
        assert!(reader.read_to_string(&mut rest).is_ok());
        assert_eq!(rest, "lo");
    }
}

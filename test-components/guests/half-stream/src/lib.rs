//! A response that fails after its head was sent: `GET /half` writes the
//! 200 head and 1 KiB, then panics (a trap); `GET /endless` streams 64 KiB
//! chunks until something stops it. A client must be able to tell either
//! from a complete response.

use warden_sdk::{Headers, Request, ResponseWriter, WriteError};

/// One chunk of the stream.
const CHUNK: usize = 64 << 10;

fn handle(req: Request, out: ResponseWriter) -> Result<(), WriteError> {
    let mut headers = Headers::new();
    headers.insert("content-type", "application/octet-stream");
    let endless = req.path().ends_with("/endless");
    let mut body = out.start(200, &headers);
    if endless {
        let chunk = vec![b'x'; CHUNK];
        loop {
            body.write(&chunk)?;
        }
    }
    body.write(vec![b'x'; 1024])?;
    panic!("half-stream: failing after the head and 1 KiB");
}

warden_sdk::http_streaming_handler!(handle);

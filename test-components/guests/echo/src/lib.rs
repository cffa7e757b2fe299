//! Streams the request body back as it arrives, one response chunk per
//! request chunk, and echoes `x-request-id` as `x-seen-request-id`. Tests
//! streaming both ways, and that a client hanging up mid-stream is harmless.

use warden_sdk::{Headers, Request, ResponseWriter, WriteError};

/// Copies body chunks to the response until the body ends or the client
/// goes away.
fn handle(mut req: Request, out: ResponseWriter) -> Result<(), WriteError> {
    let mut headers = Headers::new();
    if let Some(content_type) = req.header("content-type") {
        headers.insert("content-type", content_type);
    }
    if let Some(id) = req.headers().get_bytes("x-request-id") {
        headers.insert("x-seen-request-id", id);
    }
    let mut body = out.start(200, &headers);
    let Some(reader) = req.take_body_reader() else {
        return body.finish();
    };
    for chunk in reader {
        match chunk {
            Ok(chunk) => body.write(&chunk)?,
            // The upload broke off: end the echo with what we have.
            Err(err) => {
                eprintln!("echo: {err}");
                break;
            }
        }
    }
    body.finish()
}

warden_sdk::http_streaming_handler!(handle);

#[cfg(test)]
mod tests {
    use warden_sdk::{BodyReader, Method};

    use super::*;

    #[test]
    fn echoes_chunks_and_request_id() {
        let req = Request::new(Method::Post, "/echo")
            .with_header("x-request-id", "r-1")
            .with_body_reader(BodyReader::from_chunks([b"ab".to_vec(), b"cd".to_vec()]));
        let (out, captured) = ResponseWriter::capture();
        assert_eq!(handle(req, out), Ok(()));
        assert_eq!(captured.status(), Some(200));
        assert_eq!(captured.headers().get("x-seen-request-id"), Some("r-1"));
        assert_eq!(captured.chunks(), vec![b"ab".to_vec(), b"cd".to_vec()]);
        assert!(captured.is_finished());
    }

    #[test]
    fn stops_when_the_client_hangs_up() {
        let req = Request::new(Method::Post, "/echo")
            .with_body_reader(BodyReader::from_chunks([b"ab".to_vec()]));
        let (out, captured) = ResponseWriter::capture();
        captured.hang_up();
        assert_eq!(handle(req, out), Err(WriteError::Closed));
    }
}

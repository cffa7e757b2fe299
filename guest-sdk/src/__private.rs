//! Glue called by the handler macros. Not a public API.

use crate::bindings::wasi::http::types::{IncomingRequest, ResponseOutparam};
use crate::{HandlerOutcome, HttpError, IntoResponse, Request, ResponseWriter};

pub use crate::bindings::exports::wasi::http::incoming_handler::Guest;
pub use crate::bindings::wasi::http::types::{
    IncomingRequest as WasiIncomingRequest, ResponseOutparam as WasiResponseOutparam,
};

/// Runs a buffered handler: reads the whole body first; a body that cannot
/// be read is answered with an error without calling the handler.
pub fn serve<R: IntoResponse>(
    request: IncomingRequest,
    outparam: ResponseOutparam,
    handler: impl FnOnce(Request) -> R,
) {
    let writer = ResponseWriter::from_wasi(outparam);
    let req = Request::from_wasi(&request).and_then(|mut req| {
        req.read_body()?;
        Ok(req)
    });
    drop(request);
    match req {
        Ok(req) => writer.send(handler(req)),
        Err(err) => writer.send(HttpError::from(err)),
    }
}

/// Runs a streaming handler with the body left unread.
pub fn serve_streaming<O: HandlerOutcome>(
    request: IncomingRequest,
    outparam: ResponseOutparam,
    handler: impl FnOnce(Request, ResponseWriter) -> O,
) {
    let writer = ResponseWriter::from_wasi(outparam);
    match Request::from_wasi(&request) {
        Ok(req) => handler(req, writer).report(),
        Err(err) => writer.send(HttpError::from(err)),
    }
}

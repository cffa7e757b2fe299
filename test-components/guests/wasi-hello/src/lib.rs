//! The standard wasi:http hello, built with the `wasi` crate only (no
//! warden-sdk): exactly what runs under `wasmtime serve`. Proves Warden
//! runs plain `wasi:http/proxy` components unchanged, and is the guest the
//! benchmarks in bench/ compare hosts with.

use wasi::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

/// The component's `wasi:http/incoming-handler`.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Hello;

impl wasi::exports::http::incoming_handler::Guest for Hello {
    fn handle(_request: IncomingRequest, response_out: ResponseOutparam) {
        let headers = Fields::new();
        // Cannot fail: the name and value are valid and the fields mutable.
        let _ = headers.append("content-type", b"text/plain");
        let response = OutgoingResponse::new(headers);
        let _ = response.set_status_code(200);
        let Ok(body) = response.body() else { return };
        ResponseOutparam::set(response_out, Ok(response));
        if let Ok(stream) = body.write() {
            // A client that hung up is not an error here: no unwrap.
            let _ = stream.blocking_write_and_flush(b"Hello, wasi!\n");
        }
        let _ = OutgoingBody::finish(body, None);
    }
}

// Exported on wasm only: the export's symbol names do not link natively.
#[cfg(target_arch = "wasm32")]
wasi::http::proxy::export!(Hello);

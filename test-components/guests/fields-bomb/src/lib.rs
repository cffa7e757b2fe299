//! Eats the host's memory instead of its own: creates wasi:http `fields`
//! resources, each filled close to the per-field limit, and keeps them all.
//! They live in the host's resource table, outside the guest's linear
//! memory cap, so the host must bound them on its own.

use wasi::http::types::{Fields, IncomingRequest, ResponseOutparam};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Bomb;

impl wasi::exports::http::incoming_handler::Guest for Bomb {
    fn handle(_request: IncomingRequest, _response_out: ResponseOutparam) {
        let value = vec![b'x'; 16 << 10];
        let mut kept = Vec::new();
        loop {
            let fields = Fields::new();
            let _ = fields.append("x-fill", &value);
            kept.push(fields);
        }
    }
}

#[cfg(target_arch = "wasm32")]
wasi::http::proxy::export!(Bomb);

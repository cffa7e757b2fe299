//! Burns the host's CPU instead of its own: asks for random bytes in a
//! loop, as much per call as the host allows (`?len=`, default 64 KiB), and
//! never answers. The work happens in host calls, so the guest's CPU budget
//! must count them.

use wasi::http::types::{IncomingRequest, ResponseOutparam};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct RandomLoop;

impl wasi::exports::http::incoming_handler::Guest for RandomLoop {
    fn handle(request: IncomingRequest, _response_out: ResponseOutparam) {
        let len = request
            .path_with_query()
            .and_then(|p| p.split_once("len=").and_then(|(_, v)| v.parse().ok()))
            .unwrap_or(64u64 << 10);
        let mut sink = 0u8;
        loop {
            let bytes = wasi::random::random::get_random_bytes(len);
            sink ^= bytes.first().copied().unwrap_or(0);
            if sink == 0xff && bytes.is_empty() {
                break;
            }
        }
    }
}

#[cfg(target_arch = "wasm32")]
wasi::http::proxy::export!(RandomLoop);

//! A handler that allocates without bound, for the memory cap tests: the
//! host's limit must make `memory.grow` fail, which aborts the guest (a
//! trap) instead of eating the node's memory.

use warden_sdk::{Request, Response};

/// One allocation step.
const MIB: usize = 1 << 20;

/// Keeps 1 MiB blocks alive, writing to every page so they are committed,
/// until allocation fails and the guest traps.
fn handle(_req: Request) -> Response {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut block = vec![0u8; MIB];
        for page in block.chunks_mut(4096) {
            page[0] = 1;
        }
        hoard.push(std::hint::black_box(block));
    }
}

warden_sdk::http_handler!(handle);

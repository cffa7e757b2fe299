//! A handler that never returns, for the CPU deadline (epoch interruption)
//! tests: the host must cut it off and answer for it.

use warden_sdk::{Request, Response};

/// Spins forever; `black_box` keeps the optimizer from proving the loop
/// useless and deleting it.
fn handle(_req: Request) -> Response {
    let mut counter = 0u64;
    loop {
        counter = std::hint::black_box(counter.wrapping_add(1));
    }
}

warden_sdk::http_handler!(handle);

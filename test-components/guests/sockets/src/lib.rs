//! A handler that opens a TCP connection, so the component imports
//! `wasi:sockets/*`: Warden links them and denies every operation.

use warden_sdk::{Request, Response};

/// Tries to connect out; on Warden the connect fails with access denied.
fn handle(_req: Request) -> Response {
    match std::net::TcpStream::connect("127.0.0.1:9") {
        Ok(_) => Response::text(200, "connected\n"),
        Err(err) => Response::error(502, "connect_failed", err.to_string()),
    }
}

warden_sdk::http_handler!(handle);

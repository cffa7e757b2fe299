//! A handler that opens a TCP connection, so the component imports
//! `wasi:sockets/*`: outside the function world, uploading it must fail.

use warden_sdk::{Request, Response};

/// Tries to connect out; never reached on Warden, which rejects the
/// component at upload.
fn handle(_req: Request) -> Response {
    match std::net::TcpStream::connect("127.0.0.1:9") {
        Ok(_) => Response::text(200, "connected\n"),
        Err(err) => Response::error(502, "connect_failed", err.to_string()),
    }
}

warden_sdk::http_handler!(handle);

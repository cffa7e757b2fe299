//! Writes to stdout and stderr and looks at the environment and the
//! filesystem. Warden captures the output into the function's log and gives
//! an empty environment and no preopened directories; the JSON answer says
//! what the guest saw, e.g. `{"env_vars": 0, "fs_error": true}`.

use serde_json::json;
use warden_sdk::{Request, Response};

/// Logs one line per stream, then reports env and filesystem visibility.
fn handle(req: Request) -> Response {
    println!("stdio guest: stdout line for {}", req.path());
    eprintln!("stdio guest: stderr line for {}", req.path());
    let env_vars = std::env::vars().count();
    let fs = std::fs::read_dir("/");
    let fs_error = fs.as_ref().err().map(ToString::to_string);
    Response::json(
        200,
        &json!({
            "env_vars": env_vars,
            "fs_error": fs.is_err(),
            "fs_error_message": fs_error,
        }),
    )
}

warden_sdk::http_handler!(handle);

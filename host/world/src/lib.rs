//! Host bindings for the `warden:platform/function` world, generated once
//! from the workspace's `wit/` for every host crate (as Spin's
//! `crates/world` does). wasi interfaces come from wasmtime-wasi(-http);
//! only Warden's own interfaces are generated here.
//!
//! Host functions are async (capabilities may reach Redis) and trappable:
//! each returns `wasmtime::Result<T>`, where an `Err` traps the guest (a
//! host bug) and a WIT `result` inside `T` is the guest-visible error.

#![allow(missing_docs, reason = "bindgen-generated code")]
#![forbid(unsafe_code)]

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "warden:platform/function",
    imports: { default: async | trappable },
    with: {
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:random": wasmtime_wasi::p2::bindings::random,
        "wasi:cli": wasmtime_wasi::p2::bindings::cli,
        "wasi:filesystem": wasmtime_wasi::p2::bindings::filesystem,
        "wasi:sockets": wasmtime_wasi::p2::bindings::sockets,
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        // A stream resource is the plugin's own stream: dropping the
        // resource drops it, which cancels the provider call.
        "warden:platform/model.completion-stream": warden_plugin_model::ModelStream,
    },
    require_store_data_send: true,
});

pub use self::warden::platform::{auth, cache, feature_flags as flags, kv, model, rate_limit};

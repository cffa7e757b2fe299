//! Guest components for Warden's tests, built by `build.rs`.
//!
//! Each constant is the absolute path of a wasm component built for
//! `wasm32-wasip2` in release mode, named after its crate in UPPER_SNAKE
//! case: the test guests in `test-components/guests/` and the function
//! examples in `examples/`. A plain `cargo test` builds them; nothing has to
//! be built by hand first.
//!
//! | constant | what it does |
//! | --- | --- |
//! | [`WASI_HELLO`] | `wasi` crate only, the `wasmtime serve` hello: 200 `Hello, wasi!\n` |
//! | [`HELLO`] | the hello example (warden-sdk): 200 `Hello from Warden!\n` on GET |
//! | [`QUOTE_API`] | the pricing example: `POST /quote`, `GET /quote/health` |
//! | [`TODO_API`] | the todo example: CRUD on `/todos` over kv, cache and rate-limit |
//! | [`CHAT`] | the chat example: the model's answer as SSE, chunk by chunk |
//! | [`SEMANTIC_SEARCH`] | the semantic-search example: embeddings in kv, cosine search |
//! | [`MODEL_PROBE`] | one model call per request (`/complete`, `/stream`, `/embed`, `/open-streams`): the typed outcome as JSON |
//! | [`ECHO`] | streams the body back; `x-request-id` -> `x-seen-request-id` |
//! | [`STDIO`] | prints to stdout/stderr; JSON `{"env_vars", "fs_error", ...}` |
//! | [`AUTH_PROBE`] | JSON `{"principal", "scope", "has_scope"}` (`?scope=x`) |
//! | [`KV_PROBE`] | one kv or cache call per request: `/kv?key=`, `/kv/list`, `/kv/incr`, `/kv/cas`, `/cache?key=` |
//! | [`CACHE_FILL`] | `GET /fill?key=&sleep_ms=`: read-through with a slow loader, `{"value", "loaded"}` |
//! | [`SLEEPY`] | `GET /sleep?ms=N`: sleeps on the host clock (no CPU), `slept N` |
//! | [`FLAGS_PROBE`] | `GET /flag?name=&subject=[&attr=v]`: `{"variant": null \| {"name", "value"}}` |
//! | [`RL_PROBE`] | `POST /rl?key=&count=&period_ms=&burst=&cost=`: the decision as JSON |
//! | [`SPIN_LOOP`] | never returns: CPU deadline |
//! | [`MEMORY_BOMB`] | allocates until it traps: memory cap |
//! | [`PANICKER`] | `GET /panic` panics with an internal detail: public errors stay generic |
//! | [`HALF_STREAM`] | `GET /half`: head + 1 KiB, then a trap; `GET /endless`: streams forever |
//! | [`FIELDS_BOMB`] | creates wasi:http `fields` resources without bound: host-side memory cap |
//! | [`RANDOM_LOOP`] | `get-random-bytes` in a loop: CPU spent in host calls |
//! | [`SOCKETS`] | imports `wasi:sockets`: deploys, and its connect is denied |
//! | [`OTHER_WORLD`] | a `wasi:cli/run` command: upload must be rejected |
//! | [`CORE_MODULE`] | bytes of a core module, not a component: upload must be rejected |

#![forbid(unsafe_code)]

include!(concat!(env!("OUT_DIR"), "/components.rs"));

/// A valid, empty core wasm module (magic, version 1): not a component.
pub const CORE_MODULE: &[u8] = b"\0asm\x01\0\0\0";

/// Reads a component file; panics with the path if it cannot.
pub fn bytes(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading test component {path}: {e}"))
}

//! The linker every function is instantiated against: exactly the
//! `warden:platform/function` world.
//!
//! wasi:http/proxy's interfaces, the CLI and filesystem interfaces a Rust
//! `std` guest imports (their contexts are empty: no env, no preopens), and
//! Warden's own interfaces. `wasi:sockets` is linked over a context that
//! allows no TCP, no UDP and no name lookup, so every socket operation
//! fails with `access-denied` instead of the upload being refused.

use super::bindings::model::ModelView;
use super::bindings::rate_limit::RateLimitView;
use super::bindings::{self, auth::AuthView, cache::CacheView, flags::FlagsView, kv::KvView};
use super::state::RequestState;
use wasmtime::Engine;
use wasmtime::component::Linker;
use wasmtime_wasi::WasiView as _;
use wasmtime_wasi::cli::{WasiCli, WasiCliView as _};
use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView as _};
use wasmtime_wasi::p2::bindings::{cli, filesystem, random, sockets};
use wasmtime_wasi::random::WasiRandom;
use wasmtime_wasi::sockets::{WasiSockets, WasiSocketsView as _};

/// Builds the linker for the `function` world.
pub fn build_linker(engine: &Engine) -> wasmtime::Result<Linker<RequestState>> {
    type T = RequestState;
    let mut linker = Linker::<T>::new(engine);
    let l = &mut linker;
    // wasi:http/proxy: io, clocks, random, stdio, and wasi:http itself.
    wasmtime_wasi_http::p2::add_to_linker_async(l)?;
    // What a Rust std component imports beyond the proxy world.
    cli::environment::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::exit::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_input::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_output::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stdin::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stdout::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stderr::add_to_linker::<T, WasiCli>(l, T::cli)?;
    random::insecure::add_to_linker::<T, WasiRandom>(l, |t| t.ctx().ctx.random())?;
    random::insecure_seed::add_to_linker::<T, WasiRandom>(l, |t| t.ctx().ctx.random())?;
    filesystem::types::add_to_linker::<T, WasiFilesystem>(l, T::filesystem)?;
    filesystem::preopens::add_to_linker::<T, WasiFilesystem>(l, T::filesystem)?;
    // Sockets: linked, and denied by the context (see `RequestState::new`).
    sockets::network::add_to_linker::<T, WasiSockets>(l, &Default::default(), T::sockets)?;
    sockets::instance_network::add_to_linker::<T, WasiSockets>(l, T::sockets)?;
    sockets::ip_name_lookup::add_to_linker::<T, WasiSockets>(l, T::sockets)?;
    sockets::tcp::add_to_linker::<T, WasiSockets>(l, T::sockets)?;
    sockets::tcp_create_socket::add_to_linker::<T, WasiSockets>(l, T::sockets)?;
    sockets::udp::add_to_linker::<T, WasiSockets>(l, T::sockets)?;
    sockets::udp_create_socket::add_to_linker::<T, WasiSockets>(l, T::sockets)?;
    // Warden's own interfaces: one view each over the request's state.
    bindings::auth::add_to_linker(l, |s| AuthView::new(s.principal.as_ref()))?;
    bindings::cache::add_to_linker(l, |s| {
        CacheView::new(&s.caps.cache, &s.tenant, &mut s.cache_leases)
    })?;
    bindings::rate_limit::add_to_linker(l, |s| RateLimitView::new(&s.caps.rate_limit, &s.tenant))?;
    bindings::kv::add_to_linker(l, |s| KvView::new(&s.caps.kv, &s.tenant))?;
    bindings::flags::add_to_linker(l, |s| FlagsView::new(&s.caps.flags, &s.tenant))?;
    bindings::model::add_to_linker(l, |s| {
        ModelView::new(&s.caps.model, &s.tenant, &mut s.table, &mut s.model_call)
    })?;
    Ok(linker)
}

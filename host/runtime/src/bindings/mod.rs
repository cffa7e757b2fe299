//! Warden's capabilities bound to WIT: auth, cache, rate-limit, kv,
//! feature-flags and model, one module each.
//!
//! Each module follows wasmtime's wasi-keyvalue pattern: a context (`*Ctx`:
//! the plugin's trait object plus node state, built once per node), a
//! borrowed view (`*View<'a>`: the context, the calling tenant and whatever
//! per-request state the capability keeps), `impl Host for View`, and a
//! generic `add_to_linker(linker, fn(&mut T) -> View)`, so the store type is
//! not fixed here and each capability borrows only its own state.
//!
//! Every call is scoped to the tenant that owns the running function: the
//! tenant comes from the route, never from the guest, so no key string can
//! reach another tenant's data. Plugin failures become the interface's
//! typed error; nothing here traps. The host knows only the plugin traits;
//! which backend (memory, redb, Redis) sits behind them is decided by host
//! config.
//!
//! Adding a capability: a module here, a field in [`Capabilities`], one
//! line in `linker.rs`, and its config section in the host.

pub mod auth;
pub mod cache;
pub mod flags;
pub mod kv;
pub mod model;
pub mod rate_limit;

/// The node's capability contexts, one per capability, shared by every
/// request of the node.
#[derive(Debug)]
pub struct Capabilities {
    /// `warden:platform/cache`.
    pub cache: cache::CacheCtx,
    /// `warden:platform/rate-limit` (the gateway's tier limits use the same
    /// limiter).
    pub rate_limit: rate_limit::RateLimitCtx,
    /// `warden:platform/kv`.
    pub kv: kv::KvCtx,
    /// `warden:platform/feature-flags`.
    pub flags: flags::FlagsCtx,
    /// `warden:platform/model` (on the node's cache, leases and limiter).
    pub model: model::ModelCtx,
}

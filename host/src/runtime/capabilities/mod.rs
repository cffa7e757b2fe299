//! Warden's capabilities bound to WIT: cache, rate-limit, kv and flags.
//!
//! Each adapter turns a guest call into a plugin call scoped to the tenant
//! that owns the running function: the tenant comes from the route, never
//! from the guest, so no key string can reach another tenant's data. Plugin
//! failures become the interface's typed error; nothing here traps.
//!
//! The host knows only the plugin traits; which backend (memory, redb,
//! Redis) sits behind them is decided by host config.

mod cache;
mod flags;
mod kv;
mod lease;
mod ratelimit;

pub use lease::{HeldLeases, LeaseTable};

use super::state::RequestState;
use crate::config::HostConfig;
use anyhow::Context as _;
use std::sync::Arc;
use warden_plugin_cache::Cache;
use warden_plugin_flags::FlagStore;
use warden_plugin_kv::KvStore;
use warden_plugin_ratelimit::RateLimiter;

/// The backends behind the capability interfaces, shared by all requests.
pub struct Capabilities {
    /// Cache backend.
    pub cache: Arc<dyn Cache>,
    /// Rate limiter (also used by the gateway for tier limits).
    pub ratelimit: Arc<dyn RateLimiter>,
    /// Durable key-value store.
    pub kv: Arc<dyn KvStore>,
    /// Feature flags.
    pub flags: Arc<dyn FlagStore>,
    /// Fill leases of `cache.get-or-lease`, per node.
    pub leases: Arc<LeaseTable>,
}

impl std::fmt::Debug for Capabilities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capabilities").finish_non_exhaustive()
    }
}

impl Capabilities {
    /// Builds every backend from the host config. kv defaults to a redb
    /// file in the data dir.
    pub async fn build(config: &HostConfig) -> anyhow::Result<Self> {
        let kv_config = config.kv.clone().unwrap_or_else(|| {
            warden_plugin_kv::Config::Redb(warden_plugin_kv::RedbConfig::in_dir(&config.data_dir))
        });
        Ok(Self {
            cache: warden_plugin_cache::build(&config.cache)
                .await
                .context("building the cache backend")?,
            ratelimit: warden_plugin_ratelimit::build(&config.ratelimit)
                .await
                .context("building the rate-limit backend")?,
            kv: warden_plugin_kv::build(&kv_config)
                .await
                .context("building the kv backend")?,
            flags: warden_plugin_flags::build(&config.flags)
                .await
                .context("building the flags backend")?,
            leases: Arc::new(LeaseTable::default()),
        })
    }
}

/// Adds the capability interfaces to the linker.
pub fn add_to_linker(
    linker: &mut wasmtime::component::Linker<RequestState>,
) -> wasmtime::Result<()> {
    use super::bindings::{cache, flags, kv, rate_limit};
    type Me = wasmtime::component::HasSelf<RequestState>;
    cache::add_to_linker::<RequestState, Me>(linker, |s| s)?;
    rate_limit::add_to_linker::<RequestState, Me>(linker, |s| s)?;
    kv::add_to_linker::<RequestState, Me>(linker, |s| s)?;
    flags::add_to_linker::<RequestState, Me>(linker, |s| s)?;
    Ok(())
}

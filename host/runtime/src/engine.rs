//! The one wasmtime [`Engine`] of the process and its epoch ticker.
//!
//! The engine uses the pooling allocator (instances are carved out of
//! pre-reserved slots instead of mmapped per request), keeps a few MiB of
//! each slot resident between uses (measured 2.5x on hello: most cost was
//! madvise + refaults), copy-on-write memory images, and epoch interruption
//! driven by a single ticker thread.

use crate::config::PoolConfig;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Builds the engine from the pool settings.
pub fn build_engine(pool: &PoolConfig) -> anyhow::Result<Engine> {
    let keep_resident = (pool.keep_resident_kb as usize) << 10;
    let max_memory = (pool.max_memory_mb as usize) << 20;
    let mut pooling = PoolingAllocationConfig::default();
    pooling
        .total_component_instances(pool.instances)
        // A Rust std component has a handful of core instances and usually
        // one memory; leave headroom for adapters and composed components.
        .total_core_instances(pool.instances.saturating_mul(4))
        .total_memories(pool.instances.saturating_mul(2))
        .total_tables(pool.instances.saturating_mul(4))
        .total_stacks(pool.instances)
        .max_memory_size(max_memory)
        .linear_memory_keep_resident(keep_resident)
        .table_keep_resident(keep_resident)
        .pagemap_scan(Enabled::Auto);

    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .memory_init_cow(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    Engine::new(&config).map_err(anyhow::Error::from)
}

/// Increments the engine's epoch every `period` on a dedicated thread until
/// dropped. One thread per process, whatever the number of requests.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EpochTicker {
    /// Starts ticking `engine` every `period`.
    pub fn start(engine: Engine, period: Duration) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("warden-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(period);
                    engine.increment_epoch();
                }
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for EpochTicker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EpochTicker").finish_non_exhaustive()
    }
}

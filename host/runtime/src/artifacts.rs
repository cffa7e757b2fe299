//! Compiled components cached on disk, keyed by the component's sha256 and
//! the engine's compatibility hash, so a restart (or a second upload of the
//! same bytes) never compiles again.
//!
//! Each fresh compilation bumps [`ArtifactCache::compilations`], which tests
//! and `/metrics` use to prove a restart did not recompile.

use anyhow::Context as _;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use wasmtime::Engine;
use wasmtime::component::Component;

/// A directory of `<sha256>-<engine>.cwasm` files.
#[derive(Debug)]
pub struct ArtifactCache {
    dir: PathBuf,
    engine: Engine,
    engine_key: String,
    compilations: AtomicU64,
    cache_hits: AtomicU64,
}

impl ArtifactCache {
    /// Opens (creating) the cache directory for `engine`.
    pub fn open(dir: impl Into<PathBuf>, engine: &Engine) -> anyhow::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Ok(Self {
            dir,
            engine: engine.clone(),
            engine_key: format!("{:016x}", hasher.finish()),
            compilations: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
        })
    }

    /// How many components this process compiled from scratch.
    pub fn compilations(&self) -> u64 {
        self.compilations.load(Ordering::Relaxed)
    }

    /// How many components this process loaded from the on-disk cache.
    pub fn cache_hits(&self) -> u64 {
        self.cache_hits.load(Ordering::Relaxed)
    }

    fn path(&self, digest: &str) -> PathBuf {
        self.dir.join(format!("{digest}-{}.cwasm", self.engine_key))
    }

    /// Loads the compiled form of `digest`, compiling `bytes()` only when no
    /// usable artifact exists, and returns what `accept` makes of it (it
    /// runs once, on a loaded or a fresh component). A fresh compilation is
    /// cached only once `accept` passed it and the caller has not
    /// `abandoned` it (a compile that ran past its cap), so a refused
    /// component leaves no artifact. Blocking: call from a blocking thread.
    pub fn load_or_compile<P>(
        &self,
        digest: &str,
        bytes: impl FnOnce() -> anyhow::Result<Vec<u8>>,
        accept: impl FnOnce(&Component) -> anyhow::Result<P>,
        abandoned: &AtomicBool,
    ) -> anyhow::Result<P> {
        let path = self.path(digest);
        if path.exists() {
            match deserialize(&self.engine, &path) {
                Ok(component) => {
                    self.cache_hits.fetch_add(1, Ordering::Relaxed);
                    return accept(&component);
                }
                Err(e) => {
                    tracing::warn!(digest, error = %e, "discarding unusable compiled artifact");
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        let bytes = bytes()?;
        let component = Component::new(&self.engine, &bytes).map_err(anyhow::Error::from)?;
        self.compilations.fetch_add(1, Ordering::Relaxed);
        let accepted = accept(&component)?;
        if abandoned.load(Ordering::Acquire) {
            anyhow::bail!("the compilation ran past its time cap");
        }
        let serialized = component.serialize().map_err(anyhow::Error::from)?;
        if let Err(e) = self.write(&path, &serialized) {
            // The component still serves from memory; the next start compiles again.
            tracing::warn!(digest, error = %e, "could not cache compiled artifact");
        }
        Ok(accepted)
    }
}

impl ArtifactCache {
    /// Writes an artifact so that readers see all of it or nothing: a temp
    /// file in the same dir, fsync, rename.
    fn write(&self, path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
        use std::io::Write as _;
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
        file.write_all(bytes)?;
        file.as_file().sync_all()?;
        file.persist(path)?;
        Ok(())
    }
}

/// Maps a cached artifact into memory.
#[allow(unsafe_code)]
fn deserialize(engine: &Engine, path: &Path) -> anyhow::Result<Component> {
    // SAFETY: `deserialize_file` trusts its input to be the output of
    // `Component::serialize` for a compatible engine. The cache directory is
    // written only by this process (atomically, via `write_atomically`) from
    // its own compiler's output, and wasmtime itself checks the engine
    // compatibility header before use.
    unsafe { Component::deserialize_file(engine, path) }.map_err(anyhow::Error::from)
}

//! Content-addressed component storage in the data dir.
//!
//! A component is stored once as `components/<sha256>.wasm`, written to a
//! temporary file, fsynced and renamed into place, so a crash mid-write never
//! leaves a truncated file under a digest name. Leftover temporaries are
//! removed on open.

use anyhow::Context as _;
use sha2::{Digest as _, Sha256};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The sha256 of `bytes`, lowercase hex: the identity of a component version.
pub fn digest_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A directory of components named by their sha256.
#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
}

impl BlobStore {
    /// Opens (creating if needed) the store at `dir`, removing temporaries a
    /// crash may have left behind.
    pub fn open(dir: impl Into<PathBuf>) -> anyhow::Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with(".tmp-") {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(Self { dir })
    }

    /// Path where the component with `digest` lives.
    pub fn path(&self, digest: &str) -> PathBuf {
        self.dir.join(format!("{digest}.wasm"))
    }

    /// Stores `bytes` under `digest` (already computed by the caller) durably.
    /// Storing the same content twice is a no-op.
    pub fn put(&self, digest: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let final_path = self.path(digest);
        if final_path.exists() {
            return Ok(());
        }
        write_atomically(&self.dir, &final_path, bytes)
    }

    /// Reads the component with `digest`.
    pub fn get(&self, digest: &str) -> anyhow::Result<Vec<u8>> {
        let path = self.path(digest);
        fs::read(&path).with_context(|| format!("reading component {}", path.display()))
    }
}

/// Writes `bytes` to `final_path` so that readers see either nothing or the
/// whole content: temp file in the same dir, fsync, rename, fsync the dir.
pub fn write_atomically(dir: &Path, final_path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = dir.join(format!(".tmp-{:016x}", rand::random::<u64>()));
    let result = (|| -> anyhow::Result<()> {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, final_path)?;
        fs::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("writing {}", final_path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_is_idempotent_and_cleans_temporaries() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join(".tmp-dead"), b"half").expect("write");
        let store = BlobStore::open(dir.path()).expect("open");
        assert!(!dir.path().join(".tmp-dead").exists());
        let digest = digest_of(b"abc");
        store.put(&digest, b"abc").expect("put");
        store.put(&digest, b"abc").expect("put again");
        assert_eq!(store.get(&digest).expect("get"), b"abc");
        assert_eq!(
            digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

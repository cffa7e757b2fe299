//! `wasmtime serve` from wasmtime-cli, installed into the bench cache.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// The wasmtime-cli version compared against (the host's wasmtime version).
pub const VERSION: &str = "48.0.8";

/// Flags of the "best pooling" configuration, chosen by measuring on a
/// 2-core machine (see bench/README.md): the pooling allocator with linear
/// memories and tables kept resident between instances instead of being
/// decommitted (madvise + page faults dominated the default profile), and
/// the pagemap scan that resets only dirtied pages (Linux >= 6.7).
pub const POOLING_FLAGS: &[&str] = &[
    "-O",
    "pooling-allocator=y",
    "-O",
    "pooling-memory-keep-resident=4194304",
    "-O",
    "pooling-table-keep-resident=4194304",
    "-O",
    "pooling-pagemap-scan=y",
];

/// Where the cached binary lives under `cache_dir`.
pub fn cached_binary(cache_dir: &Path) -> PathBuf {
    install_root(cache_dir).join("bin").join("wasmtime")
}

fn install_root(cache_dir: &Path) -> PathBuf {
    cache_dir.join(format!("wasmtime-{VERSION}"))
}

/// Installs wasmtime-cli into the cache with `cargo install --locked`
/// (niced; ~12 minutes on 2 cores), logging to `log`.
pub fn install(cache_dir: &Path, log: &Path) -> Result<PathBuf> {
    let root = install_root(cache_dir);
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    let out = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let err = out.try_clone()?;
    eprintln!(
        "installing wasmtime-cli {VERSION} into {} (about 12 minutes on 2 cores; log: {})",
        root.display(),
        log.display()
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new("nice")
        .args(["-n", "19", &cargo, "install", "--locked"])
        .arg(format!("wasmtime-cli@{VERSION}"))
        .arg("--root")
        .arg(&root)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .status()
        .context("running cargo install")?;
    if !status.success() {
        bail!(
            "cargo install wasmtime-cli@{VERSION} failed ({status}); see {}",
            log.display()
        );
    }
    let bin = cached_binary(cache_dir);
    check_version(&bin)?;
    Ok(bin)
}

/// Fails unless `bin --version` reports [`VERSION`].
pub fn check_version(bin: &Path) -> Result<()> {
    let out = Command::new(bin)
        .arg("--version")
        .output()
        .with_context(|| format!("running {} --version", bin.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !text.contains(VERSION) {
        bail!(
            "{} reports {:?}, expected {VERSION}",
            bin.display(),
            text.trim()
        );
    }
    Ok(())
}

//! Builds every guest under `guests/` and every crate under `../examples/`
//! for `wasm32-wasip2` with the workspace's `guest` profile (the one
//! `./scripts/up` deploys: `scripts/build-examples` runs this same build)
//! and writes `components.rs` into `OUT_DIR`:
//! one `pub const UPPER_SNAKE_NAME: &str = "/abs/path/name.wasm";` per
//! component, plus `ALL`.
//!
//! The inner cargo gets its own target dir, `<workspace>/target/guests`:
//! the outer build holds the lock on its own target dir for as long as this
//! script runs, so sharing it would deadlock. Convention: a guest's
//! directory name is its package name, and its artifact is that name with
//! `-` turned into `_` (so a `[[bin]]` guest names its binary that way).

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";
/// The root Cargo.toml's profile for components: no DWARF, the name section
/// kept, LTO.
const PROFILE: &str = "guest";

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest_dir
        .parent()
        .expect("test-components sits in the workspace root");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let target_dir = workspace.join("target").join("guests");

    let mut guests = crates_in(&manifest_dir.join("guests"));
    guests.extend(crates_in(&workspace.join("examples")));

    for dir in [
        manifest_dir.join("guests"),
        workspace.join("examples"),
        workspace.join("guest-sdk"),
        workspace.join("wit"),
    ] {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join("Cargo.lock").display()
    );
    println!("cargo:rerun-if-env-changed=RUSTFLAGS");

    ensure_target_installed();
    build(workspace, &target_dir, &guests);

    let artifacts = target_dir.join(TARGET).join(PROFILE);
    let mut code = String::new();
    let mut all = String::new();
    for (name, dir) in &guests {
        let wasm = artifacts.join(format!("{}.wasm", name.replace('-', "_")));
        assert!(
            wasm.is_file(),
            "cargo built {name} but {} is missing",
            wasm.display()
        );
        let constant = name.replace('-', "_").to_uppercase();
        let source = dir.strip_prefix(workspace).unwrap_or(dir);
        let _ = writeln!(
            code,
            "/// The `{name}` component, built from `{}`.\npub const {constant}: &str = {:?};",
            source.display(),
            wasm.display().to_string(),
        );
        let _ = writeln!(all, "    ({name:?}, {constant}),");
    }
    let _ = writeln!(
        code,
        "/// Every component above as (package name, path).\npub const ALL: &[(&str, &str)] = &[\n{all}];"
    );
    fs::write(out_dir.join("components.rs"), code).expect("write components.rs");
}

/// The crates (directories with a Cargo.toml) directly under `dir`, sorted.
fn crates_in(dir: &Path) -> Vec<(String, PathBuf)> {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    let mut crates: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.join("Cargo.toml").is_file())
        .filter_map(|path| Some((path.file_name()?.to_str()?.to_owned(), path)))
        .collect();
    crates.sort();
    crates
}

/// Fails early, with the fix, when the wasm target's std is not installed.
fn ensure_target_installed() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    if let Some(sysroot) = sysroot
        && !sysroot.join("lib/rustlib").join(TARGET).is_dir()
    {
        panic!(
            "the {TARGET} target is not installed for this toolchain; \
             run `rustup target add {TARGET}`"
        );
    }
}

/// Runs `cargo build --profile guest --target wasm32-wasip2` for all guests.
fn build(workspace: &Path, target_dir: &Path, guests: &[(String, PathBuf)]) {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .arg("--profile")
        .arg(PROFILE)
        .arg("--target")
        .arg(TARGET)
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir);
    for (name, _) in guests {
        cmd.arg("-p").arg(name);
    }
    // The outer build's settings are for the host, not for wasm: its
    // rustflags (e.g. `-C target-cpu=native`), target, target dir and a
    // clippy wrapper must not leak into the guest build. The jobserver
    // (CARGO_MAKEFLAGS) stays, so both builds share the machine's cores.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTC_WORKSPACE_WRAPPER",
        "CLIPPY_ARGS",
    ] {
        cmd.env_remove(var);
    }
    // Keep `-D warnings` from CI so guests stay warning-free; drop the rest.
    let deny_warnings = env::var("RUSTFLAGS").is_ok_and(|f| f.contains("-D warnings"));
    cmd.env("RUSTFLAGS", if deny_warnings { "-D warnings" } else { "" });
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("failed to run {cmd:?}: {e}"));
    if !output.status.success() {
        panic!(
            "building the guest components failed: {cmd:?}\n--- stdout\n{}\n--- stderr\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
    }
}

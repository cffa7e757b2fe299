//! The `warden` binary: a thin shell over the `warden` library.
//!
//! Run with: `cargo run --release -p warden -- --help`

/// mimalloc instead of glibc malloc: per-request allocations (stores,
/// instances, headers) are small and short-lived, and glibc's arena locks
/// and consolidation showed up at ~7% of a hello request's CPU.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    warden::cli::main()
}

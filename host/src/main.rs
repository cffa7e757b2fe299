//! The `warden` binary: a thin shell over the `warden` library.
//!
//! Run with: `cargo run --release -p warden -- --help`

fn main() -> std::process::ExitCode {
    warden::cli::main()
}

//! A plain command: built for wasm32-wasip2 it is a valid component, but it
//! exports `wasi:cli/run` instead of the HTTP handler, so Warden must refuse
//! to deploy it.

fn main() {
    println!("I am a command, not a function.");
}

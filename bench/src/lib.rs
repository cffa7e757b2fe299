//! Load generator and side-by-side benchmarks for Warden.
//!
//! The crate has three binaries:
//! - `loadgen`: closed-loop (fixed concurrency) and open-loop (fixed arrival
//!   rate, latency measured from the intended send time so that coordinated
//!   omission does not hide queueing) HTTP/1.1 keep-alive load, reported
//!   from an HDR histogram;
//! - `native-hello`: a minimal hyper server that answers the same bytes as
//!   the `wasi-hello` component, the physical ceiling of the comparison;
//! - `compare`: the one comparison command; it starts each server, runs the
//!   load generator against them in alternating rounds and prints one table.
//!
//! The library holds everything the binaries share, one module per job.
#![forbid(unsafe_code)]

pub mod cli;
pub mod client;
pub mod compare;
pub mod errors;
pub mod histogram;
pub mod procfs;
pub mod report;
pub mod run;
pub mod schedule;
pub mod target;

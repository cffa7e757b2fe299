//! Integration tests of the cache capability: one contract run against every
//! backend, plus Redis-only and single-flight behaviour.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod contract;
mod fixtures;
mod redis_only;
mod single_flight;

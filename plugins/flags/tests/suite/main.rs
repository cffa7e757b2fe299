//! Integration tests of the flags capability: one contract run against
//! every backend, plus nodes sharing Redis.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod contract;
mod fixtures;
mod redis_only;

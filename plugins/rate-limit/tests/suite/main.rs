//! Integration tests of the rate-limit capability: one contract run against
//! every backend, plus what only the shared (Redis) backend does.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod contract;
mod fixtures;
mod redis_only;

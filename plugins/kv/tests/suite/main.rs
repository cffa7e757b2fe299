//! Integration tests of the kv capability: one contract run against every
//! backend, durability across SIGKILL, and what only Redis shares.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod contract;
mod contract_concurrency;
mod durability;
mod fixtures;
mod redis_only;

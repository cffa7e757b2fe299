//! Integration tests of the model capability, against the fake
//! OpenAI-compatible server (real HTTP and SSE) and real redis-servers.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod ab_split;
mod breaker;
mod budgets;
mod builtin;
mod caching;
mod cancellation;
mod fixtures;
mod https;
mod retries;
mod semantic_cache;
mod timeouts;

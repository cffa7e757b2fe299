//! Test harness shared by the plugin crates (dev-dependency only).
//!
//! Plugin contract suites run against a real `redis-server`, never a mock, so
//! that Lua scripts, hash tags and reconnects are exercised for real. Each
//! test gets its own server on a free loopback port in a temp dir, so tests
//! are isolated and can run in parallel; the server is killed on drop.
//!
//! The binary is `redis-server` from `PATH`, or the path in
//! `WARDEN_REDIS_SERVER`. A missing binary fails the test loudly: CI installs
//! it, and a silently skipped suite would hide regressions.
//! The server already running on 6379 (if any) is never touched.
//!
//! With the `fake-openai` feature, [`fake_openai`] adds a fake
//! OpenAI-compatible server (real HTTP and SSE on a free port, scripted
//! faults), because a hosted model cannot run in tests. With `tls`,
//! [`TestCa`] makes certificates and the fake serves HTTPS too
//! (`FakeOpenAi::start_tls`).

#![forbid(unsafe_code)]
// Tests may unwrap: a panic is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

#[cfg(feature = "fake-openai")]
pub mod fake_openai;
mod redis_server;
#[cfg(feature = "tls")]
mod test_ca;

pub use redis_server::{RedisOptions, RedisServer};
#[cfg(feature = "tls")]
pub use test_ca::TestCa;

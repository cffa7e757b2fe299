//! Warden: a WebAssembly edge-function platform.
//!
//! The library assembles the node: a [`registry`] of tenants, functions and
//! versions (redb in the data dir), a [`runtime`] that runs each request in a
//! fresh sandboxed instance of a pre-instantiated component, a [`gateway`]
//! that routes `host + path` to a function, and an [`admin`] API on its own
//! listener. [`server::Warden`] starts all of them; the `warden` binary and
//! the integration tests both go through it.

pub mod admin;
pub mod cli;
pub mod config;
pub mod error_body;
pub mod gateway;
pub mod manifest;
pub mod metrics;
pub mod registry;
pub mod runtime;
pub mod server;
pub mod telemetry;

//! Warden: a WebAssembly edge-function platform.
//!
//! This crate assembles the node from the host's other crates: the
//! [`registry`] of tenants, functions and versions (`warden-registry`), the
//! [`runtime`] that runs each request in a fresh sandboxed instance of a
//! pre-instantiated component (`warden-runtime`), and the admin API's wire
//! types and client ([`api`], `warden-api`). Its own parts are the
//! [`gateway`] (small layers from request id to accounting), the [`admin`]
//! API, the [`cli`], the host [`config`] and the [`server`] assembly with
//! its reloader. [`server::Warden`] starts all of them; the `warden` binary
//! and the integration tests both go through it.

#![forbid(unsafe_code)]

pub mod admin;
pub mod cli;
pub mod config;
pub mod gateway;
pub mod manifest;
pub mod metrics;
pub mod model_metrics;
pub mod server;
pub mod telemetry;

pub use warden_api as api;
pub use warden_registry as registry;
pub use warden_runtime as runtime;

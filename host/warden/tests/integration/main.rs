//! Warden's integration tests, one binary: each module starts real nodes on
//! 127.0.0.1:0 (and, where it matters, a real redis-server on a free port)
//! and speaks HTTP to them. One binary because each links wasmtime: seven
//! of them cost minutes of build time for nothing.

mod common;

mod accounts;
mod admin;
mod admin_scopes;
mod auth;
mod browser;
mod capabilities;
mod cli;
mod components_used;
mod distributed;
mod dpop;
mod examples;
mod gateway;
mod hardening;
mod limits;
mod model;
mod model_tenants;
mod oauth;
mod public_errors;
mod registry_feed;
mod tiers;

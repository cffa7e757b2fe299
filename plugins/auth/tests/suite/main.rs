//! Integration tests of the auth plugin, through its public API only:
//! store contracts on every backend, key management, the hostile-token
//! suite, route policies, external issuers against a real HTTP JWKS
//! server, replay across nodes sharing one redis-server, and property
//! tests of the parsing entry point.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod build;
mod contract;
mod fixtures;
mod hostile;
mod issuers;
mod jwks_server;
mod keys;
mod policy;
mod properties;
mod replay;
mod revocation;
mod service_admin;
mod service_dpop;
mod service_fixtures;
mod service_flow;
mod service_nodes;
mod service_refresh;
mod service_users;

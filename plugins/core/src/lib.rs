//! Shared pieces of the Warden plugin crates (cache, ratelimit, kv, flags).
//!
//! Every plugin call is scoped to a [`Tenant`]: the tenant is an explicit,
//! validated argument of every trait method, never derived from a key. Keys
//! are opaque strings with a size cap ([`check_key`]), so isolation holds for
//! any key a guest can send.
//!
//! With the `redis` feature, [`redis`] adds the plumbing the Redis backends
//! share: a reconnecting connection with a bounded per-call timeout, the
//! mapping of failures to [`BackendError`], and the key layout
//! `warden:{<tenant>}:<space>:<key>`.

#![forbid(unsafe_code)]
// Tests may unwrap: a panic is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod error;
mod key;
#[cfg(feature = "redis")]
pub mod redis;
mod tenant;

pub use error::{BackendError, BoxError};
pub use key::{KeyError, MAX_KEY_LEN, check_key};
pub use tenant::{Tenant, TenantError};

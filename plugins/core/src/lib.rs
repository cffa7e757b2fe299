//! Shared pieces of the Warden plugin crates (cache, rate-limit, kv, flags).
//!
//! Every plugin call is scoped to a [`Tenant`]: the tenant is an explicit,
//! validated argument of every trait method, never derived from a key. Keys
//! are opaque strings with a size cap ([`check_key`]), so isolation holds for
//! any key a guest can send.
//!
//! [`Quota`], [`Decision`] and [`gcra::step`] are the rate-limit algorithm
//! itself, pure and shared by the rate-limit plugin and the guest SDK's
//! native stand-in, so both follow one set of rules.
//!
//! With the `redis` feature, [`redis`] adds the plumbing the Redis backends
//! share: a reconnecting connection with a bounded per-call timeout, the
//! mapping of failures to [`BackendError`], and the key layout
//! `warden:{<tenant>}:<space>:<key>`. [`RedisUrl`] is the one type every
//! plugin config holds its Redis URL in, so no `Debug` or log line shows a
//! password.
//!
//! With the `tls` feature, [`tls`] is the one HTTPS client setup (rustls
//! on ring, compiled-in roots plus configured CA files) of the plugins
//! that call out: auth's JWKS fetcher and model's OpenAI provider.

#![forbid(unsafe_code)]
// Tests may unwrap: a panic is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod error;
pub mod gcra;
mod key;
mod quota;
#[cfg(feature = "redis")]
pub mod redis;
mod redis_url;
mod tenant;
#[cfg(feature = "tls")]
pub mod tls;

pub use error::{BackendError, BoxError};
pub use key::{KeyError, MAX_KEY_LEN, check_key};
pub use quota::{Decision, Quota, QuotaError};
pub use redis_url::RedisUrl;
pub use tenant::{Tenant, TenantError};

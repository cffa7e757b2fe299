//! Plumbing shared by the Redis backends: connection, time budget, error
//! mapping and key layout.
//!
//! # Key layout
//!
//! Every key is `warden:{<tenant>}:<space>:<key bytes>` (or
//! `warden:{<tenant>}:<name>` for a per-tenant structure such as an index).
//! The tenant is validated to `[a-z0-9-]`, so the first `{` and the first
//! `}` always enclose exactly the tenant: Redis Cluster hashes only that
//! part, keeping a tenant's keys (and its Lua scripts' keys) on one slot, and
//! no key bytes can move a key to another tenant or slot. Key bytes are sent
//! as binary-safe arguments and never interpreted; nothing here uses glob
//! patterns.
//!
//! # Failure model
//!
//! The connection is a [`ConnectionManager`]: one multiplexed connection per
//! backend that reconnects by itself after the server goes away, so a node
//! recovers when Redis comes back without a restart. Every call is bounded by
//! the configured timeout (200 ms by default); a call that runs out of time,
//! or meets a dropped or refused connection, is [`BackendError::Unavailable`].

use std::future::Future;
use std::io;
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{Client, ErrorKind, RedisError, RedisResult, ServerErrorKind};

use crate::{BackendError, RedisUrl, Tenant};

/// Default time budget of one Redis call, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(200);

/// Where a Redis backend connects, and how long a call may take.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// A `redis://` or `rediss://` URL (may carry credentials, which its
    /// `Debug` masks).
    pub url: RedisUrl,
    /// Time budget of one call, including waiting for a reconnect.
    pub timeout: Duration,
}

impl RedisSettings {
    /// Settings from a config's `url` and `timeout_ms`.
    pub fn new(url: RedisUrl, timeout_ms: u64) -> Self {
        Self {
            url,
            timeout: Duration::from_millis(timeout_ms),
        }
    }
}

/// Default of a config's `timeout_ms` (for `#[serde(default = ...)]`).
pub fn default_timeout_ms() -> u64 {
    u64::try_from(DEFAULT_TIMEOUT.as_millis()).unwrap_or(200)
}

/// The `redis` backend settings of a plugin that needs nothing but the
/// connection (rate limit, flags): `type = "redis"`, `url`, `timeout_ms`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://` URL (may hold credentials; `Debug` masks them).
    pub url: RedisUrl,
    /// Budget of one call, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

impl RedisConfig {
    /// The connection settings these stand for.
    pub fn settings(&self) -> RedisSettings {
        RedisSettings::new(self.url.clone(), self.timeout_ms)
    }
}

/// A reconnecting connection plus the per-call time budget. Cheap to clone.
#[derive(Clone)]
pub struct RedisHandle {
    conn: ConnectionManager,
    timeout: Duration,
}

impl std::fmt::Debug for RedisHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisHandle")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisHandle {
    /// Creates the connection manager and tries one `PING`.
    ///
    /// The connection itself is lazy: an unreachable server at start-up is
    /// logged, not fatal, so a node can boot while Redis is down and serve
    /// (fail-open or fail-closed, as its caller decides) until it is back.
    /// Only a malformed URL is an error.
    pub async fn connect(settings: &RedisSettings) -> Result<Self, BackendError> {
        let client = Client::open(settings.url.expose()).map_err(BackendError::failed)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.timeout))
            .set_response_timeout(Some(settings.timeout))
            // Few, short retries: callers are bounded by `timeout` anyway,
            // and every failed call re-arms a reconnect.
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(20))
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(BackendError::failed)?;
        let handle = Self {
            conn,
            timeout: settings.timeout,
        };
        if let Err(error) = handle.ping().await {
            tracing::warn!(%error, "redis not reachable at start-up; will keep reconnecting");
        }
        Ok(handle)
    }

    /// The per-call time budget.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs one Redis operation within the time budget. A timeout is
    /// reported as an I/O `TimedOut` error, which [`to_backend_error`] maps
    /// to [`BackendError::Unavailable`].
    pub async fn run<T, F, Fut>(&self, op: F) -> RedisResult<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        match tokio::time::timeout(self.timeout, op(self.conn.clone())).await {
            Ok(result) => result,
            Err(_) => Err(RedisError::from(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("redis call exceeded {:?}", self.timeout),
            ))),
        }
    }

    /// `PING`, within the time budget.
    pub async fn ping(&self) -> Result<(), BackendError> {
        self.run(
            |mut conn| async move { ::redis::cmd("PING").query_async::<String>(&mut conn).await },
        )
        .await
        .map(|_| ())
        .map_err(to_backend_error)
    }
}

/// Maps a Redis failure to the plugin-level split between "unavailable"
/// (retry later, apply fail-open/closed) and "failed" (a real error).
pub fn to_backend_error(error: RedisError) -> BackendError {
    if is_unavailable(&error) {
        BackendError::Unavailable(error.to_string())
    } else {
        BackendError::failed(error)
    }
}

fn is_unavailable(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || matches!(
            error.kind(),
            ErrorKind::Server(
                ServerErrorKind::BusyLoading
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::ClusterDown
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::ReadOnly
            )
        )
}

/// `warden:{<tenant>}:<space>:<key>`: the Redis key of `key` in a tenant's
/// `space` (a fixed name per plugin, e.g. `kv`). Binary-safe; injective in
/// (tenant, space, key) because the tenant cannot contain `}`.
pub fn scoped_key(tenant: &Tenant, space: &str, key: &str) -> Vec<u8> {
    let mut out = tenant_prefix(tenant, space);
    out.extend_from_slice(key.as_bytes());
    out
}

/// `warden:{<tenant>}:<space>:`, the prefix of every key of [`scoped_key`].
pub fn tenant_prefix(tenant: &Tenant, space: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + tenant.as_str().len() + space.len());
    out.extend_from_slice(b"warden:{");
    out.extend_from_slice(tenant.as_str().as_bytes());
    out.extend_from_slice(b"}:");
    out.extend_from_slice(space.as_bytes());
    out.push(b':');
    out
}

/// `warden:{<tenant>}:<name>`: a per-tenant structure (an index, a hash),
/// in the same cluster slot as the tenant's [`scoped_key`]s.
pub fn tenant_key(tenant: &Tenant, name: &str) -> String {
    format!("warden:{{{}}}:{name}", tenant.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The part of a key Redis Cluster hashes, per the cluster spec: the
    /// bytes between the first `{` and the first `}` after it, if non-empty.
    fn hash_tag(key: &[u8]) -> &[u8] {
        let Some(open) = key.iter().position(|&b| b == b'{') else {
            return key;
        };
        match key[open + 1..].iter().position(|&b| b == b'}') {
            Some(0) | None => key,
            Some(len) => &key[open + 1..open + 1 + len],
        }
    }

    fn tenant(id: &str) -> Tenant {
        Tenant::new(id).unwrap()
    }

    #[test]
    fn layout_puts_the_tenant_in_the_hash_tag() {
        let acme = tenant("acme");
        assert_eq!(scoped_key(&acme, "kv", "k"), b"warden:{acme}:kv:k");
        assert_eq!(tenant_key(&acme, "flags"), "warden:{acme}:flags");
        let long = "x".repeat(2000);
        for key in [
            "{evil}",
            "}",
            "{",
            ":",
            "*",
            "\0",
            "}{other}",
            long.as_str(),
        ] {
            assert_eq!(hash_tag(&scoped_key(&acme, "kv", key)), b"acme", "{key:?}");
        }
        assert_eq!(hash_tag(tenant_key(&acme, "kv-index").as_bytes()), b"acme");
    }

    #[test]
    fn layout_is_injective_across_tenants() {
        // Whatever the key, tenant a's key never equals a key of tenant b.
        let a = tenant("a");
        let ab = tenant("a-b");
        for key in ["b}:kv:x", "x", "}:kv:x", ""] {
            let ka = scoped_key(&a, "kv", key);
            for other in ["x", "b}:kv:x", "-b}:kv:x"] {
                assert_ne!(ka, scoped_key(&ab, "kv", other));
            }
            assert!(ka.starts_with(&tenant_prefix(&a, "kv")));
            assert!(!ka.starts_with(&tenant_prefix(&ab, "kv")));
        }
    }

    #[tokio::test]
    async fn unreachable_server_is_unavailable_within_budget() {
        // A port with nothing listening: bind, read the port, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let settings = RedisSettings {
            url: format!("redis://127.0.0.1:{port}/").into(),
            timeout: Duration::from_millis(200),
        };
        let handle = RedisHandle::connect(&settings).await.unwrap();
        let started = std::time::Instant::now();
        let error = handle.ping().await.unwrap_err();
        assert!(matches!(error, BackendError::Unavailable(_)), "{error:?}");
        // Generous bound: the point is "bounded", not "fast on this box".
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn reaches_a_live_server() {
        let server = warden_plugin_testing::RedisServer::start();
        let settings = RedisSettings {
            url: server.url().into(),
            timeout: DEFAULT_TIMEOUT,
        };
        let handle = RedisHandle::connect(&settings).await.unwrap();
        handle.ping().await.unwrap();
    }

    #[test]
    fn malformed_url_is_an_error() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let settings = RedisSettings {
            url: RedisUrl::new("not a url"),
            timeout: DEFAULT_TIMEOUT,
        };
        let result = rt.block_on(RedisHandle::connect(&settings));
        assert!(matches!(result, Err(BackendError::Failed(_))));
    }
}

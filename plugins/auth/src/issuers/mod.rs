//! External issuers: a tenant trusts tokens of `issuer` for `audiences`,
//! signed by a key of the JWKS at `jwks_url`.
//!
//! Keys are fetched at start, refreshed in the background (every
//! `refresh_interval_s`; after a failure, again after 1 s, doubling up to
//! `max_backoff_s`), and kept while the issuer is down: stale keys verify
//! for up to `max_stale_s` after the last good fetch, then the issuer's
//! tokens are refused (`jwks_unavailable`). A token with a `kid` the cached
//! set lacks triggers one on-demand fetch, at most once per
//! `min_refetch_interval_s` per issuer (concurrent requests wait for that
//! one fetch), so a flood of made-up `kid`s cannot flood the issuer.

pub(crate) mod fetch;
mod jwks;

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use http::Uri;
use serde::{Deserialize, Serialize};

use crate::keys::manager::{TrustedKey, TrustedKeys};
use crate::{AuthStats, Reason};
use fetch::{FetchError, Fetcher};

/// One trusted external issuer of a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// The exact `iss` of its tokens.
    pub issuer: String,
    /// Accepted `aud` values (at least one).
    pub audiences: Vec<String>,
    /// Its JWKS: `https://`, or `http://` to loopback only.
    pub jwks_url: String,
}

/// Node-wide JWKS caching rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JwksSettings {
    /// Time between background refreshes after a good fetch.
    pub refresh_interval_s: u64,
    /// How long after the last good fetch cached keys still verify.
    pub max_stale_s: u64,
    /// Least time between two on-demand fetches (unknown `kid`) of one issuer.
    pub min_refetch_interval_s: u64,
    /// Longest wait between background retries after failures.
    pub max_backoff_s: u64,
    /// Time budget of one fetch.
    pub fetch_timeout_ms: u64,
}

impl Default for JwksSettings {
    fn default() -> Self {
        Self {
            refresh_interval_s: 300,
            max_stale_s: 24 * 3600,
            min_refetch_interval_s: 30,
            max_backoff_s: 300,
            fetch_timeout_ms: 3000,
        }
    }
}

struct Fetched {
    keys: TrustedKeys,
    at: Instant,
}

/// The cached keys of one issuer.
pub(crate) struct IssuerKeys {
    pub(crate) config: IssuerConfig,
    uri: Uri,
    fetcher: Fetcher,
    settings: JwksSettings,
    stats: Arc<AuthStats>,
    current: ArcSwapOption<Fetched>,
    on_demand: tokio::sync::Mutex<Option<Instant>>,
}

impl IssuerKeys {
    pub(crate) fn new(
        config: IssuerConfig,
        uri: Uri,
        fetcher: Fetcher,
        settings: JwksSettings,
        stats: Arc<AuthStats>,
    ) -> Arc<Self> {
        Arc::new(Self {
            config,
            uri,
            fetcher,
            settings,
            stats,
            current: ArcSwapOption::empty(),
            on_demand: tokio::sync::Mutex::new(None),
        })
    }

    /// The key `kid`, fetching once (rate-limited) if it is not cached.
    pub(crate) async fn key(&self, kid: &str) -> Result<TrustedKey, Reason> {
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let mut last = self.on_demand.lock().await;
        // Whoever held the lock may just have fetched it.
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let interval = Duration::from_secs(self.settings.min_refetch_interval_s);
        if last.is_none_or(|at| at.elapsed() >= interval) {
            *last = Some(Instant::now());
            // A failure is counted and logged; stale keys stay in use.
            let _ = self.refresh().await;
        }
        drop(last);
        match (self.cached(kid), self.usable()) {
            (Some(key), _) => Ok(key),
            (None, Some(_)) => Err(Reason::UnknownKid),
            (None, None) => Err(Reason::JwksUnavailable),
        }
    }

    /// The cached key `kid`, without fetching.
    pub(crate) fn cached(&self, kid: &str) -> Option<TrustedKey> {
        self.usable()?.keys.get(kid).cloned()
    }

    fn usable(&self) -> Option<Arc<Fetched>> {
        let fetched = self.current.load_full()?;
        (fetched.at.elapsed() <= Duration::from_secs(self.settings.max_stale_s)).then_some(fetched)
    }

    async fn refresh(&self) -> Result<(), FetchError> {
        let result = match self.fetcher.get(&self.uri).await {
            Ok(body) => jwks::parse(&body),
            Err(error) => Err(error),
        };
        self.stats.jwks_refreshed(result.is_ok());
        match result {
            Ok(keys) => {
                self.current.store(Some(Arc::new(Fetched {
                    keys,
                    at: Instant::now(),
                })));
                Ok(())
            }
            Err(error) => {
                tracing::warn!(issuer = %self.config.issuer, %error, "JWKS fetch failed");
                Err(error)
            }
        }
    }
}

/// Starts the background refresher of `keys`; it stops by itself once the
/// last `Arc` is dropped (and is aborted by the owner's drop). `None`
/// outside a Tokio runtime: keys are then fetched on demand only.
pub(crate) fn spawn_refresher(keys: &Arc<IssuerKeys>) -> Option<tokio::task::JoinHandle<()>> {
    let runtime = tokio::runtime::Handle::try_current().ok()?;
    let weak: Weak<IssuerKeys> = Arc::downgrade(keys);
    Some(runtime.spawn(async move {
        const FIRST_RETRY: Duration = Duration::from_secs(1);
        let mut backoff = FIRST_RETRY;
        loop {
            let Some(keys) = weak.upgrade() else {
                return;
            };
            let delay = match keys.refresh().await {
                Ok(()) => {
                    backoff = FIRST_RETRY;
                    Duration::from_secs(keys.settings.refresh_interval_s.max(1))
                }
                Err(_) => {
                    let delay = backoff;
                    let max = Duration::from_secs(keys.settings.max_backoff_s.max(1));
                    backoff = (backoff * 2).min(max);
                    delay
                }
            };
            drop(keys);
            tokio::time::sleep(delay).await;
        }
    }))
}

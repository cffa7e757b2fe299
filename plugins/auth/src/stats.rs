//! Counters the host exports (it owns Prometheus): decisions by outcome and
//! reason, JWKS refresh failures, verified-token cache hits and misses.
//! Plain atomics, so the hot path takes no lock.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::Reason;

/// Live counters, shared by the verifier and the issuers' refreshers.
#[derive(Debug)]
pub struct AuthStats {
    allowed: AtomicU64,
    refused: Vec<AtomicU64>,
    jwks_refreshes: AtomicU64,
    jwks_refresh_failures: AtomicU64,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
}

impl Default for AuthStats {
    fn default() -> Self {
        Self {
            allowed: AtomicU64::new(0),
            refused: Reason::ALL.iter().map(|_| AtomicU64::new(0)).collect(),
            jwks_refreshes: AtomicU64::new(0),
            jwks_refresh_failures: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
            cache_misses: AtomicU64::new(0),
        }
    }
}

/// One decision counter: `outcome` is `allowed` or `refused`; `reason` is
/// empty for `allowed`, else a [`Reason`] name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionCount {
    /// `allowed` or `refused`.
    pub outcome: &'static str,
    /// The [`Reason`] name, or `""` when allowed.
    pub reason: &'static str,
    /// How many decisions so far.
    pub count: u64,
}

/// A copy of every counter at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Decisions by outcome and reason (zero counts included, so series
    /// exist from the start).
    pub decisions: Vec<DecisionCount>,
    /// Successful JWKS fetches.
    pub jwks_refreshes: u64,
    /// Failed JWKS fetches (background or on demand).
    pub jwks_refresh_failures: u64,
    /// Tokens whose signature check was skipped thanks to the cache.
    pub cache_hits: u64,
    /// Tokens fully verified.
    pub cache_misses: u64,
}

impl StatsSnapshot {
    /// The count of refusals for `reason`.
    pub fn refused(&self, reason: Reason) -> u64 {
        self.decisions
            .iter()
            .find(|d| d.outcome == "refused" && d.reason == reason.as_str())
            .map_or(0, |d| d.count)
    }

    /// The count of allowed decisions.
    pub fn allowed(&self) -> u64 {
        self.decisions
            .iter()
            .find(|d| d.outcome == "allowed")
            .map_or(0, |d| d.count)
    }
}

impl AuthStats {
    pub(crate) fn allowed(&self) {
        self.allowed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn refused(&self, reason: Reason) {
        if let Some(i) = Reason::ALL.iter().position(|r| *r == reason)
            && let Some(counter) = self.refused.get(i)
        {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn jwks_refreshed(&self, ok: bool) {
        let counter = if ok {
            &self.jwks_refreshes
        } else {
            &self.jwks_refresh_failures
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn cache(&self, hit: bool) {
        let counter = if hit {
            &self.cache_hits
        } else {
            &self.cache_misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> StatsSnapshot {
        let mut decisions = vec![DecisionCount {
            outcome: "allowed",
            reason: "",
            count: self.allowed.load(Ordering::Relaxed),
        }];
        decisions.extend(
            Reason::ALL
                .iter()
                .zip(&self.refused)
                .map(|(reason, n)| DecisionCount {
                    outcome: "refused",
                    reason: reason.as_str(),
                    count: n.load(Ordering::Relaxed),
                }),
        );
        StatsSnapshot {
            decisions,
            jwks_refreshes: self.jwks_refreshes.load(Ordering::Relaxed),
            jwks_refresh_failures: self.jwks_refresh_failures.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            cache_misses: self.cache_misses.load(Ordering::Relaxed),
        }
    }
}

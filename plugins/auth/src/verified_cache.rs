//! The verified-token cache: a token whose signature and claims checked out
//! is remembered (by the SHA-256 of tenant, tenant-config generation and the
//! whole token) until its `exp`, so the signature is not verified on every
//! request. A hit still re-checks the times and that the key is still
//! trusted; route checks and replay run on every request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};
use warden_plugin_core::Tenant;

use crate::KeyAlg;
use crate::token::claims::Claims;

/// Which key set vouched for a cached token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// The tenant's own keys.
    Own,
    /// The tenant's n-th external issuer.
    Issuer(usize),
}

/// A verified token.
#[derive(Debug)]
pub(crate) struct Verified {
    pub(crate) claims: Claims,
    pub(crate) source: Source,
    pub(crate) kid: String,
    pub(crate) alg: KeyAlg,
    ttl: Duration,
}

impl Verified {
    pub(crate) fn new(claims: Claims, source: Source, kid: String, alg: KeyAlg, now: u64) -> Self {
        let ttl = Duration::from_secs(claims.expires_at.saturating_sub(now));
        Self {
            claims,
            source,
            kid,
            alg,
            ttl,
        }
    }
}

struct UntilExpiry;

impl moka::Expiry<[u8; 32], Arc<Verified>> for UntilExpiry {
    fn expire_after_create(
        &self,
        _key: &[u8; 32],
        value: &Arc<Verified>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// Bounded cache of verified tokens.
pub(crate) struct VerifiedCache {
    entries: moka::future::Cache<[u8; 32], Arc<Verified>>,
}

impl VerifiedCache {
    pub(crate) fn new(max_entries: u64) -> Self {
        Self {
            entries: moka::future::Cache::builder()
                .max_capacity(max_entries)
                .expire_after(UntilExpiry)
                .build(),
        }
    }

    pub(crate) fn key(tenant: &Tenant, generation: u64, token: &str) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update(tenant.as_str().as_bytes());
        hash.update([0]);
        hash.update(generation.to_be_bytes());
        hash.update(token.as_bytes());
        hash.finalize().into()
    }

    pub(crate) async fn get(&self, key: &[u8; 32]) -> Option<Arc<Verified>> {
        self.entries.get(key).await
    }

    pub(crate) async fn insert(&self, key: [u8; 32], value: Arc<Verified>) {
        if !value.ttl.is_zero() {
            self.entries.insert(key, value).await;
        }
    }

    pub(crate) async fn remove(&self, key: &[u8; 32]) {
        self.entries.invalidate(key).await;
    }
}

//! The gateway's entry point: one call per request, from the
//! `Authorization` header to a [`VerifiedPrincipal`] or an [`AuthError`].
//!
//! Order of checks: header size and scheme; the verified-token cache; the
//! JWS structure and header ([`crate::token::parse`]); claim types; the
//! issuer (`iss` picks the tenant's own keys or one of its external
//! issuers, nothing else); the key (`kid` among that issuer's trusted keys
//! only, `alg` equal to the key's pinned algorithm); the signature; the
//! audience and times; then the route (scopes, step-up) and, on single-use
//! routes, the replay check. Keys are looked up per tenant, so a token of
//! tenant A can never verify for tenant B.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use warden_plugin_core::Tenant;

use crate::config::realm_of;
use crate::error::Denial;
use crate::issuers::fetch::{Fetcher, parse_pem_roots};
use crate::issuers::{IssuerKeys, JwksSettings, spawn_refresher};
use crate::keys::manager::TrustedKey;
use crate::replay::ReplayStore;
use crate::revocation::FamilyRevocations;
use crate::token::claims::{Claims, TimeRules};
use crate::verified_cache::{Source, Verified, VerifiedCache};
use crate::{
    AuthError, AuthStats, ConfigError, KeyManager, Reason, RoutePolicy, StatsSnapshot,
    TenantAuthConfig, VerifiedPrincipal, token,
};

/// Node-wide verifier settings.
#[derive(Debug, Clone, Copy)]
pub struct VerifierSettings {
    /// JWKS caching of external issuers.
    pub jwks: JwksSettings,
    /// Capacity of the verified-token cache.
    pub cache_max_entries: u64,
}

impl Default for VerifierSettings {
    fn default() -> Self {
        Self {
            jwks: JwksSettings::default(),
            cache_max_entries: 100_000,
        }
    }
}

struct TenantState {
    config: TenantAuthConfig,
    realm: Arc<str>,
    issuers: Vec<Arc<Issuer>>,
    generation: u64,
}

/// An issuer's cached keys and their refresher, shared by successive
/// settings of a tenant while the issuer's config is unchanged (so a reload
/// during an issuer outage keeps its stale keys); the refresher stops when
/// the last settings using it are gone.
struct Issuer {
    keys: Arc<IssuerKeys>,
    refresher: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        if let Some(task) = &self.refresher {
            task.abort();
        }
    }
}

/// Verifies bearer tokens for every tenant of the node.
pub struct Verifier {
    keys: Arc<KeyManager>,
    replay: Arc<dyn ReplayStore>,
    tenants: ArcSwap<HashMap<Tenant, Arc<TenantState>>>,
    cache: VerifiedCache,
    stats: Arc<AuthStats>,
    fetcher: Fetcher,
    jwks: JwksSettings,
    generation: AtomicU64,
    revocations: Option<Arc<FamilyRevocations>>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("tenants", &self.tenants.load().len())
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier over the tenants' own keys and a replay store.
    pub fn new(
        keys: Arc<KeyManager>,
        replay: Arc<dyn ReplayStore>,
        settings: VerifierSettings,
    ) -> Self {
        Self {
            keys,
            replay,
            tenants: ArcSwap::default(),
            cache: VerifiedCache::new(settings.cache_max_entries),
            stats: Arc::new(AuthStats::default()),
            fetcher: Self::fetcher(&settings.jwks, &[])
                // Only extra roots can make the TLS setup fail, and there are
                // none: ring supports every default protocol version.
                .expect("the JWKS client with the built-in roots always builds"),
            jwks: settings.jwks,
            generation: AtomicU64::new(0),
            revocations: None,
        }
    }

    /// Also refuses tokens whose refresh family (`fid` claim) is in
    /// `revocations` (logout, refresh reuse, code replay), on every request,
    /// cached or not. Without it, `fid` is not looked at.
    pub fn with_revocations(mut self, revocations: Arc<FamilyRevocations>) -> Self {
        self.revocations = Some(revocations);
        self
    }

    /// Also trusts the CA certificates of `pem` (one or more `CERTIFICATE`
    /// sections) for `https://` JWKS URLs, on top of the Mozilla roots, so
    /// an issuer behind a private CA can be used without weakening
    /// verification for any other. Call it before the first
    /// [`set_tenant`](Self::set_tenant): issuers installed earlier keep the
    /// roots they were created with. An error when `pem` holds no
    /// certificate or one that cannot be a trust anchor.
    pub fn with_jwks_roots(mut self, pem: &[u8]) -> Result<Self, ConfigError> {
        let problem = |p: String| ConfigError {
            problems: vec![format!("JWKS CA certificates: {p}")],
        };
        let roots = parse_pem_roots(pem).map_err(problem)?;
        self.fetcher = Self::fetcher(&self.jwks, &roots).map_err(problem)?;
        Ok(self)
    }

    fn fetcher(
        jwks: &JwksSettings,
        roots: &[rustls::pki_types::CertificateDer<'static>],
    ) -> Result<Fetcher, String> {
        Fetcher::new(
            std::time::Duration::from_millis(jwks.fetch_timeout_ms),
            roots,
        )
    }

    /// Installs (or replaces) a tenant's settings. Starts the background
    /// JWKS refresh of new issuers (when called inside a Tokio runtime);
    /// an issuer whose config is unchanged keeps its cached keys and
    /// refresher, removed issuers' refreshers stop, and tokens cached as
    /// verified under the previous settings are verified again. Settings
    /// equal to the installed ones change nothing: the host reinstalls a
    /// tenant's settings on every reload of the tenant (any deploy), and
    /// that must not throw away its verified tokens.
    pub fn set_tenant(&self, tenant: &Tenant, config: TenantAuthConfig) -> Result<(), ConfigError> {
        let uris = config.validate()?;
        let previous = self.tenants.load().get(tenant).cloned();
        if previous
            .as_ref()
            .is_some_and(|state| state.config == config)
        {
            return Ok(());
        }
        let issuers: Vec<_> = config
            .issuers
            .iter()
            .zip(uris)
            .map(|(issuer, uri)| {
                let unchanged = previous
                    .iter()
                    .flat_map(|state| state.issuers.iter())
                    .find(|old| old.keys.config == *issuer);
                if let Some(old) = unchanged {
                    return old.clone();
                }
                let keys = IssuerKeys::new(
                    issuer.clone(),
                    uri,
                    self.fetcher.clone(),
                    self.jwks,
                    self.stats.clone(),
                );
                let refresher = spawn_refresher(&keys);
                Arc::new(Issuer { keys, refresher })
            })
            .collect();
        drop(previous);
        let state = Arc::new(TenantState {
            realm: realm_of(tenant, &config),
            issuers,
            config,
            generation: self.generation.fetch_add(1, Ordering::Relaxed) + 1,
        });
        self.tenants.rcu(|map| {
            let mut map = HashMap::clone(map);
            map.insert(tenant.clone(), state.clone());
            map
        });
        Ok(())
    }

    /// Forgets a tenant: its tokens are refused from now on.
    pub fn remove_tenant(&self, tenant: &Tenant) {
        self.tenants.rcu(|map| {
            let mut map = HashMap::clone(map);
            map.remove(tenant);
            map
        });
    }

    /// Counters for the host's metrics.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Verifies the request's `Authorization` value against `policy` at
    /// `now` (seconds since the epoch, see [`crate::unix_now`]). A token is
    /// required, whatever `policy.public` says; see
    /// [`authorize`](Self::authorize) for public routes.
    pub async fn verify(
        &self,
        tenant: &Tenant,
        authorization: Option<&str>,
        policy: &RoutePolicy,
        now: u64,
    ) -> Result<VerifiedPrincipal, AuthError> {
        let state = self.state(tenant);
        let result = self.check(&state, tenant, authorization, policy, now).await;
        match result {
            Ok(principal) => {
                self.stats.allowed();
                Ok(principal)
            }
            Err(denial) => {
                let error = AuthError::new(denial, state.realm.clone());
                self.stats.refused(error.reason());
                Err(error)
            }
        }
    }

    /// As [`verify`](Self::verify), except that a public route without a
    /// token passes with no principal. A token sent to a public route is
    /// still verified.
    pub async fn authorize(
        &self,
        tenant: &Tenant,
        authorization: Option<&str>,
        policy: &RoutePolicy,
        now: u64,
    ) -> Result<Option<VerifiedPrincipal>, AuthError> {
        if policy.public && authorization.is_none() {
            return Ok(None);
        }
        self.verify(tenant, authorization, policy, now)
            .await
            .map(Some)
    }

    fn state(&self, tenant: &Tenant) -> Arc<TenantState> {
        if let Some(state) = self.tenants.load().get(tenant) {
            return state.clone();
        }
        let config = TenantAuthConfig::default();
        Arc::new(TenantState {
            realm: realm_of(tenant, &config),
            config,
            issuers: Vec::new(),
            generation: 0,
        })
    }

    async fn check(
        &self,
        state: &TenantState,
        tenant: &Tenant,
        authorization: Option<&str>,
        policy: &RoutePolicy,
        now: u64,
    ) -> Result<VerifiedPrincipal, Denial> {
        let value = authorization.ok_or(Denial::InvalidToken(Reason::MissingToken))?;
        let token = token::bearer(value).map_err(Denial::InvalidToken)?;
        let verified = self.verified(state, tenant, token, now).await?;
        let claims = &verified.claims;
        // Only the tenant's own tokens come from its token service; an
        // external issuer's `fid` means nothing here.
        let family = claims
            .all
            .get("fid")
            .and_then(|v| v.as_str())
            .filter(|_| verified.source == Source::Own);
        if let (Some(family), Some(revocations)) = (family, &self.revocations) {
            match revocations.is_revoked(tenant, family).await {
                Ok(false) => {}
                Ok(true) => return Err(Denial::InvalidToken(Reason::FamilyRevoked)),
                Err(error) => {
                    tracing::warn!(%tenant, %error, "revocation list failed; refusing");
                    return Err(Denial::Unavailable(Reason::StoreUnavailable));
                }
            }
        }
        policy.check(claims, now, state.config.leeway_s)?;
        if policy.single_use {
            let jti = claims
                .token_id
                .as_deref()
                .ok_or(Denial::InvalidToken(Reason::MissingJti))?;
            match self
                .replay
                .first_use(tenant, jti, claims.expires_at, now)
                .await
            {
                Ok(true) => {}
                Ok(false) => return Err(Denial::InvalidToken(Reason::Replayed)),
                Err(error) => {
                    tracing::warn!(%tenant, %error, "replay store failed; refusing single-use request");
                    return Err(Denial::Unavailable(Reason::StoreUnavailable));
                }
            }
        }
        let exposed = policy
            .expose_claims
            .iter()
            .filter_map(|name| {
                let value = claims.all.get(name)?;
                Some((name.clone(), serde_json::to_string(value).ok()?))
            })
            .collect();
        Ok(VerifiedPrincipal {
            tenant: tenant.clone(),
            subject: claims.subject.clone(),
            issuer: claims.issuer.clone(),
            scopes: claims.scopes.clone(),
            claims: exposed,
            auth_time: claims.auth_time,
            amr: claims.amr.clone(),
            acr: claims.acr.clone(),
            expires_at: claims.expires_at,
            dpop_jkt: claims
                .all
                .get("cnf")
                .and_then(|cnf| cnf.get("jkt"))
                .and_then(|jkt| jkt.as_str())
                .map(str::to_owned),
            family: family.map(str::to_owned),
        })
    }

    fn rules(state: &TenantState) -> TimeRules {
        TimeRules {
            leeway_s: state.config.leeway_s,
            max_lifetime_s: state.config.max_token_lifetime_s,
        }
    }

    /// The token's claims, from the cache or verified in full.
    async fn verified(
        &self,
        state: &TenantState,
        tenant: &Tenant,
        token: &str,
        now: u64,
    ) -> Result<Arc<Verified>, Denial> {
        let cache_key = VerifiedCache::key(tenant, state.generation, token);
        if let Some(hit) = self.cache.get(&cache_key).await {
            if self.still_trusted(state, tenant, &hit, now).await {
                self.stats.cache(true);
                hit.claims
                    .check_times(now, Self::rules(state))
                    .map_err(Denial::InvalidToken)?;
                return Ok(hit);
            }
            self.cache.remove(&cache_key).await;
        }
        self.stats.cache(false);
        let invalid = Denial::InvalidToken;
        let parsed = token::parse(token).map_err(invalid)?;
        let claims = Claims::from_payload(parsed.claims).map_err(invalid)?;
        let (source, audiences) = if state.config.issuer.as_ref() == Some(&claims.issuer) {
            (Source::Own, &state.config.audiences)
        } else {
            let i = state
                .issuers
                .iter()
                .position(|i| i.keys.config.issuer == claims.issuer)
                .ok_or(invalid(Reason::UnknownIssuer))?;
            (Source::Issuer(i), &state.issuers[i].keys.config.audiences)
        };
        let key = self.key(state, tenant, source, &parsed.kid, now).await?;
        if key.alg != parsed.alg {
            return Err(invalid(Reason::AlgMismatch));
        }
        let good = jsonwebtoken::crypto::verify(
            parsed.signature,
            parsed.signing_input.as_bytes(),
            &key.decoding,
            key.alg.jsonwebtoken(),
        );
        if !matches!(good, Ok(true)) {
            return Err(invalid(Reason::BadSignature));
        }
        if !claims.audience_ok(audiences) {
            return Err(invalid(Reason::WrongAudience));
        }
        claims
            .check_times(now, Self::rules(state))
            .map_err(invalid)?;
        let verified = Arc::new(Verified::new(claims, source, parsed.kid, key.alg, now));
        self.cache.insert(cache_key, verified.clone()).await;
        Ok(verified)
    }

    async fn key(
        &self,
        state: &TenantState,
        tenant: &Tenant,
        source: Source,
        kid: &str,
        now: u64,
    ) -> Result<TrustedKey, Denial> {
        match source {
            Source::Own => {
                let keys = self.keys.trusted(tenant).await.map_err(|error| {
                    tracing::warn!(%tenant, %error, "key store failed");
                    Denial::Unavailable(Reason::StoreUnavailable)
                })?;
                keys.get(kid)
                    .filter(|k| k.valid_at(now))
                    .cloned()
                    .ok_or(Denial::InvalidToken(Reason::UnknownKid))
            }
            Source::Issuer(i) => {
                let issuer = state
                    .issuers
                    .get(i)
                    .ok_or(Denial::InvalidToken(Reason::UnknownIssuer))?;
                issuer.keys.key(kid).await.map_err(|reason| match reason {
                    Reason::JwksUnavailable => Denial::Unavailable(reason),
                    reason => Denial::InvalidToken(reason),
                })
            }
        }
    }

    async fn still_trusted(
        &self,
        state: &TenantState,
        tenant: &Tenant,
        hit: &Verified,
        now: u64,
    ) -> bool {
        match hit.source {
            Source::Own => self.keys.trusted(tenant).await.is_ok_and(|keys| {
                keys.get(&hit.kid)
                    .is_some_and(|k| k.alg == hit.alg && k.valid_at(now))
            }),
            Source::Issuer(i) => state
                .issuers
                .get(i)
                .and_then(|issuer| issuer.keys.cached(&hit.kid))
                .is_some_and(|k| k.alg == hit.alg),
        }
    }
}

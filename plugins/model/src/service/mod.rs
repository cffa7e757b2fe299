//! [`ModelService`]: the one entry point the host binds WIT `model` to.

mod complete;
mod embed;
mod stream;
mod warm;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::time::Instant;
use warden_plugin_cache::{Cache, LeaseTable, ReadThrough};
use warden_plugin_core::Tenant;
use warden_plugin_rate_limit::RateLimiter;

pub use stream::ModelStream;
pub use warm::WarmUpReport;

use crate::breaker::BreakerState;
use crate::budget::{Budgets, estimate_tokens};
use crate::config::{AliasConfig, Config, ProviderConfig, TierConfig};
use crate::endpoint::{Endpoint, Failure};
use crate::policy::{Target, TenantPolicy, alias_config, resolve};
use crate::provider::{BuiltinProvider, OpenAiProvider, Provider};
use crate::semantic::SemanticIndex;
use crate::usage::{Operation, UsageRecord, UsageSink};
use crate::{CallContext, CompletionRequest, ConfigError, ModelError, Served, Usage};

/// Largest number of messages, stop sequences, embedding inputs.
const MAX_MESSAGES: usize = 1024;
const MAX_STOP: usize = 4;
const MAX_INPUTS: usize = 2048;

/// The node's shared pieces the service builds on.
pub struct Dependencies {
    /// Where completions and embeddings are cached (the node's cache).
    pub cache: Arc<dyn Cache>,
    /// The node's lease table: single flight on cache misses.
    pub leases: Arc<LeaseTable>,
    /// Where budgets are kept (Redis for budgets across nodes).
    pub limiter: Arc<dyn RateLimiter>,
    /// Where usage records go.
    pub usage: Arc<dyn UsageSink>,
}

/// Model calls for every tenant of the node. Cheap to clone.
#[derive(Clone)]
pub struct ModelService {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    config: Config,
    aliases: BTreeMap<String, AliasConfig>,
    endpoints: HashMap<String, Arc<Endpoint>>,
    policies: RwLock<HashMap<Tenant, Arc<TenantPolicy>>>,
    default_policy: Arc<TenantPolicy>,
    cache: Arc<dyn Cache>,
    read_through: ReadThrough,
    budgets: Budgets,
    semantic: SemanticIndex,
    sink: Arc<dyn UsageSink>,
}

/// Builds the service: validates `config` (every problem at once), reads
/// API keys from the environment, creates one endpoint per provider.
pub async fn build(config: &Config, deps: Dependencies) -> Result<ModelService, ConfigError> {
    config.validate()?;
    let mut endpoints = HashMap::new();
    let mut problems = Vec::new();
    for (name, provider) in config.effective_providers() {
        let built: Arc<dyn Provider> = match &provider {
            ProviderConfig::Builtin(b) => Arc::new(BuiltinProvider::new(
                Duration::from_millis(b.token_interval_ms),
                b.dimensions,
            )),
            ProviderConfig::Openai(o) => {
                let key = match (&o.api_key, &o.api_key_env) {
                    (Some(key), _) => Some(key.expose().to_string()),
                    (None, Some(var)) => match std::env::var(var) {
                        Ok(key) => Some(key),
                        Err(_) => {
                            problems.push(format!(
                                "provider {name}: environment variable {var} is not set"
                            ));
                            None
                        }
                    },
                    (None, None) => None,
                };
                let headers: Vec<(String, String)> = o.headers.clone().into_iter().collect();
                let roots = match &o.ca_file {
                    Some(path) => {
                        warden_plugin_core::tls::read_pem_roots(path).unwrap_or_else(|e| {
                            problems.push(format!("provider {name}: {e}"));
                            Vec::new()
                        })
                    }
                    None => Vec::new(),
                };
                match OpenAiProvider::new(
                    &o.base_url,
                    key.as_deref(),
                    &headers,
                    Duration::from_millis(o.resilience.connect_timeout_ms),
                    &roots,
                ) {
                    Ok(provider) => Arc::new(provider),
                    Err(e) => {
                        problems.push(format!("provider {name}: ca_file: {e}"));
                        continue;
                    }
                }
            }
        };
        let endpoint = Endpoint::new(&name, built, provider.resilience());
        endpoints.insert(name, Arc::new(endpoint));
    }
    if !problems.is_empty() {
        return Err(ConfigError(problems));
    }
    Ok(ModelService {
        inner: Arc::new(Inner {
            aliases: config.effective_aliases(),
            config: config.clone(),
            endpoints,
            policies: RwLock::default(),
            default_policy: Arc::new(TenantPolicy::default()),
            read_through: ReadThrough::new(deps.cache.clone(), deps.leases),
            cache: deps.cache,
            budgets: Budgets::new(deps.limiter, config.on_limiter_unavailable),
            semantic: SemanticIndex::default(),
            sink: deps.usage,
        }),
    })
}

/// What one call learned on its way, for its usage record.
#[derive(Debug, Default)]
pub(crate) struct CallStats {
    provider: String,
    served: Served,
    usage: Usage,
    attempts: u32,
    time_to_first_token: Option<Duration>,
}

impl CallStats {
    fn target(&mut self, target: &Target) {
        self.provider = target.provider.clone();
        self.served.model = target.model.clone();
        self.served.variant = target.variant.clone();
    }
}

/// A call past its checks: its policy, tier and estimate.
pub(crate) struct Prepared {
    policy: Arc<TenantPolicy>,
    tier: TierConfig,
    estimate: u32,
}

impl ModelService {
    /// Sets (or replaces) `tenant`'s policy, after checking it against the
    /// node's config. Tenants without one get [`TenantPolicy::default`].
    pub fn set_policy(&self, tenant: &Tenant, policy: TenantPolicy) -> Result<(), ConfigError> {
        policy.validate(&self.inner.config)?;
        self.inner
            .policies
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(tenant.clone(), Arc::new(policy));
        Ok(())
    }

    /// Forgets `tenant`'s policy (back to the default).
    pub fn remove_policy(&self, tenant: &Tenant) {
        self.inner
            .policies
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(tenant);
    }

    /// Where a call of `alias` by `subject` would go: provider, model and
    /// A/B variant (sticky per tenant, alias and subject).
    pub fn resolve(
        &self,
        tenant: &Tenant,
        alias: &str,
        subject: &str,
    ) -> Result<Target, ModelError> {
        let policy = self.policy(tenant);
        let config = alias_config(&self.inner.aliases, &policy, alias)?;
        resolve(alias, config, tenant, subject)
    }

    /// The breaker of `provider` on this node, if the provider exists.
    pub fn breaker_state(&self, provider: &str) -> Option<BreakerState> {
        self.inner
            .endpoints
            .get(provider)
            .map(|e| e.breaker.state())
    }

    fn policy(&self, tenant: &Tenant) -> Arc<TenantPolicy> {
        self.inner
            .policies
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(tenant)
            .cloned()
            .unwrap_or_else(|| self.inner.default_policy.clone())
    }

    fn endpoint(&self, provider: &str) -> Result<Arc<Endpoint>, Failure> {
        self.inner.endpoints.get(provider).cloned().ok_or_else(|| {
            ModelError::Internal(format!("provider {provider} is not configured")).into()
        })
    }

    /// Checks the prompt size and counts the call against the tenant's
    /// request budget.
    async fn prepare(&self, tenant: &Tenant, prompt_chars: usize) -> Result<Prepared, ModelError> {
        let policy = self.policy(tenant);
        let tier_name = policy.tier.as_deref().unwrap_or("default");
        let tier = self
            .inner
            .config
            .tiers
            .get(tier_name)
            .cloned()
            .unwrap_or_default();
        let estimate = estimate_tokens(prompt_chars);
        if let Some(max) = tier.max_prompt_tokens
            && estimate > max
        {
            return Err(ModelError::ContentTooLarge(format!(
                "prompt is about {estimate} tokens, the limit is {max}"
            )));
        }
        self.inner.budgets.admit_call(tenant, &tier).await?;
        Ok(Prepared {
            policy,
            tier,
            estimate,
        })
    }

    /// The fallback target of `alias`, when it has one.
    fn fallback(
        &self,
        tenant: &Tenant,
        policy: &TenantPolicy,
        alias: &str,
        stickiness: &str,
    ) -> Option<Target> {
        let config = alias_config(&self.inner.aliases, policy, alias).ok()?;
        let fallback = config.fallback.as_deref()?;
        let fallback_config = alias_config(&self.inner.aliases, policy, fallback).ok()?;
        resolve(fallback, fallback_config, tenant, stickiness).ok()
    }

    fn cache_ttl(policy: &TenantPolicy) -> Option<Duration> {
        (policy.cache_ttl_secs > 0).then(|| Duration::from_secs(policy.cache_ttl_secs))
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        tenant: &Tenant,
        ctx: &CallContext,
        operation: Operation,
        alias: &str,
        stats: CallStats,
        started: Instant,
        error: Option<ModelError>,
        cancelled: bool,
    ) {
        self.inner.sink.record(UsageRecord {
            tenant: tenant.clone(),
            function: ctx.function.clone(),
            operation,
            alias: alias.to_string(),
            provider: stats.provider,
            served: stats.served,
            usage: stats.usage,
            attempts: stats.attempts,
            latency: started.elapsed(),
            time_to_first_token: stats.time_to_first_token,
            error,
            cancelled,
        });
    }
}

/// Request checks every backend would otherwise make differently.
fn check_request(request: &CompletionRequest) -> Result<(), ModelError> {
    let invalid = |why: &str| Err(ModelError::InvalidRequest(why.to_string()));
    if request.messages.is_empty() {
        return invalid("at least one message is required");
    }
    if request.messages.len() > MAX_MESSAGES {
        return invalid("too many messages");
    }
    if request
        .temperature
        .is_some_and(|t| !(0.0..=2.0).contains(&t))
    {
        return invalid("temperature must be within 0..=2");
    }
    if request.top_p.is_some_and(|p| !(p > 0.0 && p <= 1.0)) {
        return invalid("top_p must be within (0, 1]");
    }
    if request.stop.len() > MAX_STOP {
        return invalid("at most 4 stop sequences");
    }
    if request.max_tokens == Some(0) {
        return invalid("max_tokens must be at least 1");
    }
    Ok(())
}

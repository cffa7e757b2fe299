//! `complete`: cache (exact, then semantic) in front of the provider, with
//! single flight on misses and the fallback alias while a breaker is open.

use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use tokio::time::Instant;
use warden_plugin_cache::GetOrLoadError;
use warden_plugin_core::Tenant;

use super::{CallStats, ModelService, Prepared, check_request};
use crate::budget::estimate_tokens;
use crate::cache_keys::{CachedCompletion, completion_key, params_hash, prompt_text};
use crate::endpoint::Failure;
use crate::policy::{Target, alias_config, resolve};
use crate::provider::embed_text;
use crate::usage::Operation;
use crate::{CallContext, Completion, CompletionRequest, ModelError, Usage};

/// Dimension of the semantic index's (builtin) prompt embeddings.
const SEMANTIC_DIMENSIONS: usize = 256;

impl ModelService {
    /// A whole completion of `request` for `tenant`.
    ///
    /// Deterministic requests (temperature 0 or a seed) are served from the
    /// tenant's cache when possible; concurrent identical misses on this
    /// node reach the provider once. Every call, hit or not, emits one
    /// usage record.
    pub async fn complete(
        &self,
        tenant: &Tenant,
        ctx: &CallContext,
        request: CompletionRequest,
    ) -> Result<Completion, ModelError> {
        let started = Instant::now();
        let mut stats = CallStats::default();
        let result = self.complete_inner(tenant, ctx, &request, &mut stats).await;
        self.record(
            tenant,
            ctx,
            Operation::Complete,
            &request.alias,
            stats,
            started,
            result.as_ref().err().cloned(),
            false,
        );
        result
    }

    async fn complete_inner(
        &self,
        tenant: &Tenant,
        ctx: &CallContext,
        request: &CompletionRequest,
        stats: &mut CallStats,
    ) -> Result<Completion, ModelError> {
        check_request(request)?;
        let prepared = self.prepare(tenant, request.prompt_chars()).await?;
        let alias = alias_config(&self.inner.aliases, &prepared.policy, &request.alias)?;
        let target = resolve(&request.alias, alias, tenant, ctx.stickiness())?;
        match self
            .complete_target(tenant, &prepared, &target, request, stats)
            .await
        {
            Err(failure) if failure.breaker_open => {
                let Some(fallback) =
                    self.fallback(tenant, &prepared.policy, &request.alias, ctx.stickiness())
                else {
                    return Err(failure.error);
                };
                stats.served.fallback_from = Some(request.alias.clone());
                self.complete_target(tenant, &prepared, &fallback, request, stats)
                    .await
                    .map_err(|f| f.error)
            }
            other => other.map_err(|f| f.error),
        }
    }

    async fn complete_target(
        &self,
        tenant: &Tenant,
        prepared: &Prepared,
        target: &Target,
        request: &CompletionRequest,
        stats: &mut CallStats,
    ) -> Result<Completion, Failure> {
        stats.target(target);
        let ttl = Self::cache_ttl(&prepared.policy).filter(|_| request.is_deterministic());
        let Some(ttl) = ttl else {
            let fresh = self
                .call_provider(tenant, prepared, target, request, stats)
                .await?;
            return Ok(self.completion(fresh, stats));
        };
        let key = completion_key(target, request);
        let semantic = prepared.policy.semantic_cache.get(&request.alias);
        let params = params_hash(target, request);
        let embedding = semantic.map(|_| embed_text(&prompt_text(request), SEMANTIC_DIMENSIONS));
        if let (Some(config), Some(embedding)) = (semantic, &embedding)
            && let Some((similar, similarity)) = self.inner.semantic.lookup(
                tenant,
                &request.alias,
                &params,
                embedding,
                config.min_similarity,
            )
            && similar != key
            && let Ok(Some(bytes)) = self.inner.cache.get(tenant, &similar).await
            && let Some(cached) = CachedCompletion::decode(&bytes)
        {
            stats.served.cached = true;
            stats.served.similarity = Some(similarity);
            return Ok(self.completion(cached, stats));
        }

        let loaded = AtomicBool::new(false);
        let loaded_ref = &loaded;
        let stats_ref = &mut *stats;
        let result = self
            .inner
            .read_through
            .get_or_load(tenant, &key, ttl, move || async move {
                loaded_ref.store(true, Ordering::SeqCst);
                let fresh = self
                    .call_provider(tenant, prepared, target, request, stats_ref)
                    .await?;
                Ok::<Bytes, Failure>(fresh.encode())
            })
            .await;
        let bytes = result.map_err(|error| match error {
            GetOrLoadError::Load(error) => (**error)
                .downcast_ref::<Failure>()
                .cloned()
                .unwrap_or_else(|| ModelError::Internal(error.to_string()).into()),
            GetOrLoadError::Cache(error) => ModelError::Internal(format!("cache: {error}")).into(),
        })?;
        let cached = CachedCompletion::decode(&bytes).ok_or_else(|| {
            Failure::from(ModelError::Internal(
                "cached completion is unreadable".into(),
            ))
        })?;
        let was_loaded = loaded.load(Ordering::SeqCst);
        stats.served.cached = !was_loaded;
        if let (Some(config), Some(embedding), true) = (semantic, embedding, was_loaded) {
            self.inner.semantic.insert(
                tenant,
                &request.alias,
                params,
                embedding,
                key,
                config.max_entries,
            );
        }
        Ok(self.completion(cached, stats))
    }

    fn completion(&self, value: CachedCompletion, stats: &mut CallStats) -> Completion {
        stats.usage = value.usage;
        Completion {
            text: value.text,
            finish_reason: value.finish_reason,
            usage: value.usage,
            served: stats.served.clone(),
        }
    }

    /// One provider call: budget reserved before, settled after.
    async fn call_provider(
        &self,
        tenant: &Tenant,
        prepared: &Prepared,
        target: &Target,
        request: &CompletionRequest,
        stats: &mut CallStats,
    ) -> Result<CachedCompletion, Failure> {
        let endpoint = self.endpoint(&target.provider)?;
        self.inner
            .budgets
            .reserve(tenant, &prepared.tier, prepared.estimate)
            .await?;
        let provider = &endpoint.provider;
        let model = target.model.as_str();
        let (answer, admitted) = endpoint
            .call(
                request.idempotent,
                endpoint.total_deadline(),
                &mut stats.attempts,
                |deadlines| provider.complete(model, request, deadlines),
            )
            .await?;
        admitted.breaker.success();
        let usage = answer.usage.unwrap_or(Usage {
            input_tokens: prepared.estimate,
            output_tokens: estimate_tokens(answer.text.chars().count()),
        });
        self.inner
            .budgets
            .settle(tenant, &prepared.tier, prepared.estimate, usage.total())
            .await;
        Ok(CachedCompletion {
            text: answer.text,
            finish_reason: answer.finish_reason,
            usage,
        })
    }
}

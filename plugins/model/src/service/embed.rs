//! `embed`: each input cached on its own; the misses go to the provider in
//! one call. No fallback alias here: mixing vectors of two models in one
//! answer (or one index) would compare apples and pears.

use tokio::time::Instant;
use warden_plugin_core::Tenant;

use super::{CallStats, MAX_INPUTS, ModelService};
use crate::budget::estimate_tokens;
use crate::cache_keys::{decode_vector, embedding_key, encode_vector};
use crate::policy::{alias_config, resolve};
use crate::usage::Operation;
use crate::{CallContext, Embeddings, ModelError, Usage};

impl ModelService {
    /// Embeddings of `inputs` with the model of `alias`, in input order.
    pub async fn embed(
        &self,
        tenant: &Tenant,
        ctx: &CallContext,
        alias: &str,
        inputs: Vec<String>,
    ) -> Result<Embeddings, ModelError> {
        let started = Instant::now();
        let mut stats = CallStats::default();
        let result = self
            .embed_inner(tenant, ctx, alias, &inputs, &mut stats)
            .await;
        self.record(
            tenant,
            ctx,
            Operation::Embed,
            alias,
            stats,
            started,
            result.as_ref().err().cloned(),
            false,
        );
        result
    }

    async fn embed_inner(
        &self,
        tenant: &Tenant,
        ctx: &CallContext,
        alias: &str,
        inputs: &[String],
        stats: &mut CallStats,
    ) -> Result<Embeddings, ModelError> {
        if inputs.is_empty() || inputs.len() > MAX_INPUTS {
            return Err(ModelError::InvalidRequest(format!(
                "1..={MAX_INPUTS} inputs are required"
            )));
        }
        let chars: usize = inputs.iter().map(|i| i.chars().count()).sum();
        let prepared = self.prepare(tenant, chars).await?;
        let config = alias_config(&self.inner.aliases, &prepared.policy, alias)?;
        let target = resolve(alias, config, tenant, ctx.stickiness())?;
        stats.target(&target);
        let ttl = Self::cache_ttl(&prepared.policy);
        let mut vectors: Vec<Option<Vec<f32>>> = vec![None; inputs.len()];
        if ttl.is_some() {
            for (slot, input) in vectors.iter_mut().zip(inputs) {
                if let Ok(Some(bytes)) = self
                    .inner
                    .cache
                    .get(tenant, &embedding_key(&target, input))
                    .await
                {
                    *slot = decode_vector(&bytes);
                }
            }
        }
        let missing: Vec<usize> = (0..inputs.len())
            .filter(|i| vectors[*i].is_none())
            .collect();
        let cached = inputs.len() - missing.len();
        stats.served.cached = missing.is_empty();
        if !missing.is_empty() {
            let miss_inputs: Vec<String> = missing.iter().map(|i| inputs[*i].clone()).collect();
            let estimate = estimate_tokens(miss_inputs.iter().map(|i| i.chars().count()).sum());
            let endpoint = self.endpoint(&target.provider).map_err(|f| f.error)?;
            self.inner
                .budgets
                .reserve(tenant, &prepared.tier, estimate)
                .await?;
            let provider = &endpoint.provider;
            let model = target.model.as_str();
            let miss_ref = &miss_inputs;
            let (answer, admitted) = endpoint
                .call(
                    true,
                    endpoint.total_deadline(),
                    &mut stats.attempts,
                    |deadlines| provider.embed(model, miss_ref, deadlines),
                )
                .await
                .map_err(|f| f.error)?;
            admitted.breaker.success();
            if answer.vectors.len() != missing.len() {
                return Err(ModelError::Internal(
                    "provider returned the wrong number of embeddings".into(),
                ));
            }
            let input_tokens = answer.input_tokens.unwrap_or(estimate);
            stats.usage = Usage {
                input_tokens,
                output_tokens: 0,
            };
            self.inner
                .budgets
                .settle(tenant, &prepared.tier, estimate, input_tokens)
                .await;
            for (index, vector) in missing.iter().zip(answer.vectors) {
                if let Some(ttl) = ttl
                    && let Err(error) = self
                        .inner
                        .cache
                        .set(
                            tenant,
                            &embedding_key(&target, &inputs[*index]),
                            encode_vector(&vector),
                            ttl,
                        )
                        .await
                {
                    tracing::warn!(%tenant, %error, "embedding not cached");
                }
                vectors[*index] = Some(vector);
            }
        }
        Ok(Embeddings {
            vectors: vectors.into_iter().map(Option::unwrap_or_default).collect(),
            usage: stats.usage,
            model: target.model,
            cached,
        })
    }
}

//! `stream`: a completion as chunks, then one `End` with the usage.
//!
//! `stream()` itself returns once the first token is there (or the call
//! failed), so every error before the first chunk (budget, breaker,
//! timeouts, retries exhausted) is the `Err` of `stream()`; retries happen
//! only in that phase. After it, a task forwards chunks into a small
//! channel; an error then ends the stream with `Err` and is never retried
//! (the caller already has part of the answer). Dropping the
//! [`ModelStream`] is noticed at once: the task drops the upstream
//! response, which closes the provider connection.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::mpsc;
use tokio::time::Instant;
use warden_plugin_core::Tenant;

use super::{CallStats, ModelService, Prepared, check_request};
use crate::budget::estimate_tokens;
use crate::cache_keys::{CachedCompletion, completion_key};
use crate::endpoint::{Admitted, Failure};
use crate::policy::{Target, alias_config, resolve};
use crate::provider::{ChunkSource, ProviderError, ProviderEvent};
use crate::usage::Operation;
use crate::{CallContext, CompletionRequest, ModelError, StreamEvent, TimeoutStage, Usage};

/// Chunks buffered between the provider and a slow reader.
const BUFFER: usize = 16;

type Item = Result<StreamEvent, ModelError>;

/// A completion stream: `Chunk`s, then one `End` (or one `Err`), then
/// `None`. Drop it to cancel the upstream call.
#[derive(Debug)]
pub struct ModelStream {
    rx: mpsc::Receiver<Item>,
}

impl ModelStream {
    /// The next event; `None` after the last.
    pub async fn next(&mut self) -> Option<Item> {
        self.rx.recv().await
    }
}

impl futures_core::Stream for ModelStream {
    type Item = Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        self.rx.poll_recv(cx)
    }
}

/// The open phase's result: the source, the events up to the first text,
/// and whether the stream already ended.
type Opened = (Box<dyn ChunkSource>, Vec<ProviderEvent>, bool);

/// Everything the forwarding task owns.
struct Forward {
    service: ModelService,
    tenant: Tenant,
    ctx: CallContext,
    alias: String,
    tier: crate::config::TierConfig,
    estimate: u32,
    cache: Option<(String, std::time::Duration)>,
    total: Instant,
    started: Instant,
    stats: CallStats,
}

impl ModelService {
    /// Streams a completion of `request` for `tenant` (see the module docs
    /// for where errors surface). A cached deterministic completion is
    /// replayed as a stream.
    pub async fn stream(
        &self,
        tenant: &Tenant,
        ctx: &CallContext,
        request: CompletionRequest,
    ) -> Result<ModelStream, ModelError> {
        let started = Instant::now();
        let mut stats = CallStats::default();
        match self.open(tenant, ctx, &request, &mut stats, started).await {
            Ok(stream) => Ok(stream),
            Err(error) => {
                self.record(
                    tenant,
                    ctx,
                    Operation::Stream,
                    &request.alias,
                    stats,
                    started,
                    Some(error.clone()),
                    false,
                );
                Err(error)
            }
        }
    }

    async fn open(
        &self,
        tenant: &Tenant,
        ctx: &CallContext,
        request: &CompletionRequest,
        stats: &mut CallStats,
        started: Instant,
    ) -> Result<ModelStream, ModelError> {
        check_request(request)?;
        let prepared = self.prepare(tenant, request.prompt_chars()).await?;
        let alias = alias_config(&self.inner.aliases, &prepared.policy, &request.alias)?;
        let target = resolve(&request.alias, alias, tenant, ctx.stickiness())?;
        match self
            .open_target(tenant, ctx, &prepared, &target, request, stats, started)
            .await
        {
            Err(failure) if failure.breaker_open => {
                let Some(fallback) =
                    self.fallback(tenant, &prepared.policy, &request.alias, ctx.stickiness())
                else {
                    return Err(failure.error);
                };
                stats.served.fallback_from = Some(request.alias.clone());
                self.open_target(tenant, ctx, &prepared, &fallback, request, stats, started)
                    .await
                    .map_err(|f| f.error)
            }
            other => other.map_err(|f| f.error),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn open_target(
        &self,
        tenant: &Tenant,
        ctx: &CallContext,
        prepared: &Prepared,
        target: &Target,
        request: &CompletionRequest,
        stats: &mut CallStats,
        started: Instant,
    ) -> Result<ModelStream, Failure> {
        stats.target(target);
        let cache = Self::cache_ttl(&prepared.policy)
            .filter(|_| request.is_deterministic())
            .map(|ttl| (completion_key(target, request), ttl));
        if let Some((key, _)) = &cache
            && let Ok(Some(bytes)) = self.inner.cache.get(tenant, key).await
            && let Some(cached) = CachedCompletion::decode(&bytes)
        {
            stats.served.cached = true;
            stats.usage = cached.usage;
            stats.time_to_first_token = Some(started.elapsed());
            let stream = replay(cached, stats.served.clone());
            self.record(
                tenant,
                ctx,
                Operation::Stream,
                &request.alias,
                std::mem::take(stats),
                started,
                None,
                false,
            );
            return Ok(stream);
        }

        let endpoint = self.endpoint(&target.provider)?;
        self.inner
            .budgets
            .reserve(tenant, &prepared.tier, prepared.estimate)
            .await?;
        let provider = &endpoint.provider;
        let model = target.model.as_str();
        let total = endpoint.total_deadline();
        let ((source, head, ended), admitted) = endpoint
            .call(
                request.idempotent,
                total,
                &mut stats.attempts,
                |deadlines| async move {
                    let mut source = provider.stream(model, request, deadlines).await?;
                    let mut head = Vec::new();
                    loop {
                        match tokio::time::timeout_at(deadlines.first_token, source.next()).await {
                            Err(_) => return Err(ProviderError::Timeout(TimeoutStage::FirstToken)),
                            Ok(Err(error)) => return Err(error),
                            Ok(Ok(None)) => return Ok::<Opened, _>((source, head, true)),
                            Ok(Ok(Some(event))) => {
                                let text = matches!(event, ProviderEvent::Delta(_));
                                head.push(event);
                                if text {
                                    return Ok((source, head, false));
                                }
                            }
                        }
                    }
                },
            )
            .await?;
        stats.time_to_first_token = Some(started.elapsed());
        let (tx, rx) = mpsc::channel(BUFFER);
        let forward = Forward {
            service: self.clone(),
            tenant: tenant.clone(),
            ctx: ctx.clone(),
            alias: request.alias.clone(),
            tier: prepared.tier.clone(),
            estimate: prepared.estimate,
            cache,
            total,
            started,
            stats: std::mem::take(stats),
        };
        tokio::spawn(forward.run(source, head, ended, admitted, tx));
        Ok(ModelStream { rx })
    }
}

/// A cached completion as a stream: one chunk per word, then `End`.
fn replay(cached: CachedCompletion, served: crate::Served) -> ModelStream {
    let mut events: Vec<Item> = cached
        .text
        .split_inclusive(' ')
        .map(|word| Ok(StreamEvent::Chunk(word.to_string())))
        .collect();
    events.push(Ok(StreamEvent::End {
        finish_reason: cached.finish_reason,
        usage: cached.usage,
        served,
    }));
    let (tx, rx) = mpsc::channel(events.len().max(1));
    for event in events {
        // Capacity is the number of events: this never fails.
        let _ = tx.try_send(event);
    }
    ModelStream { rx }
}

impl Forward {
    async fn run(
        mut self,
        mut source: Box<dyn ChunkSource>,
        head: Vec<ProviderEvent>,
        mut ended: bool,
        admitted: Admitted,
        tx: mpsc::Sender<Item>,
    ) {
        let mut queue: VecDeque<ProviderEvent> = head.into();
        let mut text = String::new();
        let mut finish = String::from("stop");
        let mut usage = None;
        let mut error: Option<ProviderError> = None;
        let mut cancelled = false;
        loop {
            let event = match queue.pop_front() {
                Some(event) => Some(event),
                None if ended => None,
                None => tokio::select! {
                    () = tx.closed() => {
                        cancelled = true;
                        break;
                    }
                    next = tokio::time::timeout_at(self.total, source.next()) => match next {
                        Err(_) => {
                            error = Some(ProviderError::Timeout(TimeoutStage::Total));
                            break;
                        }
                        Ok(Err(e)) => {
                            error = Some(e);
                            break;
                        }
                        Ok(Ok(event)) => event,
                    },
                },
            };
            match event {
                None => {
                    ended = true;
                    break;
                }
                Some(ProviderEvent::Delta(chunk)) => {
                    text.push_str(&chunk);
                    if tx.send(Ok(StreamEvent::Chunk(chunk))).await.is_err() {
                        cancelled = true;
                        break;
                    }
                }
                Some(ProviderEvent::Finish(reason)) => finish = reason,
                Some(ProviderEvent::Usage(u)) => usage = Some(u),
            }
        }
        // Closes the upstream connection when the stream did not end.
        drop(source);
        match &error {
            Some(e) if e.is_provider_failure() => admitted.breaker.failure(),
            Some(_) => admitted.breaker.success(),
            None if cancelled => drop(admitted),
            None => admitted.breaker.success(),
        }
        let usage = usage.unwrap_or(Usage {
            input_tokens: self.estimate,
            output_tokens: estimate_tokens(text.chars().count()),
        });
        self.stats.usage = usage;
        let service = self.service.clone();
        service
            .inner
            .budgets
            .settle(&self.tenant, &self.tier, self.estimate, usage.total())
            .await;
        let error = error.map(ProviderError::into_model_error);
        if ended
            && error.is_none()
            && let Some((key, ttl)) = &self.cache
        {
            let value = CachedCompletion {
                text,
                finish_reason: finish.clone(),
                usage,
            };
            if let Err(e) = service
                .inner
                .cache
                .set(&self.tenant, key, value.encode(), *ttl)
                .await
            {
                tracing::warn!(tenant = %self.tenant, error = %e, "streamed completion not cached");
            }
        }
        let last = match &error {
            Some(e) => Err(e.clone()),
            None => Ok(StreamEvent::End {
                finish_reason: finish,
                usage,
                served: self.stats.served.clone(),
            }),
        };
        if !cancelled {
            let _ = tx.send(last).await;
        }
        service.record(
            &self.tenant,
            &self.ctx,
            Operation::Stream,
            &self.alias,
            self.stats,
            self.started,
            error,
            cancelled,
        );
    }
}

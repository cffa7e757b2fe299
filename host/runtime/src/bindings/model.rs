//! `warden:platform/model` on the [`warden_plugin_model::ModelService`].
//!
//! The service does the work (aliases, cache, budgets, resilience); this
//! module only translates WIT to the plugin's types and back, and scopes
//! every call: the tenant comes from the route, the function, request id
//! and subject (for sticky A/B variants) from the request, never from the
//! guest.
//!
//! A `completion-stream` is the plugin's [`ModelStream`] in the request's
//! resource table, so it counts against the table's cap like every other
//! host-side resource; `next` awaits the plugin's bounded channel (a guest
//! that reads slowly slows the provider down), and dropping the resource,
//! or the whole store when the request ends, drops the stream, which
//! cancels the provider call.

use std::sync::Arc;
use std::time::Duration;

use warden_plugin_core::Tenant;
use warden_plugin_model::{
    CallContext, CompletionRequest, Message, ModelError, ModelService, ModelStream, Role, Served,
    StreamEvent, TimeoutStage, Usage,
};
use warden_world::model::{self as wit, ChunkOrEnd, Completion, Error, Request, StreamEnd};
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

/// Streams one request may hold open at once: each holds a provider
/// connection, so a loop that opens and never reads must not tie up the
/// provider's bulkhead for everyone.
pub const MAX_OPEN_STREAMS: usize = 16;

/// The node's model service.
pub struct ModelCtx {
    service: Arc<ModelService>,
}

impl std::fmt::Debug for ModelCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelCtx").finish_non_exhaustive()
    }
}

impl ModelCtx {
    /// The context over `service`.
    pub fn new(service: Arc<ModelService>) -> Self {
        Self { service }
    }

    /// The service (tenant policies are set on it).
    pub fn service(&self) -> &Arc<ModelService> {
        &self.service
    }
}

/// What one request's model calls carry besides the tenant: who calls, for
/// usage records and A/B stickiness, and how many streams it has open.
#[derive(Debug, Default)]
pub struct ModelCall {
    /// The plugin's call context: function, subject, request id.
    pub context: CallContext,
    /// Streams opened and not yet dropped.
    pub open_streams: usize,
}

impl ModelCall {
    /// A request of `function` with id `request_id`, by `subject` (the
    /// verified principal's, if any).
    pub fn new(function: &str, request_id: &str, subject: Option<&str>) -> Self {
        Self {
            context: CallContext {
                function: function.to_string(),
                subject: subject.map(str::to_string),
                request_id: request_id.to_string(),
            },
            open_streams: 0,
        }
    }
}

/// One request's view of the model capability.
pub struct ModelView<'a> {
    ctx: &'a ModelCtx,
    tenant: &'a Tenant,
    table: &'a mut ResourceTable,
    call: &'a mut ModelCall,
}

impl<'a> ModelView<'a> {
    /// `tenant`'s view of `ctx`, with the request's resource `table` (which
    /// holds its streams) and `call`.
    pub fn new(
        ctx: &'a ModelCtx,
        tenant: &'a Tenant,
        table: &'a mut ResourceTable,
        call: &'a mut ModelCall,
    ) -> Self {
        Self {
            ctx,
            tenant,
            table,
            call,
        }
    }
}

struct ModelBinding;
impl HasData for ModelBinding {
    type Data<'a> = ModelView<'a>;
}

/// Adds `warden:platform/model` to `linker`, reaching the view through `view`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> ModelView<'_>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, ModelBinding>(linker, view)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The guest-visible error of a plugin error.
pub fn to_wit(e: ModelError) -> Error {
    match e {
        ModelError::Timeout(stage) => Error::Timeout(match stage {
            TimeoutStage::Connect => wit::TimeoutStage::Connect,
            TimeoutStage::FirstToken => wit::TimeoutStage::FirstToken,
            TimeoutStage::Total => wit::TimeoutStage::Total,
        }),
        ModelError::RateLimited { retry_after } => Error::RateLimited(millis(retry_after)),
        ModelError::BudgetExhausted { retry_after } => Error::BudgetExhausted(millis(retry_after)),
        ModelError::Unavailable(why) => Error::Unavailable(why),
        ModelError::InvalidRequest(why) => Error::InvalidRequest(why),
        ModelError::ContentTooLarge(why) => Error::ContentTooLarge(why),
        ModelError::Internal(why) => Error::Internal(why),
    }
}

fn from_wit(request: Request) -> CompletionRequest {
    CompletionRequest {
        alias: request.model,
        messages: request
            .messages
            .into_iter()
            .map(|m| Message {
                role: match m.role {
                    wit::Role::System => Role::System,
                    wit::Role::User => Role::User,
                    wit::Role::Assistant => Role::Assistant,
                },
                content: m.content,
            })
            .collect(),
        temperature: request.temperature,
        top_p: request.top_p,
        seed: request.seed,
        max_tokens: request.max_tokens,
        stop: request.stop,
        idempotent: request.idempotent,
    }
}

fn usage_to_wit(usage: Usage, served: Served) -> wit::Usage {
    wit::Usage {
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        model_used: served.model,
        variant: served.variant,
        from_cache: served.cached,
        similarity: served.similarity,
        fallback_from: served.fallback_from,
    }
}

impl wit::Host for ModelView<'_> {
    async fn complete(&mut self, request: Request) -> wasmtime::Result<Result<Completion, Error>> {
        let result = self
            .ctx
            .service
            .complete(self.tenant, &self.call.context, from_wit(request))
            .await;
        Ok(result
            .map(|c| Completion {
                text: c.text,
                finish_reason: c.finish_reason,
                usage: usage_to_wit(c.usage, c.served),
            })
            .map_err(to_wit))
    }

    async fn stream(
        &mut self,
        request: Request,
    ) -> wasmtime::Result<Result<Resource<ModelStream>, Error>> {
        if self.call.open_streams >= MAX_OPEN_STREAMS {
            return Ok(Err(Error::InvalidRequest(format!(
                "at most {MAX_OPEN_STREAMS} model streams may be open at once; drop one first"
            ))));
        }
        let stream = match self
            .ctx
            .service
            .stream(self.tenant, &self.call.context, from_wit(request))
            .await
        {
            Ok(stream) => stream,
            Err(e) => return Ok(Err(to_wit(e))),
        };
        // A full table traps the guest with the resource error, as it
        // does for wasi:http's resources; the stream is dropped with it.
        let handle = self.table.push(stream)?;
        self.call.open_streams += 1;
        Ok(Ok(handle))
    }

    async fn embed(
        &mut self,
        model: String,
        inputs: Vec<String>,
    ) -> wasmtime::Result<Result<Vec<Vec<f32>>, Error>> {
        Ok(self
            .ctx
            .service
            .embed(self.tenant, &self.call.context, &model, inputs)
            .await
            .map(|e| e.vectors)
            .map_err(to_wit))
    }
}

impl wit::HostCompletionStream for ModelView<'_> {
    async fn next(
        &mut self,
        stream: Resource<ModelStream>,
    ) -> wasmtime::Result<Result<Option<ChunkOrEnd>, Error>> {
        let stream = self.table.get_mut(&stream)?;
        Ok(match stream.next().await {
            None => Ok(None),
            Some(Ok(StreamEvent::Chunk(text))) => Ok(Some(ChunkOrEnd::Chunk(text))),
            Some(Ok(StreamEvent::End {
                finish_reason,
                usage,
                served,
            })) => Ok(Some(ChunkOrEnd::End(StreamEnd {
                finish_reason,
                usage: usage_to_wit(usage, served),
            }))),
            Some(Err(e)) => Err(to_wit(e)),
        })
    }

    async fn drop(&mut self, stream: Resource<ModelStream>) -> wasmtime::Result<()> {
        // Dropping the plugin's stream cancels the provider call.
        self.table.delete(stream)?;
        self.call.open_streams = self.call.open_streams.saturating_sub(1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_keeps_its_kind_and_retry_hint() {
        let cases = [
            (
                ModelError::Timeout(TimeoutStage::FirstToken),
                Error::Timeout(wit::TimeoutStage::FirstToken),
            ),
            (
                ModelError::RateLimited {
                    retry_after: Duration::from_millis(1500),
                },
                Error::RateLimited(1500),
            ),
            (
                ModelError::BudgetExhausted {
                    retry_after: Duration::from_secs(2),
                },
                Error::BudgetExhausted(2000),
            ),
            (
                ModelError::ContentTooLarge("big".into()),
                Error::ContentTooLarge("big".into()),
            ),
        ];
        for (plugin, guest) in cases {
            assert_eq!(format!("{:?}", to_wit(plugin)), format!("{guest:?}"));
        }
    }

    #[test]
    fn requests_keep_every_parameter() {
        let request = from_wit(Request {
            model: "chat".into(),
            messages: vec![wit::Message {
                role: wit::Role::System,
                content: "be brief".into(),
            }],
            temperature: Some(0.0),
            top_p: Some(0.5),
            seed: Some(7),
            max_tokens: Some(9),
            stop: vec!["\n".into()],
            idempotent: false,
        });
        assert_eq!(request.alias, "chat");
        assert_eq!(request.messages, vec![Message::system("be brief")]);
        assert_eq!(
            (request.temperature, request.top_p, request.seed),
            (Some(0.0), Some(0.5), Some(7))
        );
        assert_eq!((request.max_tokens, request.idempotent), (Some(9), false));
        assert_eq!(request.stop, ["\n"]);
    }
}

//! One configured provider with its resilience: circuit breaker, bulkhead,
//! retry budget, timeouts; and the retry loop every call goes through.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::breaker::{Breaker, BreakerGuard};
use crate::config::ResilienceConfig;
use crate::provider::{Deadlines, Provider, ProviderError};
use crate::retry::{RetryBudget, backoff};
use crate::{ModelError, TimeoutStage};

/// How long a caller is asked to wait when the bulkhead is full.
const BULKHEAD_RETRY_AFTER: Duration = Duration::from_millis(100);

/// A failed call, with whether it failed because the breaker was open
/// (the one case where an alias's fallback is used).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{error}")]
pub(crate) struct Failure {
    pub(crate) error: ModelError,
    pub(crate) breaker_open: bool,
}

impl From<ModelError> for Failure {
    fn from(error: ModelError) -> Self {
        Self {
            error,
            breaker_open: false,
        }
    }
}

/// What a successful attempt holds until the caller is done with the
/// provider (a stream holds it to its end).
pub(crate) struct Admitted {
    _permit: OwnedSemaphorePermit,
    pub(crate) breaker: BreakerGuard,
}

pub(crate) struct Endpoint {
    pub(crate) name: String,
    pub(crate) provider: Arc<dyn Provider>,
    pub(crate) breaker: Arc<Breaker>,
    bulkhead: Arc<Semaphore>,
    retry_budget: RetryBudget,
    resilience: ResilienceConfig,
}

impl Endpoint {
    pub(crate) fn new(
        name: &str,
        provider: Arc<dyn Provider>,
        resilience: &ResilienceConfig,
    ) -> Self {
        Self {
            name: name.into(),
            provider,
            breaker: Breaker::new(resilience.breaker.clone()),
            bulkhead: Arc::new(Semaphore::new(resilience.max_concurrent)),
            retry_budget: RetryBudget::new(resilience),
            resilience: resilience.clone(),
        }
    }

    /// The deadline of a call starting now.
    pub(crate) fn total_deadline(&self) -> Instant {
        Instant::now() + Duration::from_millis(self.resilience.total_timeout_ms)
    }

    /// Runs `attempt` until it succeeds or may not be retried.
    ///
    /// An attempt is retried only when the request is idempotent, the
    /// error is retryable, retries are left (count and budget) and the
    /// wait fits before `total`. A 429 waits its `retry-after`; others
    /// wait a full-jitter backoff. `attempts` counts the attempts made.
    pub(crate) async fn call<T, F, Fut>(
        &self,
        idempotent: bool,
        total: Instant,
        attempts: &mut u32,
        mut attempt: F,
    ) -> Result<(T, Admitted), Failure>
    where
        F: FnMut(Deadlines) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        self.retry_budget.record_call();
        loop {
            let Some(breaker) = self.breaker.admit() else {
                return Err(Failure {
                    error: ModelError::Unavailable(format!(
                        "circuit breaker open for provider {}",
                        self.name
                    )),
                    breaker_open: true,
                });
            };
            let Ok(permit) = self.bulkhead.clone().try_acquire_owned() else {
                return Err(ModelError::RateLimited {
                    retry_after: BULKHEAD_RETRY_AFTER,
                }
                .into());
            };
            *attempts += 1;
            let deadlines = Deadlines {
                first_token: Instant::now()
                    + Duration::from_millis(self.resilience.first_token_timeout_ms),
                total,
            };
            let result = match tokio::time::timeout_at(total, attempt(deadlines)).await {
                Ok(result) => result,
                Err(_) => Err(ProviderError::Timeout(TimeoutStage::Total)),
            };
            let error = match result {
                Ok(value) => {
                    return Ok((
                        value,
                        Admitted {
                            _permit: permit,
                            breaker,
                        },
                    ));
                }
                Err(error) => error,
            };
            if error.is_provider_failure() {
                breaker.failure();
            } else {
                breaker.success();
            }
            drop(permit);
            tracing::debug!(provider = %self.name, %error, attempt = *attempts, "model attempt failed");
            let delay = match &error {
                ProviderError::Status {
                    status: 429,
                    retry_after: Some(after),
                    ..
                } => *after,
                _ => backoff(&self.resilience, *attempts - 1),
            };
            let may_retry = idempotent
                && error.is_retryable()
                && *attempts <= self.resilience.max_retries
                && Instant::now() + delay < total
                && self.retry_budget.try_retry();
            if !may_retry {
                return Err(error.into_model_error().into());
            }
            tokio::time::sleep(delay).await;
        }
    }
}

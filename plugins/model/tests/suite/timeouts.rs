//! Each deadline fires with its own error.

use std::time::Duration;

use warden_plugin_model::{CompletionRequest, ModelError, ResilienceConfig, TimeoutStage};
use warden_plugin_testing::fake_openai::{Blackhole, FakeOpenAi};

use crate::fixtures::{CHAT, ctx, drain, fast, harness, openai, tenant};

fn no_retries(r: ResilienceConfig) -> ResilienceConfig {
    ResilienceConfig {
        max_retries: 0,
        ..r
    }
}

#[tokio::test]
async fn connect_timeout_fires_when_the_provider_never_accepts() {
    let hole = Blackhole::start();
    let resilience = no_retries(ResilienceConfig {
        connect_timeout_ms: 100,
        ..fast()
    });
    let h = harness(&openai(&hole.base_url(), resilience)).await;
    let err = h
        .service
        .complete(&tenant(), &ctx(), CompletionRequest::user("chat", "hi"))
        .await
        .unwrap_err();
    assert_eq!(err, ModelError::Timeout(TimeoutStage::Connect));
}

#[tokio::test]
async fn first_token_timeout_fires_when_headers_are_late() {
    let fake = FakeOpenAi::start().await;
    fake.set_header_delay(Duration::from_secs(3));
    let resilience = no_retries(ResilienceConfig {
        first_token_timeout_ms: 100,
        ..fast()
    });
    let h = harness(&openai(&fake.base_url(), resilience)).await;
    let err = h
        .service
        .complete(&tenant(), &ctx(), CompletionRequest::user("chat", "hi"))
        .await
        .unwrap_err();
    assert_eq!(err, ModelError::Timeout(TimeoutStage::FirstToken));
    let err = h
        .service
        .stream(&tenant(), &ctx(), CompletionRequest::user("chat", "hi"))
        .await
        .unwrap_err();
    assert_eq!(err, ModelError::Timeout(TimeoutStage::FirstToken));
    assert_eq!(fake.requests(CHAT), 2);
}

#[tokio::test]
async fn total_timeout_fires_on_a_slow_answer_and_mid_stream() {
    let fake = FakeOpenAi::start().await;
    let resilience = no_retries(ResilienceConfig {
        total_timeout_ms: 300,
        ..fast()
    });
    let h = harness(&openai(&fake.base_url(), resilience)).await;

    fake.set_header_delay(Duration::from_secs(3));
    let err = h
        .service
        .complete(&tenant(), &ctx(), CompletionRequest::user("chat", "hi"))
        .await
        .unwrap_err();
    assert_eq!(err, ModelError::Timeout(TimeoutStage::Total));

    // Headers and the first chunk come at once; the rest is too slow.
    fake.set_header_delay(Duration::ZERO);
    fake.set_chunk_delay(Duration::from_millis(200));
    let stream = h
        .service
        .stream(&tenant(), &ctx(), CompletionRequest::user("chat", "hi"))
        .await
        .unwrap();
    let (chunks, last) = drain(stream).await;
    assert!(!chunks.is_empty() && chunks.len() < 8, "{chunks:?}");
    assert_eq!(last, Some(Err(ModelError::Timeout(TimeoutStage::Total))));
}

//! Retries happen only where they are safe, counted at the fake.

use std::time::Duration;

use warden_plugin_model::{CompletionRequest, ModelError, ResilienceConfig};
use warden_plugin_testing::fake_openai::{FakeOpenAi, Fault};

use crate::fixtures::{CHAT, ctx, drain, fast, harness, openai, tenant};

#[tokio::test]
async fn idempotent_requests_are_retried_through_5xx_and_resets() {
    let fake = FakeOpenAi::start().await;
    fake.push_fault(Fault::Status(503));
    fake.push_fault(Fault::Reset);
    let h = harness(&openai(&fake.base_url(), fast())).await;
    let completion = h
        .service
        .complete(&tenant(), &ctx(), CompletionRequest::user("chat", "hi"))
        .await
        .unwrap();
    assert_eq!(completion.text, "this is a fake completion of eight words");
    assert_eq!(fake.requests(CHAT), 3);
    assert_eq!(h.usage.records()[0].attempts, 3);
}

#[tokio::test]
async fn a_non_idempotent_request_is_tried_once() {
    let fake = FakeOpenAi::start().await;
    fake.push_fault(Fault::Status(503));
    let h = harness(&openai(&fake.base_url(), fast())).await;
    let request = CompletionRequest {
        idempotent: false,
        ..CompletionRequest::user("chat", "charge the card")
    };
    let err = h
        .service
        .complete(&tenant(), &ctx(), request)
        .await
        .unwrap_err();
    assert!(matches!(err, ModelError::Unavailable(_)), "{err:?}");
    assert_eq!(fake.requests(CHAT), 1);
}

#[tokio::test]
async fn a_stream_is_retried_before_its_first_chunk_but_not_after() {
    let fake = FakeOpenAi::start().await;
    let h = harness(&openai(&fake.base_url(), fast())).await;

    fake.push_fault(Fault::Status(502));
    let stream = h
        .service
        .stream(&tenant(), &ctx(), CompletionRequest::user("chat", "hi"))
        .await
        .unwrap();
    let (chunks, last) = drain(stream).await;
    assert_eq!(chunks.len(), 8);
    assert!(matches!(last, Some(Ok(_))), "{last:?}");
    assert_eq!(fake.requests(CHAT), 2, "one failed attempt, one good one");

    fake.push_fault(Fault::DropMidStream { after_chunks: 2 });
    let stream = h
        .service
        .stream(&tenant(), &ctx(), CompletionRequest::user("chat", "hi"))
        .await
        .unwrap();
    let (chunks, last) = drain(stream).await;
    assert_eq!(chunks.len(), 2);
    assert!(
        matches!(last, Some(Err(ModelError::Unavailable(_)))),
        "{last:?}"
    );
    assert_eq!(fake.requests(CHAT), 3, "the cut stream was not retried");
}

#[tokio::test]
async fn malformed_sse_is_an_internal_error_and_not_retried() {
    let fake = FakeOpenAi::start().await;
    fake.push_fault(Fault::MalformedSse);
    let h = harness(&openai(&fake.base_url(), fast())).await;
    let err = h
        .service
        .stream(&tenant(), &ctx(), CompletionRequest::user("chat", "hi"))
        .await
        .unwrap_err();
    assert!(matches!(err, ModelError::Internal(_)), "{err:?}");
    assert_eq!(fake.requests(CHAT), 1);
}

#[tokio::test]
async fn retry_after_of_a_429_is_waited_for() {
    let fake = FakeOpenAi::start().await;
    fake.push_fault(Fault::RateLimited {
        retry_after_secs: 1,
    });
    let h = harness(&openai(&fake.base_url(), fast())).await;
    h.service
        .complete(&tenant(), &ctx(), CompletionRequest::user("chat", "hi"))
        .await
        .unwrap();
    let arrivals = fake.arrivals();
    assert_eq!(arrivals.len(), 2);
    // A lower bound only: the retry came no earlier than retry-after.
    assert!(arrivals[1] - arrivals[0] >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_429_that_outlasts_the_deadline_is_handed_to_the_guest() {
    let fake = FakeOpenAi::start().await;
    fake.push_fault(Fault::RateLimited {
        retry_after_secs: 120,
    });
    let resilience = ResilienceConfig {
        total_timeout_ms: 5_000,
        ..fast()
    };
    let h = harness(&openai(&fake.base_url(), resilience)).await;
    let err = h
        .service
        .complete(&tenant(), &ctx(), CompletionRequest::user("chat", "hi"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ModelError::RateLimited {
            retry_after: Duration::from_secs(120)
        }
    );
    assert_eq!(fake.requests(CHAT), 1);
}

#[tokio::test]
async fn the_retry_budget_caps_retries() {
    let fake = FakeOpenAi::start().await;
    for _ in 0..10 {
        fake.push_fault(Fault::Status(500));
    }
    let resilience = ResilienceConfig {
        max_retries: 5,
        retry_budget_min: 1,
        retry_budget_percent: 0,
        breaker: warden_plugin_model::BreakerConfig {
            consecutive_failures: 100,
            min_calls: 100,
            ..Default::default()
        },
        ..fast()
    };
    let h = harness(&openai(&fake.base_url(), resilience)).await;
    for _ in 0..3 {
        let _ = h
            .service
            .complete(&tenant(), &ctx(), CompletionRequest::user("chat", "hi"))
            .await;
    }
    assert_eq!(
        fake.requests(CHAT),
        4,
        "3 calls and the one retry the budget allows"
    );
}

//! The breaker opens, half-opens and closes; the fallback alias serves
//! while it is open; a full bulkhead fails fast.

use std::time::Duration;

use warden_plugin_model::{
    AliasConfig, BreakerConfig, BreakerState, CompletionRequest, ModelError, ResilienceConfig,
};
use warden_plugin_testing::fake_openai::{FakeOpenAi, Fault};

use crate::fixtures::{CHAT, ctx, fast, harness, openai, tenant};

fn breaking() -> ResilienceConfig {
    ResilienceConfig {
        max_retries: 0,
        breaker: BreakerConfig {
            consecutive_failures: 3,
            cool_down_ms: 300,
            ..BreakerConfig::default()
        },
        ..fast()
    }
}

#[tokio::test]
async fn opens_after_consecutive_failures_half_opens_and_closes() {
    let fake = FakeOpenAi::start().await;
    for _ in 0..4 {
        fake.push_fault(Fault::Status(500));
    }
    let h = harness(&openai(&fake.base_url(), breaking())).await;
    let (t, c) = (tenant(), ctx());
    let call = || {
        h.service
            .complete(&t, &c, CompletionRequest::user("chat", "hi"))
    };
    for _ in 0..3 {
        assert!(matches!(call().await, Err(ModelError::Unavailable(_))));
    }
    assert_eq!(h.service.breaker_state("fake"), Some(BreakerState::Open));
    let err = call().await.unwrap_err();
    assert!(
        matches!(err, ModelError::Unavailable(ref m) if m.contains("breaker")),
        "{err:?}"
    );
    assert_eq!(fake.requests(CHAT), 3, "an open breaker does not call");

    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        h.service.breaker_state("fake"),
        Some(BreakerState::HalfOpen)
    );
    // The probe fails (fourth fault): open again.
    assert!(call().await.is_err());
    assert_eq!(h.service.breaker_state("fake"), Some(BreakerState::Open));

    tokio::time::sleep(Duration::from_millis(400)).await;
    call().await.unwrap();
    assert_eq!(h.service.breaker_state("fake"), Some(BreakerState::Closed));
    call().await.unwrap();
    assert_eq!(fake.requests(CHAT), 6);
}

#[tokio::test]
async fn the_fallback_alias_serves_while_the_breaker_is_open() {
    let fake = FakeOpenAi::start().await;
    for _ in 0..3 {
        fake.push_fault(Fault::Status(500));
    }
    let mut config = openai(&fake.base_url(), breaking());
    config.aliases.insert(
        "chat".into(),
        AliasConfig {
            fallback: Some("small".into()),
            ..AliasConfig::new("fake", "fake-model")
        },
    );
    let h = harness(&config).await;
    for _ in 0..3 {
        assert!(
            h.service
                .complete(&tenant(), &ctx(), CompletionRequest::user("chat", "hi"))
                .await
                .is_err()
        );
    }
    let served = h
        .service
        .complete(&tenant(), &ctx(), CompletionRequest::user("chat", "hi"))
        .await
        .unwrap();
    assert_eq!(served.served.model, "builtin-small");
    assert_eq!(served.served.fallback_from.as_deref(), Some("chat"));
    let last = h.usage.records().pop().unwrap();
    assert_eq!(last.provider, "builtin");
    assert_eq!(last.served.fallback_from.as_deref(), Some("chat"));
    assert_eq!(fake.requests(CHAT), 3);
}

#[tokio::test]
async fn a_full_bulkhead_fails_fast_with_rate_limited() {
    let fake = FakeOpenAi::start().await;
    fake.set_header_delay(Duration::from_millis(500));
    let resilience = ResilienceConfig {
        max_concurrent: 1,
        ..fast()
    };
    let h = harness(&openai(&fake.base_url(), resilience)).await;
    let (t, c) = (tenant(), ctx());
    let first = h
        .service
        .complete(&t, &c, CompletionRequest::user("chat", "one"));
    let second = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        h.service
            .complete(&tenant(), &ctx(), CompletionRequest::user("chat", "two"))
            .await
    };
    let (first, second) = tokio::join!(first, second);
    assert!(first.is_ok());
    assert!(
        matches!(second, Err(ModelError::RateLimited { .. })),
        "{second:?}"
    );
    assert_eq!(fake.requests(CHAT), 1);
}

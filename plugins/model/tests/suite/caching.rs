//! What is cached, single flight on misses, replay as a stream, warm-up.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::task::JoinSet;
use warden_plugin_model::{CompletionRequest, StreamEvent};
use warden_plugin_testing::fake_openai::FakeOpenAi;

use crate::fixtures::{CHAT, EMBEDDINGS, ctx, deterministic, drain, fast, harness, openai, tenant};

#[tokio::test]
async fn a_cached_hit_makes_no_upstream_call() {
    let fake = FakeOpenAi::start().await;
    let h = harness(&openai(&fake.base_url(), fast())).await;
    let first = h
        .service
        .complete(&tenant(), &ctx(), deterministic("chat", "hi"))
        .await
        .unwrap();
    // Whitespace differences normalize to the same key.
    let second = h
        .service
        .complete(&tenant(), &ctx(), deterministic("chat", "  hi "))
        .await
        .unwrap();
    assert_eq!(fake.requests(CHAT), 1);
    assert!(!first.served.cached);
    assert!(second.served.cached);
    assert_eq!(first.text, second.text);
    let records = h.usage.records();
    assert_eq!((records[0].attempts, records[1].attempts), (1, 0));
    assert!(records[1].served.cached);
}

#[tokio::test]
async fn non_deterministic_requests_are_not_cached() {
    let fake = FakeOpenAi::start().await;
    let h = harness(&openai(&fake.base_url(), fast())).await;
    for _ in 0..2 {
        h.service
            .complete(&tenant(), &ctx(), CompletionRequest::user("chat", "hi"))
            .await
            .unwrap();
    }
    assert_eq!(fake.requests(CHAT), 2);
    // A seed makes it cacheable.
    for _ in 0..2 {
        let seeded = CompletionRequest {
            seed: Some(7),
            ..CompletionRequest::user("chat", "hi")
        };
        h.service.complete(&tenant(), &ctx(), seeded).await.unwrap();
    }
    assert_eq!(fake.requests(CHAT), 3);
    assert_eq!(fake.bodies(CHAT)[2]["seed"], json!(7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_identical_concurrent_requests_reach_the_provider_once() {
    let fake = FakeOpenAi::start().await;
    fake.set_header_delay(Duration::from_millis(200));
    let h = Arc::new(harness(&openai(&fake.base_url(), fast())).await);
    let mut tasks = JoinSet::new();
    for _ in 0..100 {
        let h = h.clone();
        tasks.spawn(async move {
            h.service
                .complete(
                    &tenant(),
                    &ctx(),
                    deterministic("chat", "the same question"),
                )
                .await
                .unwrap()
                .text
        });
    }
    while let Some(text) = tasks.join_next().await {
        assert_eq!(text.unwrap(), "this is a fake completion of eight words");
    }
    assert_eq!(fake.requests(CHAT), 1);
    let records = h.usage.records();
    assert_eq!(records.len(), 100);
    assert_eq!(records.iter().filter(|r| !r.served.cached).count(), 1);
}

#[tokio::test]
async fn a_cached_completion_replays_as_a_stream_and_a_stream_fills_the_cache() {
    let fake = FakeOpenAi::start().await;
    let h = harness(&openai(&fake.base_url(), fast())).await;
    let done = h
        .service
        .complete(&tenant(), &ctx(), deterministic("chat", "a"))
        .await
        .unwrap();
    let stream = h
        .service
        .stream(&tenant(), &ctx(), deterministic("chat", "a"))
        .await
        .unwrap();
    let (chunks, last) = drain(stream).await;
    assert_eq!(chunks.concat(), done.text);
    assert!(matches!(last, Some(Ok(StreamEvent::End { ref served, .. })) if served.cached));
    assert_eq!(fake.requests(CHAT), 1);

    let stream = h
        .service
        .stream(&tenant(), &ctx(), deterministic("chat", "b"))
        .await
        .unwrap();
    let (streamed, _) = drain(stream).await;
    let again = h
        .service
        .complete(&tenant(), &ctx(), deterministic("chat", "b"))
        .await
        .unwrap();
    assert!(again.served.cached);
    assert_eq!(again.text, streamed.concat());
    assert_eq!(fake.requests(CHAT), 2);
    assert_eq!(
        fake.bodies(CHAT)[1]["stream_options"]["include_usage"],
        json!(true)
    );
}

#[tokio::test]
async fn embeddings_are_cached_per_input() {
    let fake = FakeOpenAi::start().await;
    let h = harness(&openai(&fake.base_url(), fast())).await;
    let first = h
        .service
        .embed(&tenant(), &ctx(), "embed", vec!["a".into(), "b".into()])
        .await
        .unwrap();
    let second = h
        .service
        .embed(&tenant(), &ctx(), "embed", vec!["b".into(), "c".into()])
        .await
        .unwrap();
    assert_eq!(first.vectors[1], second.vectors[0]);
    assert_eq!(second.cached, 1);
    let bodies = fake.bodies(EMBEDDINGS);
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[1]["input"], json!(["c"]));
}

#[tokio::test]
async fn warm_up_prefetches_so_the_first_caller_hits() {
    let fake = FakeOpenAi::start().await;
    let h = harness(&openai(&fake.base_url(), fast())).await;
    let prompts = vec![
        deterministic("chat", "faq one"),
        deterministic("chat", "faq two"),
        CompletionRequest::user("chat", "not cacheable"),
    ];
    let report = h.service.warm_up(&tenant(), "quote", prompts.clone()).await;
    assert_eq!(
        (
            report.loaded,
            report.already_cached,
            report.skipped,
            report.failed
        ),
        (2, 0, 1, 0)
    );
    let again = h.service.warm_up(&tenant(), "quote", prompts).await;
    assert_eq!(again.already_cached, 2);
    let hit = h
        .service
        .complete(&tenant(), &ctx(), deterministic("chat", "faq one"))
        .await
        .unwrap();
    assert!(hit.served.cached);
    assert_eq!(fake.requests(CHAT), 2);
}

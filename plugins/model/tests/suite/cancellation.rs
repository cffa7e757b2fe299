//! Dropping a stream mid-way closes the upstream connection.

use std::time::Duration;

use warden_plugin_model::{CompletionRequest, StreamEvent};
use warden_plugin_testing::fake_openai::FakeOpenAi;

use crate::fixtures::{ctx, fast, harness, openai, tenant};

#[tokio::test]
async fn dropping_a_stream_disconnects_from_the_provider() {
    let fake = FakeOpenAi::start().await;
    fake.set_reply(&"word ".repeat(50));
    fake.set_chunk_delay(Duration::from_millis(20));
    let h = harness(&openai(&fake.base_url(), fast())).await;
    let mut stream = h
        .service
        .stream(
            &tenant(),
            &ctx(),
            CompletionRequest::user("chat", "tell me a long story"),
        )
        .await
        .unwrap();
    for _ in 0..2 {
        assert!(matches!(
            stream.next().await,
            Some(Ok(StreamEvent::Chunk(_)))
        ));
    }
    drop(stream);
    assert!(
        fake.wait_for_disconnects(1, Duration::from_secs(10)).await,
        "the fake saw no disconnect"
    );
    assert_eq!(fake.completed_streams(), 0);
    // The usage record says the caller cancelled.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while h.usage.records().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let record = h.usage.records().pop().unwrap();
    assert!(record.cancelled);
    assert!(record.time_to_first_token.is_some());
}

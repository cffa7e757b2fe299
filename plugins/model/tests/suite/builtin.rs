//! The builtin provider: deterministic, streams token by token, and its
//! embeddings rank texts that share words above unrelated ones.

use warden_plugin_model::{CompletionRequest, Config, Message, StreamEvent, cosine};

use crate::fixtures::{ctx, drain, harness, tenant};

#[tokio::test]
async fn the_same_request_gives_the_same_answer_and_the_seed_changes_it() {
    let h = harness(&Config::default()).await;
    let request = |seed| CompletionRequest {
        seed: Some(seed),
        ..CompletionRequest::new(
            "chat",
            vec![Message::system("be brief"), Message::user("hello")],
        )
    };
    // Two services: no shared cache, so this is the provider itself.
    let other = harness(&Config::default()).await;
    let a = h
        .service
        .complete(&tenant(), &ctx(), request(1))
        .await
        .unwrap();
    let b = other
        .service
        .complete(&tenant(), &ctx(), request(1))
        .await
        .unwrap();
    assert_eq!(a.text, b.text);
    assert!(!b.served.cached);
    let mut seeds = std::collections::HashSet::new();
    for seed in 100..105 {
        seeds.insert(
            h.service
                .complete(&tenant(), &ctx(), request(seed))
                .await
                .unwrap()
                .text,
        );
    }
    assert!(seeds.len() > 1, "seeds change the answer");

    let stream = other
        .service
        .stream(&tenant(), &ctx(), request(2))
        .await
        .unwrap();
    let (chunks, last) = drain(stream).await;
    let whole = h
        .service
        .complete(&tenant(), &ctx(), request(2))
        .await
        .unwrap();
    assert!(chunks.len() > 1, "token by token");
    assert_eq!(chunks.concat(), whole.text);
    let Some(Ok(StreamEvent::End { usage, .. })) = last else {
        panic!("no end: {last:?}");
    };
    assert_eq!(usage, whole.usage);
}

#[tokio::test]
async fn embeddings_rank_a_text_sharing_words_above_unrelated_ones() {
    let h = harness(&Config::default()).await;
    let texts = vec![
        "how do I reset my password".to_string(),
        "password reset instructions for my account".to_string(),
        "the weather in paris is sunny today".to_string(),
        "best sourdough bread recipe".to_string(),
    ];
    let e = h
        .service
        .embed(&tenant(), &ctx(), "embed", texts)
        .await
        .unwrap();
    assert!(e.vectors.iter().all(|v| v.len() == 64));
    let norm: f32 = e.vectors[0].iter().map(|x| x * x).sum();
    assert!((norm - 1.0).abs() < 1e-4);
    let scores: Vec<f32> = e.vectors[1..]
        .iter()
        .map(|v| cosine(&e.vectors[0], v))
        .collect();
    assert!(scores[0] > scores[1] && scores[0] > scores[2], "{scores:?}");
}

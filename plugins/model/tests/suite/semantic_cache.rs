//! The semantic cache serves a near-duplicate prompt, not an unrelated one.

use std::collections::BTreeMap;

use warden_plugin_model::{SemanticConfig, TenantPolicy};
use warden_plugin_testing::fake_openai::FakeOpenAi;

use crate::fixtures::{CHAT, ctx, deterministic, fast, harness, openai, tenant};

#[tokio::test]
async fn a_near_duplicate_is_served_from_cache_and_an_unrelated_prompt_is_not() {
    let fake = FakeOpenAi::start().await;
    let h = harness(&openai(&fake.base_url(), fast())).await;
    h.service
        .set_policy(
            &tenant(),
            TenantPolicy {
                semantic_cache: BTreeMap::from([(
                    "chat".to_string(),
                    SemanticConfig {
                        min_similarity: 0.85,
                        max_entries: 100,
                    },
                )]),
                ..TenantPolicy::default()
            },
        )
        .unwrap();
    let (t, c) = (tenant(), ctx());
    let ask = |text: &'static str| h.service.complete(&t, &c, deterministic("chat", text));
    let first = ask("what is the capital city of france").await.unwrap();
    let near = ask("what is the capital city of france please")
        .await
        .unwrap();
    assert_eq!(fake.requests(CHAT), 1);
    assert!(near.served.cached);
    let similarity = near.served.similarity.unwrap();
    assert!((0.85..1.0).contains(&similarity), "{similarity}");
    assert_eq!(near.text, first.text);
    assert_eq!(h.usage.records()[1].served.similarity, Some(similarity));

    let unrelated = ask("give me a sourdough bread recipe").await.unwrap();
    assert!(!unrelated.served.cached);
    assert_eq!(fake.requests(CHAT), 2);

    // Without the opt-in, the near duplicate goes to the provider.
    h.service.remove_policy(&tenant());
    let plain = ask("what is the capital city of france, please?")
        .await
        .unwrap();
    assert!(!plain.served.cached);
    assert_eq!(fake.requests(CHAT), 3);
}

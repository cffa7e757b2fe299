//! Token and request budgets, on one node and across two sharing Redis.

use std::collections::BTreeMap;
use warden_plugin_model::{CompletionRequest, Config, ModelError, TenantPolicy, TierConfig};
use warden_plugin_rate_limit::{Config as LimiterConfig, RedisConfig, build as build_limiter};
use warden_plugin_testing::RedisServer;

use crate::fixtures::{ctx, harness, harness_with, tenant};

/// 40 characters: an estimate of 10 tokens; 5 more out with max_tokens 5.
fn fifteen_tokens() -> CompletionRequest {
    CompletionRequest {
        max_tokens: Some(5),
        ..CompletionRequest::user("chat", "x".repeat(40))
    }
}

fn tiered(tier: TierConfig) -> Config {
    Config {
        tiers: BTreeMap::from([("default".to_string(), tier)]),
        ..Config::default()
    }
}

#[tokio::test]
async fn tokens_per_minute_block_with_budget_exhausted_after_settling() {
    let h = harness(&tiered(TierConfig {
        tokens_per_minute: Some(60),
        ..TierConfig::default()
    }))
    .await;
    let mut allowed = 0;
    let mut last = None;
    for _ in 0..6 {
        match h
            .service
            .complete(&tenant(), &ctx(), fifteen_tokens())
            .await
        {
            Ok(c) => {
                assert_eq!(c.usage.total(), 15);
                allowed += 1;
            }
            Err(e) => last = Some(e),
        }
    }
    // Reserving only the estimate (10) would allow 6; settling the real 15
    // allows 4.
    assert_eq!(allowed, 4);
    assert!(
        matches!(last, Some(ModelError::BudgetExhausted { retry_after }) if !retry_after.is_zero())
    );
}

#[tokio::test]
async fn requests_per_minute_and_prompt_caps_apply() {
    let h = harness(&tiered(TierConfig {
        requests_per_minute: Some(2),
        max_prompt_tokens: Some(5),
        ..TierConfig::default()
    }))
    .await;
    let err = h
        .service
        .complete(
            &tenant(),
            &ctx(),
            CompletionRequest::user("chat", "y".repeat(21)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ModelError::ContentTooLarge(_)), "{err:?}");
    for _ in 0..2 {
        h.service
            .complete(&tenant(), &ctx(), CompletionRequest::user("chat", "hi"))
            .await
            .unwrap();
    }
    let err = h
        .service
        .complete(&tenant(), &ctx(), CompletionRequest::user("chat", "hi"))
        .await
        .unwrap_err();
    assert!(matches!(err, ModelError::BudgetExhausted { .. }), "{err:?}");
    // Another tenant has its own budget.
    let other = warden_plugin_model::Tenant::new("globex").unwrap();
    h.service
        .complete(&other, &ctx(), CompletionRequest::user("chat", "hi"))
        .await
        .unwrap();
}

#[tokio::test]
async fn two_services_sharing_a_redis_limiter_enforce_one_budget() {
    let server = RedisServer::start();
    let limiter_config = LimiterConfig::Redis(RedisConfig {
        url: server.url().into(),
        timeout_ms: 500,
    });
    let mut config = tiered(TierConfig {
        tokens_per_minute: Some(60),
        ..TierConfig::default()
    });
    config.tiers.insert("free".into(), TierConfig::default());
    let nodes = [
        harness_with(&config, build_limiter(&limiter_config).await.unwrap()).await,
        harness_with(&config, build_limiter(&limiter_config).await.unwrap()).await,
    ];
    let mut allowed = 0;
    for i in 0..10 {
        let result = nodes[i % 2]
            .service
            .complete(&tenant(), &ctx(), fifteen_tokens())
            .await;
        match result {
            Ok(_) => allowed += 1,
            Err(e) => assert!(matches!(e, ModelError::BudgetExhausted { .. }), "{e:?}"),
        }
    }
    assert_eq!(
        allowed, 4,
        "one budget of 60 tokens for both nodes, not 60 each"
    );

    // A tenant moved to a tier without budgets is not limited.
    for node in &nodes {
        node.service
            .set_policy(
                &tenant(),
                TenantPolicy {
                    tier: Some("free".into()),
                    ..TenantPolicy::default()
                },
            )
            .unwrap();
    }
    nodes[0]
        .service
        .complete(&tenant(), &ctx(), fifteen_tokens())
        .await
        .unwrap();
}

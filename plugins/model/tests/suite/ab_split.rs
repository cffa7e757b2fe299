//! A/B variants: sticky per subject, split by weight, named in usage.

use std::collections::BTreeMap;

use warden_plugin_model::{
    AliasConfig, CallContext, CompletionRequest, Config, Tenant, VariantConfig,
};

use crate::fixtures::{harness, tenant};

fn ab_config() -> Config {
    let variant = |name: &str, weight| VariantConfig {
        name: name.into(),
        provider: "builtin".into(),
        model: format!("model-{name}"),
        weight,
    };
    Config {
        aliases: BTreeMap::from([(
            "chat".to_string(),
            AliasConfig {
                variants: vec![variant("stable", 80), variant("canary", 20)],
                ..AliasConfig::default()
            },
        )]),
        ..Config::default()
    }
}

#[tokio::test]
async fn the_split_is_sticky_and_near_its_weights_over_ten_thousand_subjects() {
    let h = harness(&ab_config()).await;
    let t = tenant();
    let mut canary = 0;
    for i in 0..10_000 {
        let subject = format!("user-{i}");
        let first = h.service.resolve(&t, "chat", &subject).unwrap();
        let again = h.service.resolve(&t, "chat", &subject).unwrap();
        assert_eq!(first, again, "sticky for {subject}");
        canary += usize::from(first.variant.as_deref() == Some("canary"));
    }
    // 20% within 2 percentage points.
    assert!((1_800..=2_200).contains(&canary), "{canary}");
    // Another tenant gets its own (independent) assignment.
    let other = Tenant::new("globex").unwrap();
    let differs = (0..200)
        .filter(|i| {
            let s = format!("user-{i}");
            h.service.resolve(&t, "chat", &s).unwrap()
                != h.service.resolve(&other, "chat", &s).unwrap()
        })
        .count();
    assert!(differs > 0);
}

#[tokio::test]
async fn the_variant_serves_and_is_in_the_usage_record() {
    let h = harness(&ab_config()).await;
    let t = tenant();
    for i in 0..20 {
        let subject = format!("user-{i}");
        let expected = h.service.resolve(&t, "chat", &subject).unwrap();
        let ctx = CallContext::new("quote", Some(&subject));
        let completion = h
            .service
            .complete(&t, &ctx, CompletionRequest::user("chat", "hello"))
            .await
            .unwrap();
        assert_eq!(completion.served.variant, expected.variant);
        assert_eq!(completion.served.model, expected.model);
        let record = h.usage.records().pop().unwrap();
        assert_eq!(record.served.variant, expected.variant);
        assert_eq!(record.function, "quote");
    }
}

//! What every flags backend promises.

use warden_plugin_core::{KeyError, MAX_KEY_LEN};
use warden_plugin_flags::{
    EvalContext, FlagDefinition, FlagError, FlagStore, Rule, Tenant, VariantDef,
};

use crate::fixtures::contract;

fn tenant(id: &str) -> Tenant {
    Tenant::new(id).unwrap()
}

fn subject(id: &str) -> EvalContext {
    EvalContext {
        subject: Some(id.into()),
        ..EvalContext::default()
    }
}

fn half_and_half() -> FlagDefinition {
    FlagDefinition {
        enabled: true,
        variants: vec![
            VariantDef {
                name: "blue".into(),
                value: Some("#00f".into()),
                weight: 50,
            },
            VariantDef {
                name: "red".into(),
                value: None,
                weight: 50,
            },
        ],
        rules: vec![Rule {
            attribute: "plan".into(),
            values: vec!["pro".into()],
            variant: "red".into(),
        }],
        off_variant: None,
    }
}

async fn unknown_flags_have_no_variant(flags: &dyn FlagStore) {
    let t = tenant("a");
    assert_eq!(
        flags.evaluate(&t, "nope", &subject("u")).await.unwrap(),
        None
    );
    assert_eq!(flags.definition(&t, "nope").await.unwrap(), None);
    assert!(!flags.remove(&t, "nope").await.unwrap());
}
contract!(unknown_flags_have_no_variant);

async fn put_evaluate_remove(flags: &dyn FlagStore) {
    let t = tenant("a");
    flags.put(&t, "colour", half_and_half()).await.unwrap();
    assert_eq!(
        flags.definition(&t, "colour").await.unwrap(),
        Some(half_and_half())
    );
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..200 {
        let ctx = subject(&format!("user-{i}"));
        let variant = flags.evaluate(&t, "colour", &ctx).await.unwrap().unwrap();
        // The definition is pure: a backend must agree with it.
        assert_eq!(
            Some(variant.clone()),
            half_and_half().evaluate("colour", &ctx)
        );
        if variant.name == "blue" {
            assert_eq!(variant.value.as_deref(), Some("#00f"));
        }
        seen.insert(variant.name);
    }
    assert_eq!(seen.len(), 2);
    let mut pro = subject("user-1");
    pro.attributes.insert("plan".into(), "pro".into());
    assert_eq!(
        flags
            .evaluate(&t, "colour", &pro)
            .await
            .unwrap()
            .unwrap()
            .name,
        "red"
    );
    assert!(flags.remove(&t, "colour").await.unwrap());
    assert_eq!(flags.evaluate(&t, "colour", &pro).await.unwrap(), None);
}
contract!(put_evaluate_remove);

async fn flags_are_per_tenant(flags: &dyn FlagStore) {
    let (a, b) = (tenant("a"), tenant("b"));
    for name in ["f", "}", "{b}:f", "*", "\0"] {
        flags.put(&a, name, half_and_half()).await.unwrap();
        assert_eq!(
            flags.evaluate(&b, name, &subject("u")).await.unwrap(),
            None,
            "{name:?}"
        );
        assert!(!flags.remove(&b, name).await.unwrap());
        assert!(
            flags
                .evaluate(&a, name, &subject("u"))
                .await
                .unwrap()
                .is_some()
        );
    }
}
contract!(flags_are_per_tenant);

async fn disabled_flags_serve_the_off_variant(flags: &dyn FlagStore) {
    let t = tenant("a");
    let mut definition = half_and_half();
    definition.enabled = false;
    flags.put(&t, "f", definition.clone()).await.unwrap();
    assert_eq!(flags.evaluate(&t, "f", &subject("u")).await.unwrap(), None);
    definition.off_variant = Some("red".into());
    flags.put(&t, "f", definition).await.unwrap();
    assert_eq!(
        flags
            .evaluate(&t, "f", &subject("u"))
            .await
            .unwrap()
            .unwrap()
            .name,
        "red"
    );
}
contract!(disabled_flags_serve_the_off_variant);

async fn invalid_input_is_a_typed_error(flags: &dyn FlagStore) {
    let t = tenant("a");
    let mut broken = half_and_half();
    broken.rules[0].variant = "green".into();
    let err = flags.put(&t, "f", broken).await.unwrap_err();
    assert!(matches!(err, FlagError::InvalidDefinition(_)), "{err:?}");
    assert_eq!(flags.definition(&t, "f").await.unwrap(), None);
    let long = "f".repeat(MAX_KEY_LEN + 1);
    let err = flags.evaluate(&t, &long, &subject("u")).await.unwrap_err();
    assert!(
        matches!(err, FlagError::Name(KeyError::TooLong { .. })),
        "{err:?}"
    );
}
contract!(invalid_input_is_a_typed_error);

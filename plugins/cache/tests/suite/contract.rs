//! What every cache backend promises.

use std::time::Duration;

use warden_plugin_cache::{Bytes, Cache, CacheError, Tenant};
use warden_plugin_core::{KeyError, MAX_KEY_LEN};

use crate::fixtures::{MAX_VALUE, contract};

const MINUTE: Duration = Duration::from_secs(60);

fn tenant(id: &str) -> Tenant {
    Tenant::new(id).unwrap()
}

/// Keys that would break a naive layout (`{tenant}:key` concatenation,
/// glob matching, C strings).
fn hostile_keys() -> Vec<String> {
    let mut keys: Vec<String> = [
        "{", "}", "{b}", "}:b", ":", "*", "?", "[a-z]", "\0", "a\0b", "é",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    keys.push("k".repeat(MAX_KEY_LEN));
    keys
}

async fn missing_key_is_none(cache: &dyn Cache) {
    assert_eq!(cache.get(&tenant("a"), "nope").await.unwrap(), None);
}
contract!(missing_key_is_none);

async fn set_then_get_and_replace(cache: &dyn Cache) {
    let t = tenant("a");
    cache
        .set(&t, "k", Bytes::from_static(b"v1"), MINUTE)
        .await
        .unwrap();
    assert_eq!(cache.get(&t, "k").await.unwrap().unwrap(), "v1");
    cache
        .set(&t, "k", Bytes::from_static(b"v2"), MINUTE)
        .await
        .unwrap();
    assert_eq!(cache.get(&t, "k").await.unwrap().unwrap(), "v2");
}
contract!(set_then_get_and_replace);

async fn binary_and_empty_values_round_trip(cache: &dyn Cache) {
    let t = tenant("a");
    let binary = Bytes::from((0..=255_u8).collect::<Vec<_>>());
    cache.set(&t, "bin", binary.clone(), MINUTE).await.unwrap();
    cache.set(&t, "empty", Bytes::new(), MINUTE).await.unwrap();
    assert_eq!(cache.get(&t, "bin").await.unwrap(), Some(binary));
    assert_eq!(cache.get(&t, "empty").await.unwrap(), Some(Bytes::new()));
}
contract!(binary_and_empty_values_round_trip);

async fn delete_removes_and_is_idempotent(cache: &dyn Cache) {
    let t = tenant("a");
    cache
        .set(&t, "k", Bytes::from_static(b"v"), MINUTE)
        .await
        .unwrap();
    cache.delete(&t, "k").await.unwrap();
    assert_eq!(cache.get(&t, "k").await.unwrap(), None);
    cache.delete(&t, "k").await.unwrap();
}
contract!(delete_removes_and_is_idempotent);

async fn entries_expire_after_their_ttl(cache: &dyn Cache) {
    let t = tenant("a");
    let short = Duration::from_millis(50);
    cache
        .set(&t, "short", Bytes::from_static(b"v"), short)
        .await
        .unwrap();
    cache
        .set(&t, "long", Bytes::from_static(b"v"), MINUTE)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(cache.get(&t, "short").await.unwrap(), None);
    assert!(cache.get(&t, "long").await.unwrap().is_some());
}
contract!(entries_expire_after_their_ttl);

async fn tenants_never_see_each_other(cache: &dyn Cache) {
    let (a, b) = (tenant("a"), tenant("b"));
    for key in hostile_keys() {
        cache
            .set(&a, &key, Bytes::from_static(b"a"), MINUTE)
            .await
            .unwrap();
        assert_eq!(cache.get(&b, &key).await.unwrap(), None, "{key:?}");
        cache
            .set(&b, &key, Bytes::from_static(b"b"), MINUTE)
            .await
            .unwrap();
        assert_eq!(cache.get(&a, &key).await.unwrap().unwrap(), "a", "{key:?}");
        cache.delete(&b, &key).await.unwrap();
        assert_eq!(cache.get(&a, &key).await.unwrap().unwrap(), "a", "{key:?}");
    }
    // A key that spells another tenant's prefix stays in its own tenant.
    cache
        .set(&b, "x", Bytes::from_static(b"b"), MINUTE)
        .await
        .unwrap();
    cache
        .set(&a, "}:cache:x", Bytes::from_static(b"evil"), MINUTE)
        .await
        .unwrap();
    assert_eq!(cache.get(&b, "x").await.unwrap().unwrap(), "b");
}
contract!(tenants_never_see_each_other);

async fn hostile_keys_are_distinct(cache: &dyn Cache) {
    let t = tenant("a");
    let keys = hostile_keys();
    for (i, key) in keys.iter().enumerate() {
        cache
            .set(&t, key, Bytes::from(i.to_string()), MINUTE)
            .await
            .unwrap();
    }
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(
            cache.get(&t, key).await.unwrap().unwrap(),
            i.to_string(),
            "{key:?}"
        );
    }
}
contract!(hostile_keys_are_distinct);

async fn bad_keys_are_typed_errors(cache: &dyn Cache) {
    let t = tenant("a");
    let long = "k".repeat(MAX_KEY_LEN + 1);
    let err = cache.get(&t, &long).await.unwrap_err();
    assert!(
        matches!(err, CacheError::Key(KeyError::TooLong { .. })),
        "{err:?}"
    );
    let err = cache
        .set(&t, &long, Bytes::new(), MINUTE)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CacheError::Key(KeyError::TooLong { .. })),
        "{err:?}"
    );
    let err = cache.delete(&t, "").await.unwrap_err();
    assert!(matches!(err, CacheError::Key(KeyError::Empty)), "{err:?}");
}
contract!(bad_keys_are_typed_errors);

async fn value_and_ttl_caps_are_typed_errors(cache: &dyn Cache) {
    let t = tenant("a");
    let at_cap = Bytes::from(vec![1_u8; MAX_VALUE]);
    cache.set(&t, "ok", at_cap, MINUTE).await.unwrap();
    let over = Bytes::from(vec![1_u8; MAX_VALUE + 1]);
    let err = cache.set(&t, "big", over, MINUTE).await.unwrap_err();
    assert!(
        matches!(err, CacheError::ValueTooLarge { len, max } if len == MAX_VALUE + 1 && max == MAX_VALUE),
        "{err:?}"
    );
    let err = cache
        .set(&t, "k", Bytes::new(), Duration::ZERO)
        .await
        .unwrap_err();
    assert!(matches!(err, CacheError::InvalidTtl(_)), "{err:?}");
    let err = cache
        .set(&t, "k", Bytes::new(), Duration::from_secs(365 * 86_400))
        .await
        .unwrap_err();
    assert!(matches!(err, CacheError::InvalidTtl(_)), "{err:?}");
    assert_eq!(cache.get(&t, "big").await.unwrap(), None);
}
contract!(value_and_ttl_caps_are_typed_errors);

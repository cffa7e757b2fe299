//! What every kv backend promises, one call at a time.

use std::sync::Arc;

use warden_plugin_core::{KeyError, MAX_KEY_LEN};
use warden_plugin_kv::{CasOutcome, Cursor, KvError, KvStore, Tenant};

use crate::fixtures::{MAX_VALUE, contract};

type Kv = Arc<dyn KvStore>;

fn tenant(id: &str) -> Tenant {
    Tenant::new(id).unwrap()
}

/// Keys that would break a naive layout, glob matching or C strings.
fn hostile_keys() -> Vec<String> {
    let mut keys: Vec<String> = [
        "{", "}", "{b}", "}:kv:x", ":", "*", "?", "[a]", "\\", "\0", "a\0b", "é",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    keys.push("k".repeat(MAX_KEY_LEN));
    keys
}

/// Every key with `prefix`, page by page.
async fn list_all(kv: &Kv, t: &Tenant, prefix: &str, page_size: u32) -> Vec<String> {
    let mut keys = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = kv
            .list(t, prefix, cursor.as_ref(), page_size)
            .await
            .unwrap();
        assert!(page.keys.len() <= page_size as usize);
        keys.extend(page.keys);
        match page.next {
            // Cursors survive a round trip through their string form.
            Some(next) => cursor = Some(next.to_string().parse().unwrap()),
            None => return keys,
        }
    }
}

async fn set_get_replace_delete(kv: Kv) {
    let t = tenant("a");
    assert_eq!(kv.get(&t, "k").await.unwrap(), None);
    kv.set(&t, "k", b"v1".to_vec()).await.unwrap();
    assert_eq!(kv.get(&t, "k").await.unwrap().unwrap(), b"v1");
    kv.set(&t, "k", b"v2".to_vec()).await.unwrap();
    assert_eq!(kv.get(&t, "k").await.unwrap().unwrap(), b"v2");
    assert!(kv.delete(&t, "k").await.unwrap());
    assert!(!kv.delete(&t, "k").await.unwrap());
    assert_eq!(kv.get(&t, "k").await.unwrap(), None);
}
contract!(set_get_replace_delete);

async fn binary_and_empty_values_round_trip(kv: Kv) {
    let t = tenant("a");
    let binary: Vec<u8> = (0..=255).collect();
    kv.set(&t, "bin", binary.clone()).await.unwrap();
    kv.set(&t, "empty", Vec::new()).await.unwrap();
    assert_eq!(kv.get(&t, "bin").await.unwrap(), Some(binary));
    assert_eq!(kv.get(&t, "empty").await.unwrap(), Some(Vec::new()));
}
contract!(binary_and_empty_values_round_trip);

async fn tenants_never_see_each_other(kv: Kv) {
    let (a, b) = (tenant("a"), tenant("b"));
    for key in hostile_keys() {
        kv.set(&a, &key, b"a".to_vec()).await.unwrap();
        assert_eq!(kv.get(&b, &key).await.unwrap(), None, "{key:?}");
        assert!(!kv.delete(&b, &key).await.unwrap(), "{key:?}");
        assert!(matches!(
            kv.compare_and_swap(&b, &key, None, b"b".to_vec())
                .await
                .unwrap(),
            CasOutcome::Swapped
        ));
        assert_eq!(kv.get(&a, &key).await.unwrap().unwrap(), b"a", "{key:?}");
    }
    kv.increment(&b, "n", 5).await.unwrap();
    assert_eq!(kv.increment(&a, "n", 1).await.unwrap(), 1);
    // Listings stay in their tenant, whatever the prefix.
    let a_keys = list_all(&kv, &a, "", 7).await;
    assert!(a_keys.contains(&"n".to_owned()));
    assert_eq!(a_keys.len(), hostile_keys().len() + 1);
    for prefix in ["}", "{b}", "*", ""] {
        for key in list_all(&kv, &b, prefix, 3).await {
            assert!(kv.get(&b, &key).await.unwrap().is_some(), "{key:?}");
        }
    }
}
contract!(tenants_never_see_each_other);

async fn hostile_keys_are_distinct_and_listed_verbatim(kv: Kv) {
    let t = tenant("a");
    let mut keys = hostile_keys();
    for (i, key) in keys.iter().enumerate() {
        kv.set(&t, key, i.to_string().into_bytes()).await.unwrap();
    }
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(
            kv.get(&t, key).await.unwrap().unwrap(),
            i.to_string().into_bytes()
        );
    }
    keys.sort();
    assert_eq!(list_all(&kv, &t, "", 4).await, keys);
}
contract!(hostile_keys_are_distinct_and_listed_verbatim);

async fn list_is_prefix_exact_sorted_and_paginated(kv: Kv) {
    let t = tenant("a");
    let all = [
        "a", "a\0", "a*", "a:1", "a:2", "a:10", "ab", "aé", "b", "`", "A",
    ];
    for key in all {
        kv.set(&t, key, b"x".to_vec()).await.unwrap();
    }
    let mut expected: Vec<String> = all
        .iter()
        .filter(|k| k.starts_with('a'))
        .map(|k| k.to_string())
        .collect();
    expected.sort();
    for page_size in [1, 2, 3, 100] {
        assert_eq!(
            list_all(&kv, &t, "a", page_size).await,
            expected,
            "page size {page_size}"
        );
    }
    assert_eq!(list_all(&kv, &t, "a:", 1).await, ["a:1", "a:10", "a:2"]);
    assert!(list_all(&kv, &t, "zz", 10).await.is_empty());
    let first = kv.list(&t, "a", None, 100).await.unwrap();
    assert_eq!(first.next, None);
}
contract!(list_is_prefix_exact_sorted_and_paginated);

async fn glob_characters_in_a_prefix_are_literal(kv: Kv) {
    let t = tenant("a");
    for key in ["a*b", "axb", "a?c", "azc", "[x]1", "x1", "a\\*"] {
        kv.set(&t, key, b"x".to_vec()).await.unwrap();
    }
    assert_eq!(list_all(&kv, &t, "a*", 10).await, ["a*b"]);
    assert_eq!(list_all(&kv, &t, "a?", 10).await, ["a?c"]);
    assert_eq!(list_all(&kv, &t, "[x]", 10).await, ["[x]1"]);
    assert_eq!(list_all(&kv, &t, "a\\", 10).await, ["a\\*"]);
}
contract!(glob_characters_in_a_prefix_are_literal);

async fn pages_are_stable_while_keys_change(kv: Kv) {
    let t = tenant("a");
    for i in 0..10 {
        kv.set(&t, &format!("k{i}"), b"x".to_vec()).await.unwrap();
    }
    let first = kv.list(&t, "k", None, 5).await.unwrap();
    assert_eq!(first.keys, ["k0", "k1", "k2", "k3", "k4"]);
    // Writes before the cursor and deletes of listed keys do not shift the
    // next page; a key added after the cursor shows up in order.
    kv.set(&t, "k00", b"x".to_vec()).await.unwrap();
    kv.delete(&t, "k1").await.unwrap();
    kv.set(&t, "k55", b"x".to_vec()).await.unwrap();
    let second = kv.list(&t, "k", first.next.as_ref(), 5).await.unwrap();
    assert_eq!(second.keys, ["k5", "k55", "k6", "k7", "k8"]);
    let third = kv.list(&t, "k", second.next.as_ref(), 5).await.unwrap();
    assert_eq!(third.keys, ["k9"]);
    assert_eq!(third.next, None);
}
contract!(pages_are_stable_while_keys_change);

async fn compare_and_swap_semantics(kv: Kv) {
    let t = tenant("a");
    let swapped = kv
        .compare_and_swap(&t, "k", None, b"v1".to_vec())
        .await
        .unwrap();
    assert_eq!(swapped, CasOutcome::Swapped);
    let conflict = kv
        .compare_and_swap(&t, "k", None, b"x".to_vec())
        .await
        .unwrap();
    assert_eq!(
        conflict,
        CasOutcome::Conflict {
            current: Some(b"v1".to_vec())
        }
    );
    let conflict = kv
        .compare_and_swap(&t, "k", Some(b"nope"), b"x".to_vec())
        .await
        .unwrap();
    assert_eq!(
        conflict,
        CasOutcome::Conflict {
            current: Some(b"v1".to_vec())
        }
    );
    let swapped = kv
        .compare_and_swap(&t, "k", Some(b"v1"), b"v2".to_vec())
        .await
        .unwrap();
    assert_eq!(swapped, CasOutcome::Swapped);
    assert_eq!(kv.get(&t, "k").await.unwrap().unwrap(), b"v2");
    let absent = kv
        .compare_and_swap(&t, "other", Some(b""), b"x".to_vec())
        .await
        .unwrap();
    assert_eq!(absent, CasOutcome::Conflict { current: None });
    // The empty value is a value, distinct from absence.
    kv.set(&t, "empty", Vec::new()).await.unwrap();
    let conflict = kv
        .compare_and_swap(&t, "empty", None, b"x".to_vec())
        .await
        .unwrap();
    assert_eq!(
        conflict,
        CasOutcome::Conflict {
            current: Some(Vec::new())
        }
    );
    let swapped = kv
        .compare_and_swap(&t, "empty", Some(b""), b"x".to_vec())
        .await
        .unwrap();
    assert_eq!(swapped, CasOutcome::Swapped);
    assert_eq!(list_all(&kv, &t, "", 10).await, ["empty", "k"]);
}
contract!(compare_and_swap_semantics);

async fn increment_semantics(kv: Kv) {
    let t = tenant("a");
    assert_eq!(kv.increment(&t, "n", 5).await.unwrap(), 5);
    assert_eq!(kv.increment(&t, "n", -7).await.unwrap(), -2);
    assert_eq!(kv.get(&t, "n").await.unwrap().unwrap(), b"-2");
    kv.set(&t, "s", b"abc".to_vec()).await.unwrap();
    assert!(matches!(
        kv.increment(&t, "s", 1).await,
        Err(KvError::NotAnInteger)
    ));
    kv.set(&t, "f", b"1.5".to_vec()).await.unwrap();
    assert!(matches!(
        kv.increment(&t, "f", 1).await,
        Err(KvError::NotAnInteger)
    ));
    kv.set(&t, "max", i64::MAX.to_string().into_bytes())
        .await
        .unwrap();
    assert!(matches!(
        kv.increment(&t, "max", 1).await,
        Err(KvError::Overflow)
    ));
    assert_eq!(
        kv.get(&t, "max").await.unwrap().unwrap(),
        i64::MAX.to_string().into_bytes()
    );
    assert_eq!(list_all(&kv, &t, "", 10).await, ["f", "max", "n", "s"]);
}
contract!(increment_semantics);

async fn invalid_input_is_a_typed_error(kv: Kv) {
    let t = tenant("a");
    let long = "k".repeat(MAX_KEY_LEN + 1);
    assert!(matches!(
        kv.get(&t, &long).await,
        Err(KvError::Key(KeyError::TooLong { .. }))
    ));
    assert!(matches!(
        kv.set(&t, "", Vec::new()).await,
        Err(KvError::Key(KeyError::Empty))
    ));
    assert!(matches!(
        kv.increment(&t, &long, 1).await,
        Err(KvError::Key(_))
    ));
    assert!(matches!(
        kv.list(&t, &long, None, 1).await,
        Err(KvError::Key(_))
    ));
    kv.set(&t, "ok", vec![0; MAX_VALUE]).await.unwrap();
    let err = kv.set(&t, "big", vec![0; MAX_VALUE + 1]).await.unwrap_err();
    assert!(
        matches!(err, KvError::ValueTooLarge { len, max } if len == MAX_VALUE + 1 && max == MAX_VALUE)
    );
    let err = kv
        .compare_and_swap(&t, "big", None, vec![0; MAX_VALUE + 1])
        .await
        .unwrap_err();
    assert!(matches!(err, KvError::ValueTooLarge { .. }));
    assert!(matches!(
        "not hex".parse::<Cursor>(),
        Err(KvError::InvalidCursor)
    ));
    assert_eq!(kv.get(&t, "big").await.unwrap(), None);
}
contract!(invalid_input_is_a_typed_error);

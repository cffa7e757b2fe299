//! `ReadThrough::get_or_load`: one load per key per node under a stampede.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::task::JoinSet;
use warden_plugin_cache::{Bytes, Cache, GetOrLoadError, LeaseTable, ReadThrough, Tenant};

use crate::fixtures;

const MINUTE: Duration = Duration::from_secs(60);

/// A node's lease table, as the host builds one.
fn leases() -> Arc<LeaseTable> {
    Arc::new(LeaseTable::default())
}

/// 100 concurrent misses of one key, loader counted.
async fn stampede(cache: Arc<dyn Cache>) {
    let read_through = Arc::new(ReadThrough::new(cache.clone(), leases()));
    let loads = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    for _ in 0..100 {
        let read_through = read_through.clone();
        let loads = loads.clone();
        tasks.spawn(async move {
            let tenant = Tenant::new("acme").unwrap();
            read_through
                .get_or_load(&tenant, "hot", MINUTE, || async move {
                    loads.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Ok::<_, std::io::Error>(Bytes::from_static(b"loaded"))
                })
                .await
                .unwrap()
        });
    }
    while let Some(value) = tasks.join_next().await {
        assert_eq!(value.unwrap(), "loaded");
    }
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    let tenant = Tenant::new("acme").unwrap();
    assert_eq!(cache.get(&tenant, "hot").await.unwrap().unwrap(), "loaded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_misses_load_once_memory() {
    stampede(fixtures::memory().await.cache).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_misses_load_once_redis() {
    let fixture = fixtures::redis_tiered().await;
    stampede(fixture.cache.clone()).await;
}

#[tokio::test]
async fn loader_errors_are_not_cached() {
    let read_through = ReadThrough::new(fixtures::memory().await.cache, leases());
    let tenant = Tenant::new("acme").unwrap();
    let fail = || async { Err::<Bytes, _>(std::io::Error::other("origin down")) };
    let err = read_through
        .get_or_load(&tenant, "k", MINUTE, fail)
        .await
        .unwrap_err();
    assert!(matches!(err, GetOrLoadError::Load(_)), "{err:?}");
    let ok = || async { Ok::<_, std::io::Error>(Bytes::from_static(b"v")) };
    assert_eq!(
        read_through
            .get_or_load(&tenant, "k", MINUTE, ok)
            .await
            .unwrap(),
        "v"
    );
}

#[tokio::test]
async fn hit_does_not_load() {
    let cache = fixtures::memory().await.cache;
    let tenant = Tenant::new("acme").unwrap();
    cache
        .set(&tenant, "k", Bytes::from_static(b"cached"), MINUTE)
        .await
        .unwrap();
    let read_through = ReadThrough::new(cache, leases());
    let value = read_through
        .get_or_load(&tenant, "k", MINUTE, || async {
            panic!("loader must not run on a hit");
            #[allow(unreachable_code)]
            Ok::<Bytes, std::io::Error>(Bytes::new())
        })
        .await
        .unwrap();
    assert_eq!(value, "cached");
}

#[tokio::test]
async fn a_cancelled_leader_hands_over_to_a_waiter() {
    let read_through = Arc::new(ReadThrough::new(fixtures::memory().await.cache, leases()));
    let tenant = Tenant::new("acme").unwrap();
    let leader = {
        let read_through = read_through.clone();
        let tenant = tenant.clone();
        tokio::spawn(async move {
            read_through
                .get_or_load(&tenant, "k", MINUTE, || async {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Ok::<_, std::io::Error>(Bytes::from_static(b"never"))
                })
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let waiter = {
        let read_through = read_through.clone();
        let tenant = tenant.clone();
        tokio::spawn(async move {
            read_through
                .get_or_load(&tenant, "k", MINUTE, || async {
                    Ok::<_, std::io::Error>(Bytes::from_static(b"second"))
                })
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    leader.abort();
    let value = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("waiter finished")
        .unwrap()
        .unwrap();
    assert_eq!(value, "second");
}

//! What every kv backend promises under concurrent writers.

use std::sync::Arc;

use tokio::task::JoinSet;
use warden_plugin_kv::{CasOutcome, KvStore, Tenant};

use crate::fixtures::contract;

async fn concurrent_increments_are_atomic(kv: Arc<dyn KvStore>) {
    let mut tasks = JoinSet::new();
    for _ in 0..50 {
        let kv = kv.clone();
        tasks.spawn(async move {
            kv.increment(&Tenant::new("a").unwrap(), "n", 2)
                .await
                .unwrap()
        });
    }
    let mut seen = Vec::new();
    while let Some(value) = tasks.join_next().await {
        seen.push(value.unwrap());
    }
    seen.sort();
    assert_eq!(seen, (1..=50).map(|i| i * 2).collect::<Vec<i64>>());
}
contract!(concurrent_increments_are_atomic);

async fn concurrent_creates_have_one_winner(kv: Arc<dyn KvStore>) {
    let mut tasks = JoinSet::new();
    for i in 0..20 {
        let kv = kv.clone();
        tasks.spawn(async move {
            let t = Tenant::new("a").unwrap();
            kv.compare_and_swap(&t, "lock", None, vec![i])
                .await
                .unwrap()
        });
    }
    let mut winners = 0;
    while let Some(outcome) = tasks.join_next().await {
        winners += usize::from(outcome.unwrap() == CasOutcome::Swapped);
    }
    assert_eq!(winners, 1);
}
contract!(concurrent_creates_have_one_winner);

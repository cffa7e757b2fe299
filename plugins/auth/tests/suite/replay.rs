//! Replay protection across nodes: two verifiers (two nodes) sharing one
//! redis-server, for the replay ids and (through kv) the key sets.

use std::sync::Arc;

use warden_plugin_auth::replay::{RedisReplayStore, ReplayStore};
use warden_plugin_auth::{KeyStore, KvKeyStore, Reason, RoutePolicy};
use warden_plugin_testing::RedisServer;

use crate::contract::{redis_handle, redis_kv};
use crate::fixtures::*;

#[tokio::test]
async fn a_single_use_token_is_accepted_once_across_two_nodes() {
    let server = RedisServer::start();
    let node = |store: Arc<dyn KeyStore>, replay: Arc<dyn ReplayStore>| Node::new(store, replay);
    let a_store: Arc<dyn KeyStore> = Arc::new(KvKeyStore::new(redis_kv(&server).await));
    let b_store: Arc<dyn KeyStore> = Arc::new(KvKeyStore::new(redis_kv(&server).await));
    let a = Env::on(node(
        a_store,
        Arc::new(RedisReplayStore::new(redis_handle(&server).await)),
    ))
    .await;
    let b = node(
        b_store,
        Arc::new(RedisReplayStore::new(redis_handle(&server).await)),
    );
    b.verifier.set_tenant(&a.acme, acme_config()).unwrap();

    let policy = RoutePolicy {
        single_use: true,
        ..RoutePolicy::default()
    };
    let token = a.sign(&claims()).await;
    let header = format!("Bearer {token}");
    a.verify(&token, &policy).await.unwrap();
    let error = b
        .verifier
        .verify(&a.acme, Some(&header), &policy, NOW)
        .await
        .unwrap_err();
    assert_invalid_token(&error, Reason::Replayed, &token);
    // The same token on a route that is not single-use still works on both.
    b.verifier
        .verify(&a.acme, Some(&header), &RoutePolicy::default(), NOW)
        .await
        .unwrap();
}

#[tokio::test]
async fn concurrent_first_uses_through_two_store_instances_admit_one() {
    let server = RedisServer::start();
    let stores: Vec<Arc<dyn ReplayStore>> = vec![
        Arc::new(RedisReplayStore::new(redis_handle(&server).await)),
        Arc::new(RedisReplayStore::new(redis_handle(&server).await)),
    ];
    let acme = tenant("acme");
    let now = warden_plugin_auth::unix_now();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = stores[i % 2].clone();
        let acme = acme.clone();
        tasks.push(tokio::spawn(async move {
            store.first_use(&acme, "race", now + 60, now).await.unwrap()
        }));
    }
    let mut admitted = 0;
    for task in tasks {
        admitted += usize::from(task.await.unwrap());
    }
    assert_eq!(admitted, 1);
}

#[tokio::test]
async fn a_replay_store_outage_fails_closed_with_503() {
    let server = RedisServer::start();
    let replay = Arc::new(RedisReplayStore::new(redis_handle(&server).await));
    let env = Env::on(Node::new(
        Arc::new(warden_plugin_auth::MemoryKeyStore::default()),
        replay,
    ))
    .await;
    drop(server);
    let policy = RoutePolicy {
        single_use: true,
        ..RoutePolicy::default()
    };
    let token = env.sign(&claims()).await;
    let error = env.verify(&token, &policy).await.unwrap_err();
    assert_eq!((error.status(), error.code()), (503, "auth_unavailable"));
    assert_eq!(error.reason(), Reason::StoreUnavailable);
    assert_eq!(error.www_authenticate(), None);
}

//! The token service on two nodes sharing one store: redb (durable across
//! a restart) and a real redis-server (rotation races, reuse detection and
//! revocation across nodes).

use std::sync::Arc;

use warden_plugin_auth::Reason;
use warden_plugin_testing::RedisServer;

use crate::contract::{redb_kv, redis_kv};
use crate::fixtures::{NOW, acme_config, assert_invalid_token};
use crate::service_fixtures::*;

#[tokio::test]
async fn a_refresh_on_node_2_of_a_token_from_node_1_works_and_reuse_is_detected_across_nodes_on_redis()
 {
    let server = RedisServer::start();
    let svc = Svc::on(redis_kv(&server).await, test_settings()).await;
    let node2 = SvcNode::new(redis_kv(&server).await, test_settings());
    node2.verifier.set_tenant(&svc.acme, acme_config()).unwrap();
    let first = svc.tokens().await;
    let r1 = first.refresh_token.unwrap();
    // Node 2 rotates node 1's token, and its verifier accepts the result.
    let second = node2
        .service
        .token(&svc.issuer, svc.refresh_request(&r1), NOW + 5)
        .await
        .unwrap();
    gateway(&node2.verifier, &svc.acme, &second.access_token, NOW + 5)
        .await
        .unwrap();
    svc.gateway(&second.access_token, NOW + 5).await.unwrap();
    // The old token replayed on node 1: the family dies on both nodes.
    assert_eq!(
        svc.refresh(&r1, NOW + 6).await.unwrap_err().code(),
        "invalid_grant"
    );
    let error = gateway(&node2.verifier, &svc.acme, &second.access_token, NOW + 7)
        .await
        .unwrap_err();
    assert_invalid_token(&error, Reason::FamilyRevoked, &second.access_token);
}

#[tokio::test]
async fn two_nodes_racing_on_one_refresh_token_on_redis_cannot_both_win() {
    let server = RedisServer::start();
    let svc = Svc::on(redis_kv(&server).await, test_settings()).await;
    let node2 = Arc::new(SvcNode::new(redis_kv(&server).await, test_settings()));
    for round in 0..5 {
        let r1 = svc.tokens().await.refresh_token.unwrap();
        let issuer = svc.issuer.clone();
        let (a, b) = tokio::join!(
            svc.service()
                .token(&issuer, svc.refresh_request(&r1), NOW + 10),
            node2
                .service
                .token(&issuer, svc.refresh_request(&r1), NOW + 10),
        );
        let winners: Vec<_> = [a, b].into_iter().filter_map(Result::ok).collect();
        assert!(
            winners.len() <= 1,
            "round {round}: both nodes rotated one token"
        );
    }
}

#[tokio::test]
async fn an_acknowledged_rotation_survives_a_restart_on_redb() {
    let (kv, dir) = redb_kv().await;
    let svc = Svc::on(kv, test_settings()).await;
    let r1 = svc.tokens().await.refresh_token.unwrap();
    let second = svc.refresh(&r1, NOW + 5).await.unwrap();
    let issuer = svc.issuer.clone();
    let request_r1 = r1.clone();
    let r2 = second.refresh_token.unwrap();
    let client_id = svc.app.client_id.clone();
    drop(svc);
    // A new process over the same file.
    let kv = warden_plugin_kv::build(&warden_plugin_kv::Config::Redb(
        warden_plugin_kv::RedbConfig::in_dir(dir.path()),
    ))
    .await
    .unwrap();
    let node = SvcNode::new(kv, test_settings());
    let refresh = |token| warden_plugin_auth::service::TokenRequest {
        grant_type: "refresh_token",
        refresh_token: Some(token),
        client_id: &client_id,
        ..Default::default()
    };
    node.service
        .token(&issuer, refresh(&r2), NOW + 6)
        .await
        .unwrap();
    let error = node
        .service
        .token(&issuer, refresh(&request_r1), NOW + 7)
        .await
        .unwrap_err();
    assert_eq!(
        error.code(),
        "invalid_grant",
        "the retired token stays retired"
    );
}

#[tokio::test]
async fn a_dpop_proof_used_on_node_1_is_refused_on_node_2_on_redis() {
    let server = RedisServer::start();
    let svc = Svc::on(redis_kv(&server).await, test_settings()).await;
    let node2 = SvcNode::new(redis_kv(&server).await, test_settings());
    let key = DpopKey::new(3);
    let url = "https://api.acme.test/orders";
    let proof = key.proof("GET", url, "n-1", Some("token"));
    let jkt = key.jkt();
    svc.service()
        .dpop()
        .check_request(
            &svc.acme,
            Some(&jkt),
            "token",
            Some(&proof),
            "GET",
            url,
            NOW,
        )
        .await
        .unwrap();
    let error = node2
        .service
        .dpop()
        .check_request(
            &svc.acme,
            Some(&jkt),
            "token",
            Some(&proof),
            "GET",
            url,
            NOW,
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_dpop_proof");
}

#[tokio::test]
async fn one_code_redeemed_on_two_nodes_at_once_on_redis_issues_at_most_once_and_is_revoked() {
    let server = RedisServer::start();
    let svc = Svc::on(redis_kv(&server).await, test_settings()).await;
    let node2 = SvcNode::new(redis_kv(&server).await, test_settings());
    node2.verifier.set_tenant(&svc.acme, acme_config()).unwrap();
    let auth = svc.login().await;
    let code = svc.code_for(&auth).await;
    let issuer = svc.issuer.clone();
    let (a, b) = tokio::join!(
        svc.service().token(&issuer, svc.code_request(&code), NOW),
        node2.service.token(&issuer, svc.code_request(&code), NOW),
    );
    let winners: Vec<_> = [a, b].into_iter().filter_map(Result::ok).collect();
    assert!(winners.len() <= 1, "a code must be redeemed once");
    // The loser's attempt is a second use: whatever the winner got is revoked.
    for tokens in winners {
        assert!(
            gateway(&node2.verifier, &svc.acme, &tokens.access_token, NOW)
                .await
                .is_err()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_racing_on_parallel_threads_on_redis_cannot_both_rotate() {
    let server = RedisServer::start();
    let svc = Svc::on(redis_kv(&server).await, test_settings()).await;
    let nodes = [
        Arc::new(SvcNode::new(redis_kv(&server).await, test_settings())),
        Arc::new(SvcNode::new(redis_kv(&server).await, test_settings())),
    ];
    for round in 0..10 {
        let r1 = svc.tokens().await.refresh_token.unwrap();
        let tasks: Vec<_> = nodes
            .iter()
            .map(|node| {
                let (node, issuer) = (node.clone(), svc.issuer.clone());
                let (token, client_id) = (r1.clone(), svc.app.client_id.clone());
                tokio::spawn(async move {
                    let request = warden_plugin_auth::service::TokenRequest {
                        grant_type: "refresh_token",
                        refresh_token: Some(&token),
                        client_id: &client_id,
                        ..Default::default()
                    };
                    node.service.token(&issuer, request, NOW + 10).await.is_ok()
                })
            })
            .collect();
        let mut wins = 0;
        for task in tasks {
            wins += usize::from(task.await.unwrap());
        }
        assert!(wins <= 1, "round {round}: both nodes rotated one token");
    }
}

//! Nodes sharing one Redis see one set of flags; layout is one hash per
//! tenant.

use warden_plugin_flags::{EvalContext, FlagDefinition, FlagError, Tenant, VariantDef, build};
use warden_plugin_testing::RedisServer;

use crate::fixtures::redis_config;

fn always_on() -> FlagDefinition {
    FlagDefinition {
        enabled: true,
        variants: vec![VariantDef {
            name: "on".into(),
            value: None,
            weight: 1,
        }],
        rules: vec![],
        off_variant: None,
    }
}

#[tokio::test]
async fn a_put_on_one_node_is_seen_by_the_other() {
    let server = RedisServer::start();
    let node_a = build(&redis_config(&server)).await.unwrap();
    let node_b = build(&redis_config(&server)).await.unwrap();
    let t = Tenant::new("acme").unwrap();
    let ctx = EvalContext::default();
    node_a.put(&t, "f", always_on()).await.unwrap();
    assert_eq!(
        node_b.evaluate(&t, "f", &ctx).await.unwrap().unwrap().name,
        "on"
    );
    node_b.remove(&t, "f").await.unwrap();
    assert_eq!(node_a.evaluate(&t, "f", &ctx).await.unwrap(), None);
}

#[tokio::test]
async fn definitions_live_in_one_hash_per_tenant() {
    let server = RedisServer::start();
    let flags = build(&redis_config(&server)).await.unwrap();
    let t = Tenant::new("acme").unwrap();
    flags.put(&t, "f*", always_on()).await.unwrap();

    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(keys, ["warden:{acme}:flags"]);
    let fields: Vec<String> = redis::cmd("HKEYS")
        .arg(&keys[0])
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(fields, ["f*"]);

    // A definition that no longer parses is a backend failure, not "off".
    let _: () = redis::cmd("HSET")
        .arg(&keys[0])
        .arg("broken")
        .arg("{not json")
        .query_async(&mut conn)
        .await
        .unwrap();
    let err = flags
        .evaluate(&t, "broken", &EvalContext::default())
        .await
        .unwrap_err();
    assert!(matches!(err, FlagError::Backend(_)), "{err:?}");
}

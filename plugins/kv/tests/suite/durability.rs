//! Acknowledged writes survive SIGKILL: of the writer (redb) and of the
//! server (Redis with `appendfsync always`).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use warden_plugin_kv::{Config, RedbConfig, Tenant, build};
use warden_plugin_testing::{RedisOptions, RedisServer};

use crate::fixtures::{MAX_VALUE, redis_config};

/// Set in the child process: the redb file it writes to.
const CHILD_ENV: &str = "WARDEN_KV_DURABILITY_CHILD";
/// Writes the parent waits for before it kills the child.
const ACKS_BEFORE_KILL: u64 = 20;

fn redb_config(path: std::path::PathBuf) -> Config {
    Config::Redb(RedbConfig {
        path,
        max_value_bytes: MAX_VALUE,
    })
}

/// Not a test on its own: the body of the child process of
/// `acknowledged_redb_writes_survive_sigkill`. It writes `k0`, `k1`, ...
/// and prints `ACK <i>` after each write returned, until it is killed.
#[test]
fn redb_writer_child() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let kv = build(&redb_config(path.into())).await.unwrap();
        let t = Tenant::new("acme").unwrap();
        for i in 0_u64.. {
            kv.set(&t, &format!("k{i}"), i.to_string().into_bytes())
                .await
                .unwrap();
            println!("ACK {i}");
        }
    });
}

#[tokio::test]
async fn acknowledged_redb_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kv.redb");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "durability::redb_writer_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut last_ack = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        if let Some(i) = line.unwrap().strip_prefix("ACK ") {
            let i: u64 = i.trim().parse().unwrap();
            last_ack = Some(i);
            if i + 1 >= ACKS_BEFORE_KILL {
                break;
            }
        }
    }
    // std's kill is SIGKILL on Unix: no destructors, no flush, no commit.
    child.kill().unwrap();
    child.wait().unwrap();
    let last_ack = last_ack.expect("child acknowledged writes");

    let kv = build(&redb_config(path)).await.unwrap();
    let t = Tenant::new("acme").unwrap();
    for i in 0..=last_ack {
        let value = kv.get(&t, &format!("k{i}")).await.unwrap();
        assert_eq!(
            value,
            Some(i.to_string().into_bytes()),
            "acknowledged k{i} lost"
        );
    }
}

#[tokio::test]
async fn acknowledged_redis_writes_survive_sigkill_with_aof_always() {
    let mut server = RedisServer::start_with(RedisOptions { appendonly: true });
    let kv = build(&redis_config(&server)).await.unwrap();
    let t = Tenant::new("acme").unwrap();
    for i in 0..20 {
        kv.set(&t, &format!("k{i}"), vec![i]).await.unwrap();
    }
    kv.increment(&t, "n", 7).await.unwrap();
    server.kill();
    server.restart();

    let kv = build(&redis_config(&server)).await.unwrap();
    for i in 0..20 {
        assert_eq!(kv.get(&t, &format!("k{i}")).await.unwrap(), Some(vec![i]));
    }
    assert_eq!(kv.increment(&t, "n", 1).await.unwrap(), 8);
    assert_eq!(kv.list(&t, "k1", None, 100).await.unwrap().keys.len(), 11);
}

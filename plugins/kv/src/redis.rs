//! kv on Redis: values in plain keys, plus a per-tenant sorted-set index
//! for listing, kept in step by Lua scripts.
//!
//! Layout: `warden:{<tenant>}:kv:<key>` holds the value;
//! `warden:{<tenant>}:kv-index` is a sorted set of the tenant's keys, all
//! with score 0, so `ZRANGEBYLEX` lists them in byte order. That gives
//! stable, exact prefix listing with a cursor, with no `SCAN` and no glob
//! patterns, so `*`, `?` or `[` in a prefix are plain bytes. Both keys share
//! the tenant hash tag, so the scripts are valid on Redis Cluster.

use async_trait::async_trait;
use redis::{ErrorKind, RedisError, Script};
use warden_plugin_core::redis::{RedisHandle, scoped_key, tenant_key, to_backend_error};
use warden_plugin_core::{Tenant, check_key};

use crate::ops::{check_prefix, check_write, clamp_limit, page};
use crate::{CasOutcome, Cursor, KvError, KvStore, Page};

const SPACE: &str = "kv";
const INDEX: &str = "kv-index";

/// KEYS: value, index. ARGV: value, key.
const SET_LUA: &str = r"
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return 1
";

/// KEYS: value, index. ARGV: key. Returns 1 if the key existed.
const DELETE_LUA: &str = r"
local existed = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return existed
";

/// KEYS: value, index. ARGV: expect_present (0/1), expected, new, key.
/// Returns {1, 0, ''} when swapped, {0, present, current} on conflict.
const CAS_LUA: &str = r"
local current = redis.call('GET', KEYS[1])
local matches
if ARGV[1] == '0' then matches = (current == false) else matches = (current == ARGV[2]) end
if matches then
  redis.call('SET', KEYS[1], ARGV[3])
  redis.call('ZADD', KEYS[2], 0, ARGV[4])
  return {1, 0, ''}
end
if current == false then return {0, 0, ''} end
return {0, 1, current}
";

/// KEYS: value, index. ARGV: delta, key. Errors as `INCRBY` does.
const INCREMENT_LUA: &str = r"
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return value
";

/// kv on Redis, shared by all nodes (see the crate docs on durability).
pub(crate) struct RedisKv {
    redis: RedisHandle,
    max_value_bytes: usize,
    set: Script,
    delete: Script,
    cas: Script,
    increment: Script,
}

impl RedisKv {
    pub(crate) fn new(redis: RedisHandle, max_value_bytes: usize) -> Self {
        Self {
            redis,
            max_value_bytes,
            set: Script::new(SET_LUA),
            delete: Script::new(DELETE_LUA),
            cas: Script::new(CAS_LUA),
            increment: Script::new(INCREMENT_LUA),
        }
    }

    /// Value key and index key of (`tenant`, `key`).
    fn keys(tenant: &Tenant, key: &str) -> (Vec<u8>, String) {
        (scoped_key(tenant, SPACE, key), tenant_key(tenant, INDEX))
    }
}

fn backend(error: RedisError) -> KvError {
    to_backend_error(error).into()
}

/// `INCRBY`'s own refusals, raised inside the script, become typed errors.
fn increment_error(error: RedisError) -> KvError {
    if matches!(error.kind(), ErrorKind::Server(_) | ErrorKind::Extension) {
        let text = error.to_string();
        if text.contains("not an integer") {
            return KvError::NotAnInteger;
        }
        if text.contains("overflow") {
            return KvError::Overflow;
        }
    }
    backend(error)
}

/// `ZRANGEBYLEX` bounds for keys starting with `prefix`, after `cursor`.
/// Keys are UTF-8, which never contains byte 0xFF, so `prefix + 0xFF` is
/// an exclusive upper bound of exactly the keys with that prefix.
fn lex_range(prefix: &str, cursor: Option<&Cursor>) -> (Vec<u8>, Vec<u8>) {
    let min = match cursor {
        Some(cursor) if cursor.key() >= prefix => [b"(", cursor.key().as_bytes()].concat(),
        _ if prefix.is_empty() => b"-".to_vec(),
        _ => [b"[", prefix.as_bytes()].concat(),
    };
    let max = if prefix.is_empty() {
        b"+".to_vec()
    } else {
        [b"(", prefix.as_bytes(), b"\xff"].concat()
    };
    (min, max)
}

#[async_trait]
impl KvStore for RedisKv {
    async fn get(&self, tenant: &Tenant, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        check_key(key)?;
        let rkey = scoped_key(tenant, SPACE, key);
        self.redis
            .run(
                |mut conn| async move { redis::cmd("GET").arg(&rkey).query_async(&mut conn).await },
            )
            .await
            .map_err(backend)
    }

    async fn set(&self, tenant: &Tenant, key: &str, value: Vec<u8>) -> Result<(), KvError> {
        check_write(key, value.len(), self.max_value_bytes)?;
        let (rkey, index) = Self::keys(tenant, key);
        let script = &self.set;
        self.redis
            .run(|mut conn| async move {
                script
                    .key(rkey)
                    .key(index)
                    .arg(value)
                    .arg(key)
                    .invoke_async::<()>(&mut conn)
                    .await
            })
            .await
            .map_err(backend)
    }

    async fn delete(&self, tenant: &Tenant, key: &str) -> Result<bool, KvError> {
        check_key(key)?;
        let (rkey, index) = Self::keys(tenant, key);
        let script = &self.delete;
        let existed: i64 = self
            .redis
            .run(|mut conn| async move {
                script
                    .key(rkey)
                    .key(index)
                    .arg(key)
                    .invoke_async(&mut conn)
                    .await
            })
            .await
            .map_err(backend)?;
        Ok(existed > 0)
    }

    async fn list(
        &self,
        tenant: &Tenant,
        prefix: &str,
        cursor: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page, KvError> {
        check_prefix(prefix)?;
        let limit = clamp_limit(limit);
        let index = tenant_key(tenant, INDEX);
        let (min, max) = lex_range(prefix, cursor);
        let keys: Vec<String> = self
            .redis
            .run(|mut conn| async move {
                redis::cmd("ZRANGEBYLEX")
                    .arg(&index)
                    .arg(min)
                    .arg(max)
                    .arg("LIMIT")
                    .arg(0)
                    .arg(limit + 1)
                    .query_async(&mut conn)
                    .await
            })
            .await
            .map_err(backend)?;
        Ok(page(keys, limit))
    }

    async fn compare_and_swap(
        &self,
        tenant: &Tenant,
        key: &str,
        expected: Option<&[u8]>,
        new: Vec<u8>,
    ) -> Result<CasOutcome, KvError> {
        check_write(key, new.len(), self.max_value_bytes)?;
        let (rkey, index) = Self::keys(tenant, key);
        let script = &self.cas;
        let (swapped, present, current): (i64, i64, Vec<u8>) = self
            .redis
            .run(|mut conn| async move {
                script
                    .key(rkey)
                    .key(index)
                    .arg(i64::from(expected.is_some()))
                    .arg(expected.unwrap_or_default())
                    .arg(new)
                    .arg(key)
                    .invoke_async(&mut conn)
                    .await
            })
            .await
            .map_err(backend)?;
        Ok(match (swapped, present) {
            (1, _) => CasOutcome::Swapped,
            (_, 1) => CasOutcome::Conflict {
                current: Some(current),
            },
            _ => CasOutcome::Conflict { current: None },
        })
    }

    async fn increment(&self, tenant: &Tenant, key: &str, delta: i64) -> Result<i64, KvError> {
        check_key(key)?;
        let (rkey, index) = Self::keys(tenant, key);
        let script = &self.increment;
        self.redis
            .run(|mut conn| async move {
                script
                    .key(rkey)
                    .key(index)
                    .arg(delta)
                    .arg(key)
                    .invoke_async(&mut conn)
                    .await
            })
            .await
            .map_err(increment_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lex_range_covers_exactly_the_prefix() {
        assert_eq!(lex_range("", None), (b"-".to_vec(), b"+".to_vec()));
        assert_eq!(
            lex_range("a*", None),
            (b"[a*".to_vec(), b"(a*\xff".to_vec())
        );
        let cursor = Cursor::after_key("a*b");
        assert_eq!(lex_range("a*", Some(&cursor)).0, b"(a*b".to_vec());
        // A cursor before the prefix (from another listing) is ignored.
        let before = Cursor::after_key("0");
        assert_eq!(lex_range("a", Some(&before)).0, b"[a".to_vec());
    }
}

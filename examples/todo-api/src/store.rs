//! Where todos live: kv for the data, the cache in front of single reads.
//!
//! Layout (all scoped to the tenant by the host):
//! - kv `todo:seq`: the id counter (`kv::increment`);
//! - kv `todos/<id, 20 digits>`: each todo as JSON. Zero-padding makes the
//!   byte order of keys the creation order, and the separate prefix keeps
//!   the counter out of listings, so every page holds `limit` todos;
//! - cache `todo:<id>`: the same JSON, 30 s, filled by read-through and
//!   deleted on every write.

use std::time::Duration;

use warden_sdk::{HttpError, cache, kv};

use crate::todo::Todo;

/// The id counter.
const SEQ_KEY: &str = "todo:seq";
/// Prefix of stored todos.
const PREFIX: &str = "todos/";
/// How long a read stays cached; writes delete it sooner.
const CACHE_TTL: Duration = Duration::from_secs(30);
/// How long concurrent readers of a missing entry wait for its loader.
const CACHE_LEASE: Duration = Duration::from_secs(5);

fn kv_key(id: u64) -> String {
    format!("{PREFIX}{id:020}")
}

fn cache_key(id: u64) -> String {
    format!("todo:{id}")
}

fn not_found(id: u64) -> HttpError {
    HttpError::not_found(format!("todo {id} does not exist"))
}

fn decode(bytes: &[u8]) -> Result<Todo, HttpError> {
    serde_json::from_slice(bytes)
        .map_err(|err| HttpError::internal(format!("a stored todo is corrupt: {err}")))
}

fn encode(todo: &Todo) -> Result<Vec<u8>, HttpError> {
    serde_json::to_vec(todo)
        .map_err(|err| HttpError::internal(format!("cannot serialize a todo: {err}")))
}

/// The next free id.
pub fn next_id() -> Result<u64, HttpError> {
    let id = kv::increment(SEQ_KEY, 1)?;
    u64::try_from(id).map_err(|_| HttpError::internal(format!("{SEQ_KEY} went negative: {id}")))
}

/// Stores a new todo; it must not exist yet.
pub fn insert(todo: &Todo) -> Result<(), HttpError> {
    if kv::compare_and_swap(&kv_key(todo.id), None, encode(todo)?)? {
        Ok(())
    } else {
        Err(HttpError::new(
            409,
            "conflict",
            format!("todo {} already exists; was {SEQ_KEY} reset?", todo.id),
        ))
    }
}

/// A todo through the cache (read-through, single flight per node).
pub fn get_cached(id: u64) -> Result<Todo, HttpError> {
    let bytes = cache::get_or_load(&cache_key(id), CACHE_TTL, CACHE_LEASE, || {
        kv::get(&kv_key(id))?.ok_or_else(|| not_found(id))
    })?;
    decode(&bytes)
}

/// A todo from kv, with the exact bytes stored (for compare-and-swap).
pub fn get_fresh(id: u64) -> Result<(Todo, Vec<u8>), HttpError> {
    let bytes = kv::get(&kv_key(id))?.ok_or_else(|| not_found(id))?;
    Ok((decode(&bytes)?, bytes))
}

/// Writes `new` over `old_bytes` if nobody changed it meanwhile; `false`
/// if somebody did. Invalidates the cache on success.
pub fn replace(old_bytes: &[u8], new: &Todo) -> Result<bool, HttpError> {
    let swapped = kv::compare_and_swap(&kv_key(new.id), Some(old_bytes), encode(new)?)?;
    if swapped {
        invalidate(new.id);
    }
    Ok(swapped)
}

/// Deletes a todo; `false` if it did not exist. Invalidates the cache.
pub fn remove(id: u64) -> Result<bool, HttpError> {
    let existed = kv::delete(&kv_key(id))?;
    invalidate(id);
    Ok(existed)
}

/// A page of todos in creation order, and the cursor of the next page.
///
/// A todo deleted between the listing and its read is left out, so a page
/// may hold fewer than `limit` todos without being the last one.
pub fn page(cursor: Option<&str>, limit: u32) -> Result<(Vec<Todo>, Option<String>), HttpError> {
    let page = kv::list(PREFIX, cursor, limit)?;
    let mut todos = Vec::with_capacity(page.keys.len());
    for key in &page.keys {
        if let Some(bytes) = kv::get(key)? {
            todos.push(decode(&bytes)?);
        }
    }
    Ok((todos, page.cursor))
}

/// Drops the cached copy. A failure only leaves a stale copy for at most
/// the TTL, so it is logged, not returned: the write itself succeeded.
fn invalidate(id: u64) {
    if let Err(err) = cache::delete(&cache_key(id)) {
        eprintln!("todo-api: could not invalidate the cached todo {id}: {err}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_in_creation_order() {
        assert!(kv_key(9) < kv_key(10));
        assert_eq!(kv_key(42), "todos/00000000000000000042");
        assert_eq!(kv_key(u64::MAX).len(), PREFIX.len() + 20);
        assert_eq!(cache_key(42), "todo:42");
    }
}

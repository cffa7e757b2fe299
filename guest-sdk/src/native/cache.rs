//! The in-memory cache: a map with expiry times, with the host's rules.

use std::time::{Duration, Instant};

use super::{MAX_VALUE_BYTES, check_key, with};
use crate::cache::{Error, Lookup};

/// Longest TTL the host accepts: 30 days.
const MAX_TTL_MS: u64 = 30 * 24 * 60 * 60 * 1000;

pub fn get(key: &str) -> Result<Option<Vec<u8>>, Error> {
    check_key(key).map_err(Error::InvalidKey)?;
    let now = Instant::now();
    Ok(with(|s| match s.cache.get(key) {
        Some((value, expires)) if *expires > now => Some(value.clone()),
        Some(_) => {
            s.cache.remove(key);
            None
        }
        None => None,
    }))
}

pub fn set(key: &str, value: &[u8], ttl_ms: u64) -> Result<(), Error> {
    check_key(key).map_err(Error::InvalidKey)?;
    if value.len() > MAX_VALUE_BYTES {
        return Err(Error::ValueTooLarge {
            max: MAX_VALUE_BYTES as u64,
        });
    }
    if ttl_ms == 0 || ttl_ms > MAX_TTL_MS {
        return Err(Error::InvalidTtl(format!(
            "TTL of {ttl_ms} ms is outside 1 ms ..= 30 days"
        )));
    }
    let expires = Instant::now() + Duration::from_millis(ttl_ms);
    with(|s| s.cache.insert(key.to_owned(), (value.to_vec(), expires)));
    Ok(())
}

pub fn delete(key: &str) -> Result<(), Error> {
    check_key(key).map_err(Error::InvalidKey)?;
    with(|s| s.cache.remove(key));
    Ok(())
}

/// One caller per thread: a miss always makes it the loader.
pub fn get_or_lease(key: &str, _lease_ms: u64) -> Result<Lookup, Error> {
    Ok(match get(key)? {
        Some(value) => Lookup::Hit(value),
        None => Lookup::Fill,
    })
}

/// Nobody waits natively, so there is nothing to release.
pub fn release(_key: &str) {}

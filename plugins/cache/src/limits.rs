//! Input checks every cache backend applies, so they all refuse the same
//! things with the same errors.

use std::time::Duration;

use warden_plugin_core::check_key;

use crate::CacheError;

/// Longest TTL a cache entry may have: a cache is not storage (use `kv`).
pub const MAX_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// Default cap on one value: 1 MiB.
pub const DEFAULT_MAX_VALUE_BYTES: usize = 1024 * 1024;

/// Checks a `set` call.
pub(crate) fn check_set(
    key: &str,
    value_len: usize,
    ttl: Duration,
    max_value_bytes: usize,
) -> Result<(), CacheError> {
    check_key(key)?;
    if value_len > max_value_bytes {
        return Err(CacheError::ValueTooLarge {
            len: value_len,
            max: max_value_bytes,
        });
    }
    if ttl < Duration::from_millis(1) || ttl > MAX_TTL {
        return Err(CacheError::InvalidTtl(ttl));
    }
    Ok(())
}

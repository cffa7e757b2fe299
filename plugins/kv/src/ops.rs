//! Semantics shared by the in-process backends (memory, redb), so they
//! agree with each other and with the Redis scripts.

use warden_plugin_core::{KeyError, MAX_KEY_LEN, check_key};

use crate::{Cursor, KvError, MAX_PAGE, Page};

/// Checks a key and a value size.
pub(crate) fn check_write(
    key: &str,
    value_len: usize,
    max_value_bytes: usize,
) -> Result<(), KvError> {
    check_key(key)?;
    if value_len > max_value_bytes {
        return Err(KvError::ValueTooLarge {
            len: value_len,
            max: max_value_bytes,
        });
    }
    Ok(())
}

/// A list prefix may be empty (list everything) but not longer than a key.
pub(crate) fn check_prefix(prefix: &str) -> Result<(), KvError> {
    if prefix.len() > MAX_KEY_LEN {
        return Err(KeyError::TooLong { len: prefix.len() }.into());
    }
    Ok(())
}

/// The page size actually used.
pub(crate) fn clamp_limit(limit: u32) -> usize {
    limit.clamp(1, MAX_PAGE) as usize
}

/// Builds a page from up to `limit + 1` keys in order: the extra key only
/// tells that there is a next page.
pub(crate) fn page(mut keys: Vec<String>, limit: usize) -> Page {
    let more = keys.len() > limit;
    keys.truncate(limit);
    let next = if more {
        keys.last().map(|key| Cursor::after_key(key))
    } else {
        None
    };
    Page { keys, next }
}

/// Parses a counter the way Redis `INCRBY` does: the canonical decimal form
/// of an `i64` (no sign `+`, no leading zeros, no spaces).
pub(crate) fn parse_counter(value: &[u8]) -> Result<i64, KvError> {
    let text = std::str::from_utf8(value).map_err(|_| KvError::NotAnInteger)?;
    let number: i64 = text.parse().map_err(|_| KvError::NotAnInteger)?;
    if number.to_string() != text {
        return Err(KvError::NotAnInteger);
    }
    Ok(number)
}

/// The new counter value, as `INCRBY` computes it.
pub(crate) fn increment(current: Option<&[u8]>, delta: i64) -> Result<i64, KvError> {
    let current = current.map(parse_counter).transpose()?.unwrap_or(0);
    current.checked_add(delta).ok_or(KvError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_canonical_i64() {
        assert_eq!(parse_counter(b"42").unwrap(), 42);
        assert_eq!(parse_counter(b"-7").unwrap(), -7);
        for bad in [
            &b"+1"[..],
            b"01",
            b" 1",
            b"1.0",
            b"",
            b"abc",
            b"99999999999999999999",
        ] {
            assert!(
                matches!(parse_counter(bad), Err(KvError::NotAnInteger)),
                "{bad:?}"
            );
        }
        assert!(matches!(
            increment(Some(b"9223372036854775807"), 1),
            Err(KvError::Overflow)
        ));
        assert_eq!(increment(None, -3).unwrap(), -3);
    }
}

//! The in-memory kv: a sorted map, with the host's rules.

use warden_plugin_core::MAX_KEY_LEN;

use super::{MAX_VALUE_BYTES, check_key, with};
use crate::kv::{Error, MAX_PAGE, Page};

fn check_write(key: &str, value: &[u8]) -> Result<(), Error> {
    check_key(key).map_err(Error::InvalidKey)?;
    if value.len() > MAX_VALUE_BYTES {
        return Err(Error::ValueTooLarge {
            max: MAX_VALUE_BYTES as u64,
        });
    }
    Ok(())
}

pub fn get(key: &str) -> Result<Option<Vec<u8>>, Error> {
    check_key(key).map_err(Error::InvalidKey)?;
    Ok(with(|s| s.kv.get(key).cloned()))
}

pub fn set(key: &str, value: &[u8]) -> Result<(), Error> {
    check_write(key, value)?;
    with(|s| s.kv.insert(key.to_owned(), value.to_vec()));
    Ok(())
}

pub fn delete(key: &str) -> Result<bool, Error> {
    check_key(key).map_err(Error::InvalidKey)?;
    Ok(with(|s| s.kv.remove(key).is_some()))
}

pub fn list(prefix: &str, cursor: Option<&str>, limit: u32) -> Result<Page, Error> {
    if prefix.len() > MAX_KEY_LEN {
        return Err(Error::InvalidKey(format!(
            "prefix is {} bytes long, the limit is {MAX_KEY_LEN}",
            prefix.len()
        )));
    }
    let after = cursor.map(decode_cursor).transpose()?;
    let limit = limit.clamp(1, MAX_PAGE) as usize;
    let mut keys: Vec<String> = with(|s| {
        s.kv.keys()
            .filter(|key| key.starts_with(prefix))
            .filter(|key| after.as_deref().is_none_or(|after| key.as_str() > after))
            .take(limit + 1)
            .cloned()
            .collect()
    });
    let more = keys.len() > limit;
    keys.truncate(limit);
    let cursor = if more {
        keys.last().map(|key| encode_cursor(key))
    } else {
        None
    };
    Ok(Page { keys, cursor })
}

pub fn compare_and_swap(key: &str, expected: Option<&[u8]>, new: &[u8]) -> Result<bool, Error> {
    check_write(key, new)?;
    Ok(with(|s| {
        if s.kv.get(key).map(Vec::as_slice) == expected {
            s.kv.insert(key.to_owned(), new.to_vec());
            true
        } else {
            false
        }
    }))
}

pub fn increment(key: &str, delta: i64) -> Result<i64, Error> {
    check_key(key).map_err(Error::InvalidKey)?;
    with(|s| {
        let current = match s.kv.get(key) {
            None => 0,
            Some(bytes) => parse_counter(bytes)?,
        };
        let next = current.checked_add(delta).ok_or(Error::Overflow)?;
        s.kv.insert(key.to_owned(), next.to_string().into_bytes());
        Ok(next)
    })
}

/// A counter is the canonical decimal form of an `i64`, as Redis `INCRBY`
/// reads it.
fn parse_counter(bytes: &[u8]) -> Result<i64, Error> {
    let text = std::str::from_utf8(bytes).map_err(|_| Error::NotAnInteger)?;
    let number: i64 = text.parse().map_err(|_| Error::NotAnInteger)?;
    if number.to_string() == text {
        Ok(number)
    } else {
        Err(Error::NotAnInteger)
    }
}

/// Cursors are the last key of the page, hex-encoded, like the host's.
fn encode_cursor(key: &str) -> String {
    key.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_cursor(cursor: &str) -> Result<String, Error> {
    let invalid = || Error::InvalidCursor("malformed cursor".into());
    if cursor.is_empty() || !cursor.len().is_multiple_of(2) || cursor.len() > MAX_KEY_LEN * 2 {
        return Err(invalid());
    }
    let bytes = cursor
        .as_bytes()
        .chunks(2)
        .map(|pair| Some(hex_digit(pair[0])? << 4 | hex_digit(pair[1])?))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(invalid)?;
    String::from_utf8(bytes).map_err(|_| invalid())
}

fn hex_digit(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let key = "a\0}{*é";
        assert_eq!(
            decode_cursor(&encode_cursor(key)).ok().as_deref(),
            Some(key)
        );
        for bad in ["", "zz", "6", "ff", "+1"] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_counter(b"01"), Err(Error::NotAnInteger));
    }
}

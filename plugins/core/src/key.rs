//! Rules every plugin key obeys, whatever the backend.

/// Longest key, in bytes. Keys are tenant-controlled input: a cap keeps a
/// guest from using key bytes as unmetered storage, and keeps Redis and redb
/// keys small.
pub const MAX_KEY_LEN: usize = 1024;

/// Why a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key is empty.
    #[error("key is empty")]
    Empty,
    /// The key is longer than [`MAX_KEY_LEN`] bytes.
    #[error("key is {len} bytes long, the limit is {MAX_KEY_LEN}")]
    TooLong {
        /// Length of the rejected key, in bytes.
        len: usize,
    },
}

/// Checks a key against the shared rules: 1..=[`MAX_KEY_LEN`] bytes.
///
/// Any other content is allowed (`{`, `}`, `:`, `*`, NUL, ...): backends keep
/// the tenant in front of the key and never interpret key bytes, so no key
/// can reach another tenant's data.
pub fn check_key(key: &str) -> Result<(), KeyError> {
    match key.len() {
        0 => Err(KeyError::Empty),
        len if len > MAX_KEY_LEN => Err(KeyError::TooLong { len }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_length_and_allows_any_bytes() {
        assert_eq!(check_key(""), Err(KeyError::Empty));
        assert_eq!(check_key(&"k".repeat(MAX_KEY_LEN)), Ok(()));
        assert_eq!(
            check_key(&"k".repeat(MAX_KEY_LEN + 1)),
            Err(KeyError::TooLong {
                len: MAX_KEY_LEN + 1
            })
        );
        assert_eq!(check_key("}{*:\0"), Ok(()));
    }
}

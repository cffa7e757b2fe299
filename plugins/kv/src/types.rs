//! Values passed across the [`crate::KvStore`] API.

use std::fmt;
use std::str::FromStr;

use warden_plugin_core::MAX_KEY_LEN;

use crate::KvError;

/// Most keys one `list` call returns.
pub const MAX_PAGE: u32 = 1000;

/// Default cap on one value: 1 MiB.
pub const DEFAULT_MAX_VALUE_BYTES: usize = 1024 * 1024;

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Keys in byte order.
    pub keys: Vec<String>,
    /// Where the next page starts; `None` when this was the last page.
    pub next: Option<Cursor>,
}

/// Outcome of a compare-and-swap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CasOutcome {
    /// The value matched and was replaced.
    Swapped,
    /// The value did not match; nothing was written. Carries the current
    /// value, so the caller can retry without another read.
    Conflict {
        /// The value found (`None`: the key is absent).
        current: Option<Vec<u8>>,
    },
}

/// Position in a listing: resumes strictly after the last key returned.
///
/// Opaque to callers (hex, so it is safe in URLs, headers and JSON). It
/// holds only a key, never a tenant: a cursor replayed by another tenant
/// just lists that tenant's own keys.
#[derive(Clone, PartialEq, Eq)]
pub struct Cursor {
    after: String,
}

impl Cursor {
    pub(crate) fn after_key(key: &str) -> Self {
        Self {
            after: key.to_owned(),
        }
    }

    /// The last key of the previous page.
    pub(crate) fn key(&self) -> &str {
        &self.after
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.after.as_bytes()))
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor({self})")
    }
}

impl FromStr for Cursor {
    type Err = KvError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() > MAX_KEY_LEN * 2 {
            return Err(KvError::InvalidCursor);
        }
        let bytes = hex::decode(s).map_err(|_| KvError::InvalidCursor)?;
        let after = String::from_utf8(bytes).map_err(|_| KvError::InvalidCursor)?;
        if after.is_empty() {
            return Err(KvError::InvalidCursor);
        }
        Ok(Self { after })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let cursor = Cursor::after_key("a\0}{*é");
        let parsed: Cursor = cursor.to_string().parse().unwrap();
        assert_eq!(parsed, cursor);
        for bad in ["zz", "", "ff", "6"] {
            assert!(
                matches!(bad.parse::<Cursor>(), Err(KvError::InvalidCursor)),
                "{bad}"
            );
        }
    }
}

//! Durable key-value storage (`warden:platform/kv`).
//!
//! Keys are strings of 1..=1024 bytes with any content; the host puts the
//! calling tenant in front of every key, so a function only ever sees its
//! own tenant's data. A write returns once it is durable. Values are bytes;
//! [`get_json`] / [`set_json`] store JSON documents, and counters written by
//! [`increment`] are decimal `i64` text.
//!
//! ```no_run
//! use warden_sdk::kv;
//!
//! # fn demo() -> Result<(), kv::Error> {
//! let visits = kv::increment("visits", 1)?;
//! kv::set("greeting", "hello")?;
//! for key in kv::list_all("user:") {
//!     let key = key?;
//!     # let _ = key;
//! }
//! # let _ = visits;
//! # Ok(())
//! # }
//! ```
//!
//! On native targets (unit tests) the calls go to an in-memory store local
//! to the calling thread, with the host's key, value-size, counter and
//! paging rules; see [`crate::testing`].

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::HttpError;
use crate::capability_error::{self, CapabilityError, Kind};

#[cfg(not(target_arch = "wasm32"))]
use crate::native::kv as sys;
#[cfg(target_arch = "wasm32")]
use wasm as sys;

/// Most keys one [`list`] call returns; larger limits are clamped.
pub const MAX_PAGE: u32 = 1000;

/// Why a kv call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The key (or list prefix) is empty or longer than 1024 bytes.
    InvalidKey(String),
    /// The value is over the node's value-size cap.
    ValueTooLarge {
        /// The cap, in bytes.
        max: u64,
    },
    /// [`increment`] on a value that is not a decimal `i64`.
    NotAnInteger,
    /// [`increment`] would overflow an `i64`.
    Overflow,
    /// The listing cursor is malformed (not one a [`list`] call returned).
    InvalidCursor(String),
    /// The backend is unreachable right now; retry later.
    Unavailable(String),
    /// Anything else that went wrong in the host.
    Internal(String),
    /// SDK-side: [`get_json`] found a value that is not JSON of the expected
    /// shape, or [`set_json`] could not serialize the value.
    Json(String),
}

impl Error {
    /// The WIT name of the error case, kebab-case (`"invalid-key"`,
    /// `"value-too-large"`, ...); `"json"` for [`Error::Json`].
    pub fn code(&self) -> &'static str {
        self.kind_code()
    }

    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind_is_retryable()
    }
}

impl CapabilityError for Error {
    const CAPABILITY: &'static str = "kv";

    fn parts(&self) -> (Kind, &dyn fmt::Display) {
        match self {
            Error::InvalidKey(why) => (Kind::InvalidKey, why),
            Error::ValueTooLarge { max } => (Kind::ValueTooLarge, max),
            Error::NotAnInteger => (Kind::NotAnInteger, &""),
            Error::Overflow => (Kind::Overflow, &""),
            Error::InvalidCursor(why) => (Kind::InvalidCursor, why),
            Error::Unavailable(why) => (Kind::Unavailable, why),
            Error::Internal(why) => (Kind::Internal, why),
            Error::Json(why) => (Kind::Json, why),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        capability_error::fmt(self, f)
    }
}

impl std::error::Error for Error {}

/// For `?` in handlers: bad keys, cursors and counters are 400s, a value
/// over the cap is 413, an unreachable backend 503 (with `retry-after: 1`),
/// the rest 500. Codes are the snake_case error names (`invalid_key`).
impl From<Error> for HttpError {
    fn from(err: Error) -> Self {
        capability_error::to_http_error(&err)
    }
}

/// One page of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Page {
    /// Keys in byte order.
    pub keys: Vec<String>,
    /// Pass to the next [`list`] call; `None` when the listing is complete.
    /// Opaque text, safe in URLs and JSON.
    pub cursor: Option<String>,
}

/// The value of `key`, if any.
pub fn get(key: &str) -> Result<Option<Vec<u8>>, Error> {
    sys::get(key)
}

/// Stores `value` under `key`, replacing any previous value.
pub fn set(key: &str, value: impl AsRef<[u8]>) -> Result<(), Error> {
    sys::set(key, value.as_ref())
}

/// Removes `key`; `true` if it existed.
pub fn delete(key: &str) -> Result<bool, Error> {
    sys::delete(key)
}

/// Up to `limit` keys (1..=[`MAX_PAGE`], clamped) that start with `prefix`,
/// in byte order, resuming after `cursor` (from the previous page).
///
/// Pages never repeat or skip keys that exist throughout the listing. An
/// empty prefix lists every key of the tenant.
pub fn list(prefix: &str, cursor: Option<&str>, limit: u32) -> Result<Page, Error> {
    sys::list(prefix, cursor, limit)
}

/// Every key starting with `prefix`, fetched a page of [`MAX_PAGE`] at a
/// time as the iterator advances. After an error it ends.
pub fn list_all(prefix: &str) -> ListAll {
    ListAll {
        prefix: prefix.to_owned(),
        cursor: None,
        buffered: Vec::new().into_iter(),
        done: false,
        page_size: MAX_PAGE,
    }
}

/// The iterator of [`list_all`].
#[derive(Debug)]
pub struct ListAll {
    prefix: String,
    cursor: Option<String>,
    buffered: std::vec::IntoIter<String>,
    done: bool,
    page_size: u32,
}

impl ListAll {
    /// Fetches `size` keys per host call instead of [`MAX_PAGE`].
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size.clamp(1, MAX_PAGE);
        self
    }
}

impl Iterator for ListAll {
    type Item = Result<String, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(key) = self.buffered.next() {
                return Some(Ok(key));
            }
            if self.done {
                return None;
            }
            match list(&self.prefix, self.cursor.as_deref(), self.page_size) {
                Ok(page) => {
                    self.done = page.cursor.is_none();
                    self.cursor = page.cursor;
                    self.buffered = page.keys.into_iter();
                }
                Err(err) => {
                    self.done = true;
                    return Some(Err(err));
                }
            }
        }
    }
}

/// Sets `key` to `new` only if its current value is `expected` (`None`:
/// only if the key is absent). `true` if it swapped; atomic with respect to
/// every other write.
pub fn compare_and_swap(
    key: &str,
    expected: Option<&[u8]>,
    new: impl AsRef<[u8]>,
) -> Result<bool, Error> {
    sys::compare_and_swap(key, expected, new.as_ref())
}

/// Adds `delta` to the counter at `key` (absent counts as 0) atomically and
/// returns the new value. The counter is stored as decimal text, so
/// [`get`] reads it as e.g. `b"42"`.
pub fn increment(key: &str, delta: i64) -> Result<i64, Error> {
    sys::increment(key, delta)
}

/// The value of `key` parsed as JSON into `T`; [`Error::Json`] if it is not.
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>, Error> {
    get(key)?
        .map(|bytes| {
            serde_json::from_slice(&bytes).map_err(|err| {
                Error::Json(format!("value of {key:?} is not the JSON expected: {err}"))
            })
        })
        .transpose()
}

/// Stores `value` as JSON under `key`.
pub fn set_json<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<(), Error> {
    let bytes = serde_json::to_vec(value)
        .map_err(|err| Error::Json(format!("cannot serialize the value of {key:?}: {err}")))?;
    set(key, bytes)
}

/// The host calls.
#[cfg(target_arch = "wasm32")]
mod wasm {
    use super::{Error, Page};
    use crate::bindings::warden::platform::kv as wit;

    impl From<wit::Error> for Error {
        fn from(err: wit::Error) -> Self {
            match err {
                wit::Error::InvalidKey(why) => Error::InvalidKey(why),
                wit::Error::ValueTooLarge(max) => Error::ValueTooLarge { max },
                wit::Error::NotAnInteger => Error::NotAnInteger,
                wit::Error::Overflow => Error::Overflow,
                wit::Error::InvalidCursor(why) => Error::InvalidCursor(why),
                wit::Error::Unavailable(why) => Error::Unavailable(why),
                wit::Error::Internal(why) => Error::Internal(why),
            }
        }
    }

    pub fn get(key: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(wit::get(key)?)
    }

    pub fn set(key: &str, value: &[u8]) -> Result<(), Error> {
        Ok(wit::set(key, value)?)
    }

    pub fn delete(key: &str) -> Result<bool, Error> {
        Ok(wit::delete(key)?)
    }

    pub fn list(prefix: &str, cursor: Option<&str>, limit: u32) -> Result<Page, Error> {
        let page = wit::list(prefix, cursor, limit)?;
        Ok(Page {
            keys: page.keys,
            cursor: page.cursor,
        })
    }

    pub fn compare_and_swap(key: &str, expected: Option<&[u8]>, new: &[u8]) -> Result<bool, Error> {
        Ok(wit::compare_and_swap(key, expected, new)?)
    }

    pub fn increment(key: &str, delta: i64) -> Result<i64, Error> {
        Ok(wit::increment(key, delta)?)
    }
}

// These run against the native stand-ins.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn crud_and_counters() {
        assert_eq!(get("a"), Ok(None));
        set("a", "1").expect("set");
        assert_eq!(get("a"), Ok(Some(b"1".to_vec())));
        assert_eq!(increment("a", 41), Ok(42));
        assert_eq!(get("a"), Ok(Some(b"42".to_vec())));
        assert_eq!(delete("a"), Ok(true));
        assert_eq!(delete("a"), Ok(false));
        set("text", "x").expect("set");
        assert_eq!(increment("text", 1), Err(Error::NotAnInteger));
        assert_eq!(increment("big", i64::MAX), Ok(i64::MAX));
        assert_eq!(increment("big", 1), Err(Error::Overflow));
        assert!(matches!(get(""), Err(Error::InvalidKey(_))));
        assert!(matches!(get(&"k".repeat(1025)), Err(Error::InvalidKey(_))));
    }

    #[test]
    fn compare_and_swap_checks_the_current_value() {
        assert_eq!(compare_and_swap("k", Some(b"x"), "y"), Ok(false));
        assert_eq!(compare_and_swap("k", None, "v1"), Ok(true));
        assert_eq!(compare_and_swap("k", None, "v2"), Ok(false));
        assert_eq!(compare_and_swap("k", Some(b"v1"), "v2"), Ok(true));
        assert_eq!(get("k"), Ok(Some(b"v2".to_vec())));
    }

    #[test]
    fn pages_cover_the_prefix_once() {
        for i in 0..7 {
            set(&format!("p:{i}"), "v").expect("set");
        }
        set("q:0", "v").expect("set");
        let first = list("p:", None, 3).expect("list");
        assert_eq!(first.keys, ["p:0", "p:1", "p:2"]);
        let second = list("p:", first.cursor.as_deref(), 3).expect("list");
        assert_eq!(second.keys, ["p:3", "p:4", "p:5"]);
        let last = list("p:", second.cursor.as_deref(), 3).expect("list");
        assert_eq!((last.keys.len(), last.cursor), (1, None));
        let all: Result<Vec<String>, Error> = list_all("p:").page_size(2).collect();
        assert_eq!(all.map(|keys| keys.len()), Ok(7));
        assert!(matches!(
            list("p:", Some("not hex"), 3),
            Err(Error::InvalidCursor(_))
        ));
    }

    #[test]
    fn json_round_trip_and_errors_map_to_http() {
        set_json("doc", &serde_json::json!({"n": 1})).expect("set");
        let doc: Option<serde_json::Value> = get_json("doc").expect("get_json");
        assert_eq!(doc, Some(serde_json::json!({"n": 1})));
        set("doc", "{").expect("set");
        let broken = get_json::<serde_json::Value>("doc");
        assert!(matches!(broken, Err(Error::Json(_))));
        let http = HttpError::from(Error::Unavailable("down".into()));
        assert_eq!((http.status(), http.code()), (503, "unavailable"));
        assert_eq!(http.headers().get("retry-after"), Some("1"));
        assert_eq!(
            HttpError::from(Error::NotAnInteger).code(),
            "not_an_integer"
        );
        assert_eq!(Error::InvalidKey(String::new()).code(), "invalid-key");
    }
}

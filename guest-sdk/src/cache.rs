//! A size-bounded cache with TTLs (`warden:platform/cache`).
//!
//! Keys are strings of 1..=1024 bytes scoped by the host to the calling
//! tenant; TTLs run from 1 ms to 30 days. A cache may forget anything at any
//! time: keep what must survive in [`kv`](crate::kv).
//!
//! [`get_or_load`] is the read-through helper: on a miss exactly one request
//! per node runs the loader while concurrent requests for the same key wait
//! in the host (costing no CPU) and then share its value.
//!
//! ```no_run
//! use std::time::Duration;
//! use warden_sdk::{HttpError, cache, kv};
//!
//! # fn demo() -> Result<Vec<u8>, HttpError> {
//! let profile = cache::get_or_load("profile:42", Duration::from_secs(30), Duration::from_secs(5), || {
//!     kv::get("profile:42")?.ok_or_else(|| HttpError::not_found("no profile 42"))
//! })?;
//! # Ok(profile)
//! # }
//! ```
//!
//! On native targets (unit tests) the calls go to an in-memory cache local
//! to the calling thread, with the host's key, value-size and TTL rules;
//! [`get_or_load`] then always loads on a miss (there is nobody to wait
//! for). See [`crate::testing`].

use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::HttpError;
use crate::capability_error::{self, CapabilityError, Kind};

#[cfg(not(target_arch = "wasm32"))]
use crate::native::cache as sys;
#[cfg(target_arch = "wasm32")]
use wasm as sys;

/// Why a cache call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The key is empty or longer than 1024 bytes.
    InvalidKey(String),
    /// The value is over the node's value-size cap.
    ValueTooLarge {
        /// The cap, in bytes.
        max: u64,
    },
    /// The TTL is under 1 ms or over 30 days.
    InvalidTtl(String),
    /// The backend is unreachable right now; retry later or go without.
    Unavailable(String),
    /// Anything else that went wrong in the host.
    Internal(String),
    /// SDK-side: [`get_json`] found a value that is not JSON of the expected
    /// shape, or [`set_json`] could not serialize the value.
    Json(String),
}

impl Error {
    /// The WIT name of the error case, kebab-case (`"invalid-key"`,
    /// `"invalid-ttl"`, ...); `"json"` for [`Error::Json`].
    pub fn code(&self) -> &'static str {
        self.kind_code()
    }

    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind_is_retryable()
    }
}

impl CapabilityError for Error {
    const CAPABILITY: &'static str = "cache";

    fn parts(&self) -> (Kind, &dyn fmt::Display) {
        match self {
            Error::InvalidKey(why) => (Kind::InvalidKey, why),
            Error::ValueTooLarge { max } => (Kind::ValueTooLarge, max),
            Error::InvalidTtl(why) => (Kind::InvalidTtl, why),
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

/// For `?` in handlers: a bad key is 400, a value over the cap 413, an
/// unreachable backend 503 (with `retry-after: 1`), the rest 500. Codes are
/// the snake_case error names (`invalid_key`).
impl From<Error> for HttpError {
    fn from(err: Error) -> Self {
        capability_error::to_http_error(&err)
    }
}

/// [`get_or_load`] failed: either the cache or the loader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadThroughError<E> {
    /// The cache refused the lookup (bad key, backend down, ...).
    Cache(Error),
    /// The loader failed; its fill lease was released.
    Load(E),
}

impl<E: fmt::Display> fmt::Display for ReadThroughError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadThroughError::Cache(err) => err.fmt(f),
            ReadThroughError::Load(err) => write!(f, "loading the value failed: {err}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for ReadThroughError<E> {}

/// A cache failure converts like [`Error`]; a load failure as the loader's
/// own error would.
impl<E: Into<HttpError>> From<ReadThroughError<E>> for HttpError {
    fn from(err: ReadThroughError<E>) -> Self {
        match err {
            ReadThroughError::Cache(err) => err.into(),
            ReadThroughError::Load(err) => err.into(),
        }
    }
}

/// The cached value of `key`, if any.
pub fn get(key: &str) -> Result<Option<Vec<u8>>, Error> {
    sys::get(key)
}

/// Caches `value` under `key` for `ttl` (1 ms ..= 30 days; sub-millisecond
/// parts are rounded up).
pub fn set(key: &str, value: impl AsRef<[u8]>, ttl: Duration) -> Result<(), Error> {
    sys::set(key, value.as_ref(), millis(ttl))
}

/// Removes `key` (a no-op if absent).
pub fn delete(key: &str) -> Result<(), Error> {
    sys::delete(key)
}

/// Whether a [`get_or_lease`] found the value or made the caller its loader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The value is cached.
    Hit(Vec<u8>),
    /// A miss, and this caller holds the fill lease: load the value, then
    /// [`set`] it, or [`release`] the lease if loading fails.
    Fill,
}

/// The low-level single-flight lookup behind [`get_or_load`].
///
/// On a miss exactly one caller per node gets [`Lookup::Fill`]; the others
/// wait in the host (at most `lease`) until it calls [`set`] and then get
/// [`Lookup::Hit`]. A lease not filled in time passes to a waiter; the
/// lease also ends with the request that holds it.
pub fn get_or_lease(key: &str, lease: Duration) -> Result<Lookup, Error> {
    sys::get_or_lease(key, millis(lease))
}

/// Gives up a fill lease from [`get_or_lease`] without setting a value, waking
/// the waiters (one of them becomes the next loader).
pub fn release(key: &str) {
    sys::release(key);
}

/// Read-through: the cached value of `key`, or the value `loader` produces,
/// cached for `ttl`.
///
/// On a miss one request per node runs `loader` while concurrent requests
/// for the same key wait in the host for at most `lease` and then get its
/// value; a loader that takes longer than `lease` lets a waiter load too.
/// If the loader fails its lease is released at once and its error is
/// returned as [`ReadThroughError::Load`].
///
/// If the loaded value cannot be cached (too large, backend down) it is
/// still returned, with a warning on stderr (the function's log): the load
/// succeeded, the cache is only a shortcut.
///
/// Use [`get_or_load_with`] to learn whether this call ran the loader.
pub fn get_or_load<E>(
    key: &str,
    ttl: Duration,
    lease: Duration,
    loader: impl FnOnce() -> Result<Vec<u8>, E>,
) -> Result<Vec<u8>, ReadThroughError<E>> {
    get_or_load_with(key, ttl, lease, loader).map(|(value, _)| value)
}

/// [`get_or_load`], also telling whether this call ran the loader (`true`)
/// or found the value cached (`false`).
pub fn get_or_load_with<E>(
    key: &str,
    ttl: Duration,
    lease: Duration,
    loader: impl FnOnce() -> Result<Vec<u8>, E>,
) -> Result<(Vec<u8>, bool), ReadThroughError<E>> {
    match get_or_lease(key, lease).map_err(ReadThroughError::Cache)? {
        Lookup::Hit(value) => Ok((value, false)),
        Lookup::Fill => match loader() {
            Ok(value) => {
                if let Err(err) = set(key, &value, ttl) {
                    // `set` ends the lease even when it fails; make sure.
                    release(key);
                    eprintln!("warden-sdk: cache: could not cache the value of {key:?}: {err}");
                }
                Ok((value, true))
            }
            Err(err) => {
                release(key);
                Err(ReadThroughError::Load(err))
            }
        },
    }
}

/// The cached value of `key` parsed as JSON into `T`; [`Error::Json`] if it
/// is not.
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>, Error> {
    get(key)?
        .map(|bytes| {
            serde_json::from_slice(&bytes).map_err(|err| {
                Error::Json(format!("cached {key:?} is not the JSON expected: {err}"))
            })
        })
        .transpose()
}

/// Caches `value` as JSON under `key` for `ttl`.
pub fn set_json<T: Serialize + ?Sized>(key: &str, value: &T, ttl: Duration) -> Result<(), Error> {
    let bytes = serde_json::to_vec(value)
        .map_err(|err| Error::Json(format!("cannot serialize the value of {key:?}: {err}")))?;
    set(key, bytes, ttl)
}

/// `duration` in whole milliseconds, rounded up, saturating.
fn millis(duration: Duration) -> u64 {
    let ms = duration.as_nanos().div_ceil(1_000_000);
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// The host calls.
#[cfg(target_arch = "wasm32")]
mod wasm {
    use super::{Error, Lookup};
    use crate::bindings::warden::platform::cache as wit;

    impl From<wit::Error> for Error {
        fn from(err: wit::Error) -> Self {
            match err {
                wit::Error::InvalidKey(why) => Error::InvalidKey(why),
                wit::Error::ValueTooLarge(max) => Error::ValueTooLarge { max },
                wit::Error::InvalidTtl(why) => Error::InvalidTtl(why),
                wit::Error::Unavailable(why) => Error::Unavailable(why),
                wit::Error::Internal(why) => Error::Internal(why),
            }
        }
    }

    pub fn get(key: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(wit::get(key)?)
    }

    pub fn set(key: &str, value: &[u8], ttl_ms: u64) -> Result<(), Error> {
        Ok(wit::set(key, value, ttl_ms)?)
    }

    pub fn delete(key: &str) -> Result<(), Error> {
        Ok(wit::delete(key)?)
    }

    pub fn get_or_lease(key: &str, lease_ms: u64) -> Result<Lookup, Error> {
        Ok(match wit::get_or_lease(key, lease_ms)? {
            wit::Lookup::Hit(value) => Lookup::Hit(value),
            wit::Lookup::Fill => Lookup::Fill,
        })
    }

    pub fn release(key: &str) {
        wit::release(key);
    }
}

// These run against the native stand-ins.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(60);
    const LEASE: Duration = Duration::from_secs(1);

    #[test]
    fn set_get_delete_with_ttl() {
        assert_eq!(get("k"), Ok(None));
        set("k", "v", TTL).expect("set");
        assert_eq!(get("k"), Ok(Some(b"v".to_vec())));
        delete("k").expect("delete");
        assert_eq!(get("k"), Ok(None));
        set("short", "v", Duration::from_millis(1)).expect("set");
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(get("short"), Ok(None));
        assert!(matches!(
            set("k", "v", Duration::ZERO),
            Err(Error::InvalidTtl(_))
        ));
        assert!(matches!(get(""), Err(Error::InvalidKey(_))));
    }

    #[test]
    fn get_or_load_loads_once_then_hits() {
        let mut loads = 0;
        let mut load = || -> Result<Vec<u8>, HttpError> {
            loads += 1;
            Ok(b"fresh".to_vec())
        };
        let first = get_or_load_with("rt", TTL, LEASE, &mut load);
        assert_eq!(first, Ok((b"fresh".to_vec(), true)));
        let second = get_or_load_with("rt", TTL, LEASE, &mut load);
        assert_eq!(second, Ok((b"fresh".to_vec(), false)));
        assert_eq!(loads, 1);
    }

    #[test]
    fn failed_loads_are_not_cached() {
        let failed = get_or_load("rt", TTL, LEASE, || Err(HttpError::not_found("gone")));
        let http = HttpError::from(failed.expect_err("the loader failed"));
        assert_eq!(http.status(), 404);
        assert_eq!(get("rt"), Ok(None));
        let bad_key = get_or_load("", TTL, LEASE, || Ok::<_, HttpError>(Vec::new()));
        assert!(matches!(
            bad_key,
            Err(ReadThroughError::Cache(Error::InvalidKey(_)))
        ));
    }

    #[test]
    fn json_round_trip() {
        set_json("doc", &[1, 2], TTL).expect("set");
        assert_eq!(get_json::<Vec<u8>>("doc"), Ok(Some(vec![1, 2])));
        assert!(matches!(get_json::<String>("doc"), Err(Error::Json(_))));
    }

    #[test]
    fn durations_round_up_to_milliseconds() {
        assert_eq!(millis(Duration::from_micros(1)), 1);
        assert_eq!(millis(Duration::from_millis(30)), 30);
        assert_eq!(millis(Duration::MAX), u64::MAX);
    }
}

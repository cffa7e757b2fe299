//! In-memory stand-ins for the host's capabilities, used on native targets
//! so handlers can be unit-tested with `cargo test`.
//!
//! State lives in a thread local: every test (cargo runs each on its own
//! thread) starts with an empty store, and [`crate::testing::reset`] empties
//! it again. The stand-ins apply the host's rules (key length, value caps,
//! TTL range, counter format, paging, GCRA) so tests see the same errors a
//! deployed function would; tenant scoping is moot with a single caller.
//! The key rules, the quota rules and the GCRA step are not copies: they
//! come from `warden-plugin-core`, the crate the host's plugins use.

pub(crate) mod cache;
pub(crate) mod flags;
pub(crate) mod kv;
pub(crate) mod model;
pub(crate) mod rate_limit;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// The host's default cap on one kv or cache value.
const MAX_VALUE_BYTES: usize = 1024 * 1024;

/// Everything the stand-ins remember.
#[derive(Default)]
pub(crate) struct State {
    pub kv: BTreeMap<String, Vec<u8>>,
    pub cache: HashMap<String, (Vec<u8>, Instant)>,
    /// Theoretical arrival time per bucket, nanoseconds since `epoch`.
    pub buckets: HashMap<String, u64>,
    pub epoch: Option<Instant>,
    pub flags: HashMap<String, crate::flags::Variant>,
    /// What [`crate::auth::principal`] returns.
    pub principal: Option<crate::auth::Principal>,
    /// What the model stand-in answers instead of its default.
    pub model_reply: Option<Result<String, crate::model::Error>>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// Runs `f` on this thread's state.
pub(crate) fn with<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(|state| f(&mut state.borrow_mut()))
}

/// Forgets everything on this thread.
pub(crate) fn reset() {
    with(|state| *state = State::default());
}

/// Checks a key with the plugins' own rules (1..=1024 bytes, any
/// content), as text for the capability's `InvalidKey`.
fn check_key(key: &str) -> Result<(), String> {
    warden_plugin_core::check_key(key).map_err(|err| err.to_string())
}

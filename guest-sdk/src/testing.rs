//! Controls for the in-memory capabilities that stand in for the host on
//! native targets.
//!
//! On native targets [`kv`](crate::kv), [`cache`](crate::cache) and
//! [`rate_limit`](crate::rate_limit) work against in-memory state that
//! follows the host's rules, and [`flags`](crate::flags) knows only the
//! flags a test defines here. The state is per thread: each `#[test]` starts
//! empty, and code that spawns threads sees a separate, empty state on each.
//! The same goes for the verified principal: [`auth::principal`](crate::auth::principal)
//! is `None` unless a test sets one with [`set_principal`].
//!
//! In wasm builds the real host answers and these functions do nothing;
//! they exist there only so test code type-checks for every target.

use crate::auth::Principal;
use crate::flags::Variant;

/// Empties this thread's kv, cache, rate-limit buckets and flags, and
/// clears its principal.
pub fn reset() {
    #[cfg(not(target_arch = "wasm32"))]
    crate::native::reset();
}

/// Makes `flag` evaluate to `variant` (for every context) on this thread;
/// `None` makes it unknown again.
pub fn set_flag(flag: &str, variant: Option<Variant>) {
    #[cfg(not(target_arch = "wasm32"))]
    crate::native::with(|state| match variant {
        Some(variant) => state.flags.insert(flag.to_owned(), variant),
        None => state.flags.remove(flag),
    });
    #[cfg(target_arch = "wasm32")]
    let _ = (flag, variant);
}

/// Makes [`auth::principal`](crate::auth::principal) (and `has_scope`,
/// `require_scope`) see `principal` on this thread, as if the gateway had
/// verified it, until [`clear_principal`] or [`reset`].
///
/// For unit tests of authenticated paths; natively there is no gateway.
pub fn set_principal(principal: Principal) {
    #[cfg(not(target_arch = "wasm32"))]
    crate::native::with(|state| state.principal = Some(principal));
    #[cfg(target_arch = "wasm32")]
    let _ = principal;
}

/// Back to no principal on this thread, as on a route without gateway auth.
pub fn clear_principal() {
    #[cfg(not(target_arch = "wasm32"))]
    crate::native::with(|state| state.principal = None);
}

/// Makes the model stand-in answer `reply` on this thread: `Ok(text)` as
/// every completion (and stream, word by word), `Err(e)` as every call's
/// error; `None` restores the default answer (`"echo: "` and the last user
/// message).
pub fn set_model_reply(reply: Option<Result<String, crate::model::Error>>) {
    #[cfg(not(target_arch = "wasm32"))]
    crate::native::with(|state| state.model_reply = reply);
    #[cfg(target_arch = "wasm32")]
    let _ = reply;
}

//! Controls for the in-memory capabilities that stand in for the host on
//! native targets.
//!
//! On native targets [`kv`](crate::kv), [`cache`](crate::cache) and
//! [`rate_limit`](crate::rate_limit) work against in-memory state that
//! follows the host's rules, and [`flags`](crate::flags) knows only the
//! flags a test defines here. The state is per thread: each `#[test]` starts
//! empty, and code that spawns threads sees a separate, empty state on each.
//!
//! In wasm builds the real host answers and these functions do nothing;
//! they exist there only so test code type-checks for every target.

use crate::flags::Variant;

/// Empties this thread's kv, cache, rate-limit buckets and flags.
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

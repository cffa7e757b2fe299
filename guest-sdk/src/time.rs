//! Waiting without burning CPU (`wasi:clocks/monotonic-clock`).

use std::time::Duration;

/// Blocks the handler for `duration`.
///
/// On Warden this subscribes to the monotonic clock
/// (`wasi:clocks/monotonic-clock.subscribe-duration`, part of
/// `wasi:http/proxy`) and blocks on the pollable: the host parks the
/// request asynchronously, so a sleeping guest uses no CPU and does not eat
/// into its CPU-time budget, only into its wall-clock timeout. Durations
/// beyond `u64::MAX` nanoseconds (~584 years) are clamped.
///
/// On native targets it is [`std::thread::sleep`].
pub fn sleep(duration: Duration) {
    #[cfg(target_arch = "wasm32")]
    {
        use crate::bindings::wasi::clocks::monotonic_clock;
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        monotonic_clock::subscribe_duration(nanos).block();
    }
    #[cfg(not(target_arch = "wasm32"))]
    std::thread::sleep(duration);
}

/// Nanoseconds on the monotonic clock: only differences between two calls
/// mean anything. Natively, since an arbitrary fixed point of the process.
pub fn monotonic_now() -> Duration {
    #[cfg(target_arch = "wasm32")]
    {
        Duration::from_nanos(crate::bindings::wasi::clocks::monotonic_clock::now())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::sync::OnceLock;
        use std::time::Instant;
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeps_at_least_the_duration() {
        let start = monotonic_now();
        sleep(Duration::from_millis(20));
        assert!(monotonic_now() - start >= Duration::from_millis(20));
    }
}

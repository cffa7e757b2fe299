//! What every limiter backend promises. Quotas are slow (per hour) where a
//! test needs a stable state, so a loaded machine cannot refill a bucket
//! between two calls; the refill test only relies on time passing.

use std::time::Duration;

use warden_plugin_core::{KeyError, MAX_KEY_LEN};
use warden_plugin_rate_limit::{Quota, RateLimitError, RateLimiter, Tenant};

use crate::fixtures::contract;

const HOUR: Duration = Duration::from_secs(3600);

fn tenant(id: &str) -> Tenant {
    Tenant::new(id).unwrap()
}

/// Consumes `n` single units, returning how many were allowed.
async fn drain(limiter: &dyn RateLimiter, t: &Tenant, key: &str, quota: &Quota, n: u32) -> u32 {
    let mut allowed = 0;
    for _ in 0..n {
        allowed += u32::from(limiter.check(t, key, quota, 1).await.unwrap().allowed);
    }
    allowed
}

async fn allows_the_burst_then_denies(limiter: &dyn RateLimiter) {
    let t = tenant("a");
    let quota = Quota::new(10, HOUR).with_burst(5);
    for expected_remaining in (0..5).rev() {
        let d = limiter.check(&t, "k", &quota, 1).await.unwrap();
        assert!(d.allowed);
        assert_eq!(d.remaining, expected_remaining);
        assert_eq!(d.limit, 5);
        assert_eq!(d.retry_after, Duration::ZERO);
    }
    let d = limiter.check(&t, "k", &quota, 1).await.unwrap();
    assert!(!d.allowed);
    assert_eq!(d.remaining, 0);
    // One unit refills every 360 s; the bucket is full 5 units later.
    let (retry, reset) = (d.retry_after.as_secs_f64(), d.reset_after.as_secs_f64());
    assert!((350.0..=360.0).contains(&retry), "{retry}");
    assert!((1790.0..=1800.0).contains(&reset), "{reset}");
}
contract!(allows_the_burst_then_denies);

async fn credit_refills_with_time(limiter: &dyn RateLimiter) {
    let t = tenant("a");
    let quota = Quota::per_second(20).with_burst(1);
    assert!(limiter.check(&t, "k", &quota, 1).await.unwrap().allowed);
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert!(limiter.check(&t, "k", &quota, 1).await.unwrap().allowed);
}
contract!(credit_refills_with_time);

async fn cost_is_all_or_nothing(limiter: &dyn RateLimiter) {
    let t = tenant("a");
    let quota = Quota::new(10, HOUR);
    let d = limiter.check(&t, "k", &quota, 7).await.unwrap();
    assert!(d.allowed);
    assert_eq!(d.remaining, 3);
    let d = limiter.check(&t, "k", &quota, 4).await.unwrap();
    assert!(!d.allowed);
    assert_eq!(d.remaining, 3);
    let d = limiter.check(&t, "k", &quota, 3).await.unwrap();
    assert!(d.allowed);
    assert_eq!(d.remaining, 0);
}
contract!(cost_is_all_or_nothing);

async fn zero_cost_reports_without_consuming(limiter: &dyn RateLimiter) {
    let t = tenant("a");
    let quota = Quota::new(3, HOUR);
    limiter.check(&t, "k", &quota, 1).await.unwrap();
    for _ in 0..3 {
        let d = limiter.check(&t, "k", &quota, 0).await.unwrap();
        assert!(d.allowed);
        assert_eq!(d.remaining, 2);
    }
}
contract!(zero_cost_reports_without_consuming);

async fn buckets_are_per_tenant_and_key(limiter: &dyn RateLimiter) {
    let (a, b) = (tenant("a"), tenant("b"));
    let quota = Quota::new(2, HOUR);
    let keys = ["k", "{b}", "}:rl:k", "*", "\0", "k\0"];
    for key in keys {
        assert_eq!(drain(limiter, &a, key, &quota, 3).await, 2, "{key:?}");
    }
    for key in keys {
        assert_eq!(drain(limiter, &b, key, &quota, 3).await, 2, "{key:?}");
    }
    let long = "k".repeat(MAX_KEY_LEN);
    assert_eq!(drain(limiter, &a, &long, &quota, 3).await, 2);
}
contract!(buckets_are_per_tenant_and_key);

async fn invalid_input_is_a_typed_error(limiter: &dyn RateLimiter) {
    let t = tenant("a");
    let quota = Quota::new(5, HOUR);
    let err = limiter.check(&t, "k", &quota, 6).await.unwrap_err();
    assert!(
        matches!(err, RateLimitError::CostExceedsBurst { cost: 6, burst: 5 }),
        "{err:?}"
    );
    for bad in [
        Quota::new(0, HOUR),
        Quota::new(5, Duration::ZERO),
        Quota::new(5, HOUR).with_burst(0),
        Quota::per_second(2_000_000),
    ] {
        let err = limiter.check(&t, "k", &bad, 1).await.unwrap_err();
        assert!(
            matches!(err, RateLimitError::InvalidQuota(_)),
            "{bad:?}: {err:?}"
        );
    }
    let long = "k".repeat(MAX_KEY_LEN + 1);
    let err = limiter.check(&t, &long, &quota, 1).await.unwrap_err();
    assert!(
        matches!(err, RateLimitError::Key(KeyError::TooLong { .. })),
        "{err:?}"
    );
    let err = limiter.check(&t, "", &quota, 1).await.unwrap_err();
    assert!(
        matches!(err, RateLimitError::Key(KeyError::Empty)),
        "{err:?}"
    );
}
contract!(invalid_input_is_a_typed_error);

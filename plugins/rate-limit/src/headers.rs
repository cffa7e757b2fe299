//! Values of the IETF rate-limit headers (draft-ietf-httpapi-ratelimit-headers)
//! and `Retry-After`, so every host emits them the same way.
//!
//! Plain strings, no HTTP types: this crate knows nothing of the transport.

use std::time::Duration;

use crate::{Decision, Quota};

/// `RateLimit-Policy` value, e.g. `"tier";q=100;w=60`: `q` units per `w`
/// seconds (the quota's count and period, period rounded up to a second).
pub fn policy(name: &str, quota: &Quota) -> String {
    format!(
        "{};q={};w={}",
        sf_string(name),
        quota.count,
        ceil_secs(quota.period).max(1)
    )
}

/// `RateLimit` value, e.g. `"tier";r=42;t=3`: `r` units left, `t` seconds
/// until the bucket is full again.
pub fn ratelimit(name: &str, decision: &Decision) -> String {
    format!(
        "{};r={};t={}",
        sf_string(name),
        decision.remaining,
        ceil_secs(decision.reset_after)
    )
}

/// `Retry-After` value in whole seconds (rounded up, at least 1), only for
/// denied decisions.
pub fn retry_after(decision: &Decision) -> Option<String> {
    (!decision.allowed).then(|| ceil_secs(decision.retry_after).max(1).to_string())
}

fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// An RFC 8941 sf-string: quoted, `"` and `\` escaped, non-printable ASCII
/// dropped (policy names come from config, but a header must stay valid).
fn sf_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars().filter(|c| (' '..='~').contains(c)) {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_policy_state_and_retry_after() {
        let quota = Quota::new(100, Duration::from_secs(60));
        assert_eq!(policy("tier", &quota), r#""tier";q=100;w=60"#);
        let denied = Decision {
            allowed: false,
            limit: 100,
            remaining: 0,
            retry_after: Duration::from_millis(1500),
            reset_after: Duration::from_millis(59_001),
        };
        assert_eq!(ratelimit("tier", &denied), r#""tier";r=0;t=60"#);
        assert_eq!(retry_after(&denied).as_deref(), Some("2"));
        let allowed = Decision {
            allowed: true,
            ..denied
        };
        assert_eq!(retry_after(&allowed), None);
        assert_eq!(sf_string("a\"b\\c\né"), r#""a\"b\\c""#);
    }
}

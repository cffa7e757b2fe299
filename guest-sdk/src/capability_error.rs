//! The one mapping of capability failures to codes, messages and HTTP
//! statuses.
//!
//! [`kv`](crate::kv), [`cache`](crate::cache) and
//! [`rate_limit`](crate::rate_limit) each have their own public `Error`
//! enum, but their cases are the same few kinds of failure. Each kind's
//! stable code, wording and status is defined here, once, so a bad key is
//! `invalid_key` / 400 and an unreachable backend `unavailable` / 503 with
//! `retry-after: 1` whichever capability reports it.

use std::fmt;

use crate::HttpError;

/// A kind of capability failure, shared by the capabilities' errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The key (or list prefix) breaks the host's key rules: the caller's
    /// input, so 400.
    InvalidKey,
    /// A listing cursor the host never issued: client input, 400.
    InvalidCursor,
    /// A TTL out of range: the function's own constant, so 500.
    InvalidTtl,
    /// A quota the host cannot enforce: the function's own constant, 500.
    InvalidQuota,
    /// A value over the node's cap: 413.
    ValueTooLarge,
    /// A counter holding something else: 400.
    NotAnInteger,
    /// A counter that would overflow: 400.
    Overflow,
    /// The backend is unreachable: 503, worth retrying.
    Unavailable,
    /// The host failed otherwise: 500.
    Internal,
    /// SDK-side (de)serialization of a stored JSON value: 500.
    Json,
}

impl Kind {
    /// The stable, kebab-case code: the WIT case name, or `json`.
    pub(crate) const fn code(self) -> &'static str {
        match self {
            Kind::InvalidKey => "invalid-key",
            Kind::InvalidCursor => "invalid-cursor",
            Kind::InvalidTtl => "invalid-ttl",
            Kind::InvalidQuota => "invalid-quota",
            Kind::ValueTooLarge => "value-too-large",
            Kind::NotAnInteger => "not-an-integer",
            Kind::Overflow => "overflow",
            Kind::Unavailable => "unavailable",
            Kind::Internal => "internal",
            Kind::Json => "json",
        }
    }

    /// The status a handler answers with when it passes the error on.
    pub(crate) const fn status(self) -> u16 {
        match self {
            Kind::InvalidKey | Kind::InvalidCursor | Kind::NotAnInteger | Kind::Overflow => 400,
            Kind::ValueTooLarge => 413,
            Kind::Unavailable => 503,
            Kind::InvalidTtl | Kind::InvalidQuota | Kind::Internal | Kind::Json => 500,
        }
    }
}

/// What a capability's error tells the shared mapping: its capability's
/// name (the prefix of every message) and, per case, the kind and the
/// detail the case carries (`&""` for none).
pub(crate) trait CapabilityError {
    /// `"kv"`, `"cache"`, `"rate limit"`.
    const CAPABILITY: &'static str;

    /// The kind of this failure and its detail.
    fn parts(&self) -> (Kind, &dyn fmt::Display);

    /// The stable code of [`Kind::code`].
    fn kind_code(&self) -> &'static str {
        self.parts().0.code()
    }

    /// Whether retrying the same call later may succeed.
    fn kind_is_retryable(&self) -> bool {
        self.parts().0 == Kind::Unavailable
    }
}

/// The message of every capability error: `"<capability>: <what>"`.
pub(crate) fn fmt<E: CapabilityError>(err: &E, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let (kind, detail) = err.parts();
    write!(f, "{}: ", E::CAPABILITY)?;
    match kind {
        Kind::InvalidKey => write!(f, "invalid key: {detail}"),
        Kind::InvalidCursor => write!(f, "invalid cursor: {detail}"),
        Kind::InvalidTtl => write!(f, "invalid TTL: {detail}"),
        Kind::InvalidQuota => write!(f, "invalid quota: {detail}"),
        Kind::ValueTooLarge => write!(f, "value is larger than the {detail}-byte cap"),
        Kind::NotAnInteger => f.write_str("the value is not a decimal i64"),
        Kind::Overflow => f.write_str("the increment would overflow an i64"),
        Kind::Unavailable => write!(f, "backend unavailable: {detail}"),
        Kind::Internal => write!(f, "internal error: {detail}"),
        Kind::Json => write!(f, "{detail}"),
    }
}

/// The [`HttpError`] of every capability error: the kind's status, its
/// code in snake_case (`invalid_key`), the error's message, and
/// `retry-after: 1` on a 503 so clients back off briefly.
pub(crate) fn to_http_error<E: CapabilityError + fmt::Display>(err: &E) -> HttpError {
    let kind = err.parts().0;
    let http = HttpError::new(
        kind.status(),
        kind.code().replace('-', "_"),
        err.to_string(),
    );
    if kind == Kind::Unavailable {
        http.with_header("retry-after", "1")
    } else {
        http
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Probe(Kind);

    impl CapabilityError for Probe {
        const CAPABILITY: &'static str = "probe";
        fn parts(&self) -> (Kind, &dyn fmt::Display) {
            (self.0, &"why")
        }
    }

    impl fmt::Display for Probe {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt(self, f)
        }
    }

    #[test]
    fn one_status_and_code_per_kind() {
        let cases = [
            (
                Kind::InvalidKey,
                400,
                "invalid_key",
                "probe: invalid key: why",
            ),
            (
                Kind::ValueTooLarge,
                413,
                "value_too_large",
                "probe: value is larger than the why-byte cap",
            ),
            (
                Kind::InvalidTtl,
                500,
                "invalid_ttl",
                "probe: invalid TTL: why",
            ),
            (
                Kind::Unavailable,
                503,
                "unavailable",
                "probe: backend unavailable: why",
            ),
            (Kind::Json, 500, "json", "probe: why"),
        ];
        for (kind, status, code, message) in cases {
            let http = to_http_error(&Probe(kind));
            assert_eq!(
                (http.status(), http.code(), http.message()),
                (status, code, message)
            );
            let retry = http.headers().get("retry-after");
            assert_eq!(retry.is_some(), kind == Kind::Unavailable, "{kind:?}");
            assert_eq!(Probe(kind).kind_is_retryable(), kind == Kind::Unavailable);
        }
        assert_eq!(Probe(Kind::NotAnInteger).kind_code(), "not-an-integer");
    }
}

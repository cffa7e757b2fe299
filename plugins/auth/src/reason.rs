//! Why a request was refused: one stable name per failure, for logs,
//! metrics labels and tests. Never carries token bytes.

macro_rules! reasons {
    ($($variant:ident => $name:literal, $doc:literal;)*) => {
        /// The precise cause of a refusal. The public error code (see
        /// [`crate::AuthError::code`]) is coarser on purpose: a client learns
        /// `invalid_token`, the operator's log and metrics learn which check
        /// failed.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Reason {
            $(#[doc = $doc] $variant,)*
        }

        impl Reason {
            /// Every reason, in declaration order (for metrics export).
            pub const ALL: &'static [Reason] = &[$(Reason::$variant,)*];

            /// The stable snake_case name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Reason::$variant => $name,)*
                }
            }
        }
    };
}

reasons! {
    MissingToken => "missing_token", "No `Authorization` header.";
    NotBearer => "not_bearer", "The header is not `Bearer <token>`.";
    TooLarge => "too_large", "The header is over the 8 KiB cap.";
    Malformed => "malformed", "Not three non-empty dot-separated segments.";
    BadBase64 => "bad_base64", "A segment is not unpadded base64url (or not canonical).";
    BadJson => "bad_json", "Header or payload is not a JSON object.";
    DuplicateMember => "duplicate_member", "A JSON object repeats a member name.";
    AlgNone => "alg_none", "`alg` is `none` (any case).";
    AlgNotAllowed => "alg_not_allowed", "`alg` is missing or not one Warden accepts.";
    AlgMismatch => "alg_mismatch", "`alg` differs from the algorithm pinned to the key.";
    ForbiddenHeader => "forbidden_header", "The header carries `jku`, `x5u`, `x5c` or `jwk`.";
    UnknownCrit => "unknown_crit", "The header has `crit`; no extension is understood.";
    BadTyp => "bad_typ", "`typ` is neither `at+jwt` nor `JWT`.";
    BadKid => "bad_kid", "`kid` missing, too long or with characters outside the safe set.";
    UnknownKid => "unknown_kid", "No trusted key of the issuer has this `kid`.";
    UnknownIssuer => "unknown_issuer", "`iss` is not an issuer the tenant trusts.";
    BadSignature => "bad_signature", "The signature does not verify.";
    MissingClaim => "missing_claim", "One of `exp`, `iss`, `aud`, `sub` is missing.";
    InvalidClaim => "invalid_claim", "A claim has the wrong JSON type or range.";
    WrongAudience => "wrong_audience", "No `aud` value is one the tenant accepts.";
    Expired => "expired", "`exp` is past (beyond the leeway).";
    NotYetValid => "not_yet_valid", "`nbf` is in the future (beyond the leeway).";
    IssuedInFuture => "issued_in_future", "`iat` is in the future (beyond the leeway).";
    LifetimeTooLong => "lifetime_too_long", "The token lives longer than the tenant allows.";
    MissingJti => "missing_jti", "A single-use route got a token without `jti`.";
    Replayed => "replayed", "A single-use token was presented again.";
    InsufficientScope => "insufficient_scope", "A scope the route requires is missing.";
    StepUpRequired => "step_up_required", "`acr` or `auth_time` does not meet the route's step-up.";
    JwksUnavailable => "jwks_unavailable", "The issuer's keys could not be fetched (or are too stale).";
    StoreUnavailable => "store_unavailable", "The key or replay store could not be reached.";
    FamilyRevoked => "family_revoked", "The token's refresh family (`fid`) was revoked: logout, reuse or code replay.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case() {
        let mut names: Vec<_> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert!(names.iter().all(|n| {
            n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        }));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Reason::ALL.len());
    }
}

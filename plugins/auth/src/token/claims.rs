//! Registered claims, typed strictly, and the time rules.
//!
//! `exp`, `iss`, `aud` and `sub` are required. A claim of the wrong JSON
//! type (`iss` as an array, `aud` as an object, a date as a string) is
//! refused rather than ignored: a lenient reading is how one token means
//! different things to different parsers.

use serde_json::{Map, Value};

use crate::Reason;

/// The claims Warden acts on, plus the whole payload (for exposed claims).
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// `aud`, a string or an array of strings.
    pub audiences: Vec<String>,
    /// `exp`, seconds since the epoch.
    pub expires_at: u64,
    /// `nbf`.
    pub not_before: Option<u64>,
    /// `iat`.
    pub issued_at: Option<u64>,
    /// `jti`.
    pub token_id: Option<String>,
    /// `scope` (space-separated) or else `scp` (array or string).
    pub scopes: Vec<String>,
    /// `auth_time`.
    pub auth_time: Option<u64>,
    /// `acr`.
    pub acr: Option<String>,
    /// `amr`.
    pub amr: Vec<String>,
    /// Every member of the payload.
    pub all: Map<String, Value>,
}

/// Time limits of one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRules {
    /// Clock skew tolerated on every time comparison, in seconds.
    pub leeway_s: u64,
    /// Longest `exp - iat` (or `exp - now` without `iat`), in seconds.
    pub max_lifetime_s: u64,
}

impl Claims {
    /// Reads and types the claims of a payload.
    pub fn from_payload(all: Map<String, Value>) -> Result<Self, Reason> {
        let issuer = required_string(&all, "iss")?;
        let subject = required_string(&all, "sub")?;
        let audiences = match all.get("aud") {
            None => return Err(Reason::MissingClaim),
            Some(Value::String(aud)) => vec![aud.clone()],
            Some(Value::Array(items)) if !items.is_empty() => strings(items)?,
            Some(_) => return Err(Reason::InvalidClaim),
        };
        let expires_at = date(&all, "exp")?.ok_or(Reason::MissingClaim)?;
        let scopes = match (all.get("scope"), all.get("scp")) {
            (Some(Value::String(scope)), _) => {
                scope.split_whitespace().map(str::to_owned).collect()
            }
            (Some(_), _) => return Err(Reason::InvalidClaim),
            (None, Some(Value::Array(items))) => strings(items)?,
            (None, Some(Value::String(scp))) => scp.split_whitespace().map(str::to_owned).collect(),
            (None, Some(_)) => return Err(Reason::InvalidClaim),
            (None, None) => Vec::new(),
        };
        let amr = match all.get("amr") {
            None => Vec::new(),
            Some(Value::Array(items)) => strings(items)?,
            Some(_) => return Err(Reason::InvalidClaim),
        };
        Ok(Self {
            issuer,
            subject,
            audiences,
            expires_at,
            not_before: date(&all, "nbf")?,
            issued_at: date(&all, "iat")?,
            token_id: optional_string(&all, "jti")?,
            scopes,
            auth_time: date(&all, "auth_time")?,
            acr: optional_string(&all, "acr")?,
            amr,
            all,
        })
    }

    /// `exp`, `nbf`, `iat` and the lifetime cap, at `now` (seconds since
    /// the epoch).
    pub fn check_times(&self, now: u64, rules: TimeRules) -> Result<(), Reason> {
        let leeway = rules.leeway_s;
        if now >= self.expires_at.saturating_add(leeway) {
            return Err(Reason::Expired);
        }
        if self
            .not_before
            .is_some_and(|nbf| nbf > now.saturating_add(leeway))
        {
            return Err(Reason::NotYetValid);
        }
        if self
            .issued_at
            .is_some_and(|iat| iat > now.saturating_add(leeway))
        {
            return Err(Reason::IssuedInFuture);
        }
        let start = self.issued_at.unwrap_or(now);
        if self.expires_at.saturating_sub(start) > rules.max_lifetime_s {
            return Err(Reason::LifetimeTooLong);
        }
        Ok(())
    }

    /// Whether any `aud` is one of `accepted`.
    pub fn audience_ok(&self, accepted: &[String]) -> bool {
        self.audiences.iter().any(|aud| accepted.contains(aud))
    }
}

fn required_string(all: &Map<String, Value>, name: &str) -> Result<String, Reason> {
    optional_string(all, name)?.ok_or(Reason::MissingClaim)
}

fn optional_string(all: &Map<String, Value>, name: &str) -> Result<Option<String>, Reason> {
    match all.get(name) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(Reason::InvalidClaim),
    }
}

fn strings(items: &[Value]) -> Result<Vec<String>, Reason> {
    items
        .iter()
        .map(|item| match item {
            Value::String(s) => Ok(s.clone()),
            _ => Err(Reason::InvalidClaim),
        })
        .collect()
}

/// A NumericDate (RFC 7519 section 2): a non-negative number of seconds;
/// fractions are truncated.
fn date(all: &Map<String, Value>, name: &str) -> Result<Option<u64>, Reason> {
    let Some(value) = all.get(name) else {
        return Ok(None);
    };
    let Value::Number(n) = value else {
        return Err(Reason::InvalidClaim);
    };
    if let Some(secs) = n.as_u64() {
        return Ok(Some(secs));
    }
    match n.as_f64() {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Some(f) if f.is_finite() && f >= 0.0 && f < u64::MAX as f64 => Ok(Some(f as u64)),
        _ => Err(Reason::InvalidClaim),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(value: Value) -> Result<Claims, Reason> {
        let Value::Object(map) = value else { panic!() };
        Claims::from_payload(map)
    }

    const RULES: TimeRules = TimeRules {
        leeway_s: 30,
        max_lifetime_s: 900,
    };

    #[test]
    fn types_are_strict() {
        let base = json!({"iss": "i", "sub": "s", "aud": ["a", "b"], "exp": 1000.5, "scp": ["x"]});
        let c = claims(base.clone()).unwrap();
        assert_eq!(
            (c.expires_at, c.scopes.clone()),
            (1000, vec!["x".to_owned()])
        );
        assert!(c.audience_ok(&["b".to_owned()]) && !c.audience_ok(&["c".to_owned()]));
        for (name, bad) in [
            ("iss", json!(["i"])),
            ("aud", json!({"a": 1})),
            ("aud", json!([])),
            ("exp", json!("1000")),
            ("exp", json!(-1)),
            ("sub", json!("")),
            ("scope", json!(["x"])),
        ] {
            let mut v = base.clone();
            v[name] = bad;
            assert_eq!(claims(v).map(|_| ()), Err(Reason::InvalidClaim), "{name}");
        }
    }

    #[test]
    fn time_rules() {
        let c = |v: Value| claims(v).unwrap();
        let t = |exp: u64, more: Value| {
            let mut v = json!({"iss": "i", "sub": "s", "aud": "a", "exp": exp});
            for (k, x) in more.as_object().unwrap() {
                v[k] = x.clone();
            }
            c(v)
        };
        let now = 10_000;
        assert_eq!(t(now + 60, json!({})).check_times(now, RULES), Ok(()));
        assert_eq!(
            t(now - 30, json!({})).check_times(now, RULES),
            Err(Reason::Expired)
        );
        assert_eq!(t(now - 29, json!({})).check_times(now, RULES), Ok(()));
        assert_eq!(
            t(now + 60, json!({"nbf": now + 31})).check_times(now, RULES),
            Err(Reason::NotYetValid)
        );
        assert_eq!(
            t(now + 60, json!({"iat": now + 31})).check_times(now, RULES),
            Err(Reason::IssuedInFuture)
        );
        assert_eq!(
            t(now + 901, json!({})).check_times(now, RULES),
            Err(Reason::LifetimeTooLong)
        );
        assert_eq!(
            t(now + 60, json!({"iat": now - 900})).check_times(now, RULES),
            Err(Reason::LifetimeTooLong)
        );
    }
}

//! What a route asks of a request's token, as written in the manifest:
//!
//! ```toml
//! [functions.auth]            # or per route
//! public = false              # default: a valid token is required
//! scopes = ["orders:write"]   # all required
//! single_use = true           # jti required, accepted once
//! step_up = { acr = "mfa", max_age_s = 300 }
//! expose_claims = ["email", "org"]
//! forward_token = false       # default: the guest never sees the raw token
//! ```

use serde::{Deserialize, Serialize};

use crate::error::Denial;
use crate::token::claims::Claims;

/// A route's auth policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutePolicy {
    /// No token needed. A token that is sent anyway is still verified (a
    /// bad one is refused), so a public route never runs with a principal
    /// the gateway did not check.
    #[serde(default)]
    pub public: bool,
    /// Scopes the token must all carry (`scope` or `scp`).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The token's `jti` is required and accepted once (replay protection).
    #[serde(default)]
    pub single_use: bool,
    /// Stronger or fresher authentication required (RFC 9470).
    #[serde(default)]
    pub step_up: Option<StepUp>,
    /// Claims handed to the guest (JSON-encoded), besides the fixed ones.
    #[serde(default)]
    pub expose_claims: Vec<String>,
    /// Whether the host forwards the raw token to the function. Off by
    /// default: a function should see the principal, not a credential it
    /// could replay elsewhere. The verifier does not act on it; the host
    /// does.
    #[serde(default)]
    pub forward_token: bool,
}

/// Step-up requirement of a route (RFC 9470).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepUp {
    /// The `acr` the token must have, if any.
    #[serde(default)]
    pub acr: Option<String>,
    /// Largest age of `auth_time`, in seconds, if any (a token without
    /// `auth_time` does not satisfy it).
    #[serde(default)]
    pub max_age_s: Option<u64>,
}

impl RoutePolicy {
    /// Scope and step-up checks of verified claims at `now`.
    pub(crate) fn check(&self, claims: &Claims, now: u64, leeway_s: u64) -> Result<(), Denial> {
        if !self.scopes.iter().all(|s| claims.scopes.contains(s)) {
            return Err(Denial::InsufficientScope {
                scope: self.scopes.join(" "),
            });
        }
        if let Some(step_up) = &self.step_up {
            let acr_ok = step_up
                .acr
                .as_ref()
                .is_none_or(|acr| claims.acr.as_ref() == Some(acr));
            let age_ok = step_up.max_age_s.is_none_or(|max_age| {
                claims
                    .auth_time
                    .is_some_and(|t| now.saturating_sub(t) <= max_age.saturating_add(leeway_s))
            });
            if !(acr_ok && age_ok) {
                return Err(Denial::InsufficientUserAuthentication {
                    acr_values: step_up.acr.clone(),
                    max_age: step_up.max_age_s,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_unknown_keys() {
        let p: RoutePolicy = toml::from_str("").unwrap();
        assert_eq!(p, RoutePolicy::default());
        assert!(!p.public && !p.forward_token && !p.single_use);
        let p: RoutePolicy =
            toml::from_str("scopes = [\"a\"]\nstep_up = { acr = \"mfa\", max_age_s = 60 }\n")
                .unwrap();
        assert_eq!(p.step_up.unwrap().max_age_s, Some(60));
        assert!(toml::from_str::<RoutePolicy>("scope = [\"a\"]").is_err());
        assert!(toml::from_str::<RoutePolicy>("step_up = { acr = \"x\", age = 1 }").is_err());
    }
}

//! Tuning of the token service, validated once with every problem reported
//! together.

use serde::Deserialize;

use super::HashCost;
use crate::ConfigError;

/// Longest refresh grace window: a few seconds covers two tabs refreshing
/// at once; longer would let a stolen, already-rotated token through.
pub const MAX_REFRESH_GRACE_S: u64 = 5;

/// Token-service settings (node-wide).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceSettings {
    /// Access-token lifetime (RFC 9068 JWTs): 15 minutes.
    pub access_token_ttl_s: u64,
    /// ID-token lifetime.
    pub id_token_ttl_s: u64,
    /// Authorization-code lifetime: 60 s (RFC 6749 section 4.1.2 advises
    /// at most 10 minutes).
    pub code_ttl_s: u64,
    /// Absolute lifetime of a refresh family (a login session): 30 days.
    pub refresh_family_ttl_s: u64,
    /// How long after a rotation the immediately previous refresh token
    /// still returns the same new pair (concurrent refreshes); 0 (the
    /// default) turns it off, at most [`MAX_REFRESH_GRACE_S`].
    pub refresh_grace_s: u64,
    /// argon2id cost of passwords and client secrets.
    pub hash_cost: HashCost,
    /// Failed logins allowed per user and per address before delays start.
    pub login_free_attempts: u32,
    /// First delay after the free attempts; it doubles per further failure.
    pub login_base_delay_s: u64,
    /// Largest delay.
    pub login_max_delay_s: u64,
    /// `acr` of a password-only login.
    pub password_acr: String,
    /// `acr` of a login with a second factor (what `step_up.acr` names).
    pub mfa_acr: String,
    /// How far a DPoP proof's `iat` may be from now, either way.
    pub dpop_iat_window_s: u64,
}

impl Default for ServiceSettings {
    fn default() -> Self {
        Self {
            access_token_ttl_s: 15 * 60,
            id_token_ttl_s: 15 * 60,
            code_ttl_s: 60,
            refresh_family_ttl_s: 30 * 24 * 3600,
            refresh_grace_s: 0,
            hash_cost: HashCost::default(),
            login_free_attempts: 5,
            login_base_delay_s: 1,
            login_max_delay_s: 15 * 60,
            password_acr: "pwd".into(),
            mfa_acr: "mfa".into(),
            dpop_iat_window_s: 60,
        }
    }
}

impl ServiceSettings {
    /// Every rule, all problems at once.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        if self.refresh_grace_s > MAX_REFRESH_GRACE_S {
            problems.push(format!(
                "refresh_grace_s is {}, the maximum is {MAX_REFRESH_GRACE_S}",
                self.refresh_grace_s
            ));
        }
        for (name, value) in [
            ("access_token_ttl_s", self.access_token_ttl_s),
            ("id_token_ttl_s", self.id_token_ttl_s),
            ("code_ttl_s", self.code_ttl_s),
            ("refresh_family_ttl_s", self.refresh_family_ttl_s),
            ("dpop_iat_window_s", self.dpop_iat_window_s),
        ] {
            if value == 0 {
                problems.push(format!("{name} must be at least 1"));
            }
        }
        if self.code_ttl_s > 600 {
            problems.push("code_ttl_s must be at most 600 (RFC 6749 section 4.1.2)".into());
        }
        if self.password_acr.is_empty() || self.mfa_acr.is_empty() {
            problems.push("password_acr and mfa_acr must not be empty".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { problems })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_is_capped_and_all_problems_reported() {
        let settings = ServiceSettings {
            refresh_grace_s: 6,
            code_ttl_s: 0,
            ..ServiceSettings::default()
        };
        assert_eq!(settings.validate().unwrap_err().problems.len(), 2);
        assert!(ServiceSettings::default().validate().is_ok());
    }
}

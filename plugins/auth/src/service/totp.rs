//! TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s steps, one step of
//! drift either way) with ten one-time recovery codes.
//!
//! Enrolment makes a 160-bit secret, returns it as an `otpauth://` URI and
//! a QR code (PNG, base64) once, and stores it sealed with the KEK
//! (ChaCha20-Poly1305, tenant and purpose `totp` in the associated data).
//! It counts only after a first good code ([`TokenService::confirm_totp`]),
//! which also returns the recovery codes (80 random bits each, stored as
//! SHA-256: at that entropy a fast hash is enough). A code is accepted
//! only for a time step later than the last accepted one, so a code seen
//! once (shoulder-surfed, phished and relayed late) cannot be used again
//! in its window.

use serde::{Deserialize, Serialize};
use totp_rs::{Algorithm, TOTP};
use warden_plugin_core::Tenant;
use zeroize::Zeroizing;

use super::{ServiceError, TokenService, secrets};
use crate::token::b64;

const STEP_S: u64 = 30;
const DIGITS: usize = 6;
const RECOVERY_CODES: usize = 10;
const PURPOSE: &str = "totp";

/// TOTP state of a user, inside the user record.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TotpState {
    /// The secret, sealed with the KEK, base64url.
    sealed_secret: String,
    /// Whether a first code confirmed the enrolment.
    pub(crate) confirmed: bool,
    /// The last time step a code was accepted for.
    last_step: Option<u64>,
    /// SHA-256 of each unused recovery code.
    recovery: Vec<String>,
}

/// What enrolment shows the user, once. `Debug` redacts the secret.
pub struct TotpEnrolment {
    /// `otpauth://totp/<issuer>:<user>?secret=...&issuer=...`.
    pub otpauth_uri: String,
    /// The URI as a QR code: a PNG, base64 (standard alphabet), ready for
    /// `data:image/png;base64,`.
    pub qr_png_base64: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment([redacted])")
    }
}

/// Ten one-time recovery codes, shown once. `Debug` redacts them.
pub struct RecoveryCodes(pub Vec<String>);

impl std::fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecoveryCodes([{} redacted])", self.0.len())
    }
}

fn totp(secret: Vec<u8>, issuer: &str, account: &str) -> Result<TOTP, ServiceError> {
    // otpauth labels use ':' as the separator; keep it out of both parts.
    let clean = |s: &str| s.replace(':', "_");
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP_S,
        secret,
        Some(clean(issuer)),
        clean(account),
    )
    .map_err(|e| ServiceError::Internal(format!("totp: {e}")))
}

fn recovery_hash(code: &str) -> String {
    secrets::fingerprint(&format!("recovery|{}", code.trim().to_ascii_uppercase()))
}

impl TokenService {
    fn open_secret(
        &self,
        tenant: &Tenant,
        state: &TotpState,
    ) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        let sealed = b64::decode(&state.sealed_secret)
            .ok_or_else(|| ServiceError::Internal("stored TOTP secret unreadable".into()))?;
        Ok(self.kek.open_for(tenant, PURPOSE, &sealed)?)
    }

    /// Starts (or restarts, while unconfirmed) TOTP enrolment; `issuer` is
    /// the name the authenticator app shows. `Conflict` if TOTP is already
    /// confirmed (disable it first).
    pub async fn enroll_totp(
        &self,
        tenant: &Tenant,
        user_id: &str,
        issuer: &str,
    ) -> Result<TotpEnrolment, ServiceError> {
        let user = self.user_record(tenant, user_id).await?;
        if user.totp.as_ref().is_some_and(|t| t.confirmed) {
            return Err(ServiceError::Conflict);
        }
        let secret = Zeroizing::new(secrets::random::<20>()?.to_vec());
        let generator = totp(secret.to_vec(), issuer, &user.info.username)?;
        let enrolment = TotpEnrolment {
            otpauth_uri: generator.get_url(),
            qr_png_base64: generator
                .get_qr_base64()
                .map_err(|e| ServiceError::Internal(format!("qr: {e}")))?,
        };
        let state = TotpState {
            sealed_secret: b64::encode(&self.kek.seal_for(tenant, PURPOSE, &secret)?),
            confirmed: false,
            last_step: None,
            recovery: Vec::new(),
        };
        self.update_user(tenant, user_id, |r| {
            r.totp = Some(state.clone());
            Ok(())
        })
        .await?;
        Ok(enrolment)
    }

    /// Confirms enrolment with a first code; returns the recovery codes
    /// (shown once). `AccessDenied` for a wrong code.
    pub async fn confirm_totp(
        &self,
        tenant: &Tenant,
        user_id: &str,
        code: &str,
        now: u64,
    ) -> Result<RecoveryCodes, ServiceError> {
        let mut codes = Vec::with_capacity(RECOVERY_CODES);
        for _ in 0..RECOVERY_CODES {
            let raw = secrets::random::<10>()?;
            codes.push(base32_upper(&raw));
        }
        let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
        let accepted = self
            .accept_code(tenant, user_id, code, now, false, |state| {
                state.confirmed = true;
                state.recovery = hashes.clone();
            })
            .await?;
        if !accepted {
            return Err(ServiceError::AccessDenied);
        }
        self.update_user(tenant, user_id, |r| {
            r.info.mfa = true;
            Ok(())
        })
        .await?;
        Ok(RecoveryCodes(codes))
    }

    /// Removes TOTP (admin action, or the user after a fresh login).
    pub async fn disable_totp(&self, tenant: &Tenant, user_id: &str) -> Result<(), ServiceError> {
        self.update_user(tenant, user_id, |r| {
            r.totp = None;
            r.info.mfa = false;
            Ok(())
        })
        .await
    }

    /// A TOTP code or a recovery code of a confirmed enrolment; each is
    /// accepted once.
    pub(crate) async fn check_second_factor(
        &self,
        tenant: &Tenant,
        user_id: &str,
        code: &str,
        now: u64,
    ) -> Result<bool, ServiceError> {
        if code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit()) {
            return self
                .accept_code(tenant, user_id, code, now, true, |_| {})
                .await;
        }
        let hash = recovery_hash(code);
        self.update_user(tenant, user_id, |r| {
            let Some(state) = r.totp.as_mut().filter(|t| t.confirmed) else {
                return Ok(false);
            };
            let Some(i) = state
                .recovery
                .iter()
                .position(|h| secrets::same(h.as_bytes(), hash.as_bytes()))
            else {
                return Ok(false);
            };
            state.recovery.remove(i);
            Ok(true)
        })
        .await
    }

    /// Checks `code` against steps now-1, now, now+1 that are later than the
    /// last accepted step; on a match records the step (compare-and-swap,
    /// so two nodes cannot both accept one code) and applies `then`.
    async fn accept_code(
        &self,
        tenant: &Tenant,
        user_id: &str,
        code: &str,
        now: u64,
        confirmed: bool,
        then: impl Fn(&mut TotpState),
    ) -> Result<bool, ServiceError> {
        let record = self.user_record(tenant, user_id).await?;
        let Some(state) = record.totp.filter(|t| t.confirmed == confirmed) else {
            return Ok(false);
        };
        let secret = self.open_secret(tenant, &state)?;
        let generator = totp(secret.to_vec(), "warden", "user")?;
        let current = now / STEP_S;
        let mut matched = None;
        for step in current.saturating_sub(1)..=current + 1 {
            let expected = generator.generate(step * STEP_S);
            if secrets::same(expected.as_bytes(), code.as_bytes()) {
                matched = Some(step);
            }
        }
        let Some(step) = matched else {
            return Ok(false);
        };
        self.update_user(tenant, user_id, |r| {
            let Some(state) = r.totp.as_mut().filter(|t| t.confirmed == confirmed) else {
                return Ok(false);
            };
            if state.last_step.is_some_and(|last| step <= last) {
                return Ok(false);
            }
            state.last_step = Some(step);
            then(state);
            Ok(true)
        })
        .await
    }
}

/// RFC 4648 base32 without padding (recovery codes: unambiguous to type).
fn base32_upper(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The code an authenticator shows for `secret` at `time`: for tests and
/// tools that enrol a user programmatically. `None` for an invalid URI.
pub fn totp_code_from_uri(otpauth_uri: &str, time: u64) -> Option<String> {
    TOTP::from_url_unchecked(otpauth_uri)
        .ok()
        .map(|t| t.generate(time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_80_bit_base32() {
        assert_eq!(base32_upper(&[0; 10]), "AAAAAAAAAAAAAAAA");
        assert_eq!(base32_upper(b"fo"), "MZXQ");
    }
}

//! PKCE (RFC 7636), S256 only: `plain` would hand the verifier to anyone
//! who sees the authorization request, and a missing challenge leaves a
//! stolen code usable. Both are refused.

use sha2::{Digest as _, Sha256};

use super::{ServiceError, secrets};
use crate::token::b64;

/// Checks the `code_challenge` / `code_challenge_method` of an
/// authorization request; returns the challenge.
pub(crate) fn check_challenge(
    challenge: Option<&str>,
    method: Option<&str>,
) -> Result<String, ServiceError> {
    let challenge = challenge.ok_or(ServiceError::InvalidRequest("code_challenge is required"))?;
    match method {
        Some("S256") => {}
        Some("plain") => {
            return Err(ServiceError::InvalidRequest(
                "code_challenge_method plain is not allowed, use S256",
            ));
        }
        _ => {
            return Err(ServiceError::InvalidRequest(
                "code_challenge_method must be S256",
            ));
        }
    }
    // base64url of a SHA-256: 43 characters.
    if challenge.len() != 43 || b64::decode(challenge).is_none() {
        return Err(ServiceError::InvalidRequest(
            "code_challenge is not an S256 value",
        ));
    }
    Ok(challenge.to_owned())
}

/// Whether `verifier` (43 to 128 unreserved characters) hashes to
/// `challenge`, compared in constant time.
pub(crate) fn verify(verifier: Option<&str>, challenge: &str) -> Result<(), ServiceError> {
    let verifier = verifier.ok_or(ServiceError::InvalidRequest("code_verifier is required"))?;
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if !well_formed {
        return Err(ServiceError::InvalidGrant("code_verifier is malformed"));
    }
    let computed = b64::encode(&Sha256::digest(verifier.as_bytes()));
    if secrets::same(computed.as_bytes(), challenge.as_bytes()) {
        Ok(())
    } else {
        Err(ServiceError::InvalidGrant("code_verifier does not match"))
    }
}

/// The S256 challenge of `verifier`: what a client sends (tests, tools).
pub fn s256_challenge(verifier: &str) -> String {
    b64::encode(&Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7636_appendix_b_vector() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = s256_challenge(verifier);
        assert_eq!(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert!(check_challenge(Some(&challenge), Some("S256")).is_ok());
        assert!(verify(Some(verifier), &challenge).is_ok());
    }
}

//! Secrets the service makes and checks: random tokens (256 bits,
//! base64url), their SHA-256 fingerprints (for high-entropy values, where
//! a slow hash adds nothing), argon2id hashes (for passwords and client
//! secrets, which a stolen store must not give away), and constant-time
//! comparison.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use super::ServiceError;
use crate::token::b64;

/// A fresh random value of `N` bytes.
pub(crate) fn random<const N: usize>() -> Result<[u8; N], ServiceError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(out)
}

/// A fresh 256-bit secret, base64url (43 characters), with a short type
/// prefix (`wrt_`, `wcs_`, ...) so a leaked value is recognisable by
/// secret scanners and never mistaken for another kind.
pub(crate) fn token(prefix: &str) -> Result<Zeroizing<String>, ServiceError> {
    Ok(Zeroizing::new(format!(
        "{prefix}{}",
        b64::encode(&random::<32>()?)
    )))
}

/// A fresh identifier (128 bits, base64url): not secret, not guessable.
pub(crate) fn id() -> Result<String, ServiceError> {
    Ok(b64::encode(&random::<16>()?))
}

/// Hex SHA-256 of a high-entropy secret: its storage key.
pub(crate) fn fingerprint(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Constant-time equality of two byte strings (length may leak).
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// argon2id cost. The default is OWASP's first recommendation (19 MiB,
/// two passes, one lane); tests use less.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashCost {
    /// Memory, in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// argon2id hashing with one cost, and a dummy hash of that cost so an
/// unknown user costs the same work as a known one.
#[derive(Clone)]
pub(crate) struct Hasher {
    argon: Argon2<'static>,
    dummy: String,
    /// argon2 verifications done (tests check that unknown users cost the
    /// same work as known ones).
    verifications: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Hasher {
    pub(crate) fn new(cost: HashCost) -> Result<Self, ServiceError> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| ServiceError::Internal(format!("argon2 parameters: {e}")))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut hasher = Self {
            argon,
            dummy: String::new(),
            verifications: Default::default(),
        };
        hasher.dummy = hasher.hash("warden-dummy-password")?;
        Ok(hasher)
    }

    /// The PHC string of `secret` with a fresh salt.
    pub(crate) fn hash(&self, secret: &str) -> Result<String, ServiceError> {
        let salt = SaltString::encode_b64(&random::<16>()?)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        self.argon
            .hash_password(secret.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ServiceError::Internal(e.to_string()))
    }

    /// Whether `secret` matches `phc` (argon2 compares in constant time).
    /// A malformed stored hash is a mismatch.
    pub(crate) fn verify(&self, secret: &str, phc: &str) -> bool {
        self.verifications
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        PasswordHash::new(phc).is_ok_and(|parsed| {
            self.argon
                .verify_password(secret.as_bytes(), &parsed)
                .is_ok()
        })
    }

    /// The same work as [`verify`](Self::verify), always `false`: for an
    /// unknown user or client, so timing does not tell it apart.
    pub(crate) fn verify_dummy(&self, secret: &str) -> bool {
        let _ = self.verify(secret, &self.dummy);
        false
    }
}

impl Hasher {
    /// How many verifications this hasher did.
    #[cfg(test)]
    pub(crate) fn verifications(&self) -> u64 {
        self.verifications
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_hashes_verify_and_differ_by_salt() {
        let hasher = Hasher::new(HashCost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap();
        let a = hasher.hash("pw").unwrap();
        let b = hasher.hash("pw").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b);
        assert!(hasher.verify("pw", &a) && !hasher.verify("px", &a));
        assert!(!hasher.verify("pw", "garbage"));
        assert!(!hasher.verify_dummy("warden-dummy-password"));
        assert!(token("wrt_").unwrap().len() == 47);
    }
}

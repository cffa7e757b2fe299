//! What a key is: its algorithm, its state in the rotation, its validity
//! window, and the public half that may be shown to anyone.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The signature algorithms Warden accepts. Each key is pinned to exactly
/// one; a token's `alg` must equal its key's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyAlg {
    /// Ed25519 (RFC 8037). The default: small, fast, no parameter choices.
    EdDSA,
    /// ECDSA over P-256 with SHA-256.
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, modulus of at least 2048 bits.
    RS256,
    /// HMAC-SHA-256 with a secret of at least 256 bits. Symmetric: never
    /// published in the JWKS, only for tokens the tenant both issues and
    /// checks.
    HS256,
}

impl KeyAlg {
    /// The JWS `alg` name, exactly (case-sensitive, RFC 7515 section 4.1.1).
    pub fn as_jws(self) -> &'static str {
        match self {
            Self::EdDSA => "EdDSA",
            Self::ES256 => "ES256",
            Self::RS256 => "RS256",
            Self::HS256 => "HS256",
        }
    }

    /// The algorithm of a JWS `alg` name; `None` for any other name.
    pub fn from_jws(alg: &str) -> Option<Self> {
        [Self::EdDSA, Self::ES256, Self::RS256, Self::HS256]
            .into_iter()
            .find(|a| a.as_jws() == alg)
    }

    pub(crate) fn jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::EdDSA => jsonwebtoken::Algorithm::EdDSA,
            Self::ES256 => jsonwebtoken::Algorithm::ES256,
            Self::RS256 => jsonwebtoken::Algorithm::RS256,
            Self::HS256 => jsonwebtoken::Algorithm::HS256,
        }
    }
}

/// Where a key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Signs new tokens (one per tenant at most) and verifies.
    Active,
    /// Verifies only: the previous key after a rotation (until its
    /// `not_after`), or a new key published ahead of its use.
    VerifyOnly,
    /// Neither signs nor verifies; kept so its `kid` is never reused.
    Retired,
}

/// The public half of a key, as published in a JWK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kty", deny_unknown_fields)]
pub enum PublicKey {
    /// Ed25519: `x`, base64url.
    #[serde(rename = "OKP")]
    Okp {
        /// The 32-byte public key.
        x: String,
    },
    /// P-256: affine coordinates, base64url.
    #[serde(rename = "EC")]
    Ec {
        /// X coordinate.
        x: String,
        /// Y coordinate.
        y: String,
    },
    /// RSA: modulus and exponent, base64url big-endian.
    #[serde(rename = "RSA")]
    Rsa {
        /// Modulus.
        n: String,
        /// Public exponent.
        e: String,
    },
    /// HS256 has no public half.
    #[serde(rename = "oct")]
    Symmetric,
}

impl PublicKey {
    /// The RFC 7517 JWK of this key (`None` for a symmetric key).
    pub fn jwk(&self, kid: &str, alg: KeyAlg) -> Option<Value> {
        let common = json!({"kid": kid, "alg": alg.as_jws(), "use": "sig"});
        let mut jwk = match self {
            Self::Okp { x } => json!({"kty": "OKP", "crv": "Ed25519", "x": x}),
            Self::Ec { x, y } => json!({"kty": "EC", "crv": "P-256", "x": x, "y": y}),
            Self::Rsa { n, e } => json!({"kty": "RSA", "n": n, "e": e}),
            Self::Symmetric => return None,
        };
        if let (Some(jwk), Some(common)) = (jwk.as_object_mut(), common.as_object()) {
            jwk.extend(common.clone());
        }
        Some(jwk)
    }
}

/// What the admin API may show about a key: never any private material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// The key id, unique within the tenant.
    pub kid: String,
    /// The pinned algorithm.
    pub alg: KeyAlg,
    /// Where the key is in its life.
    pub state: KeyState,
    /// When it was created, seconds since the epoch.
    pub created_at: u64,
    /// It verifies from this time on.
    pub not_before: u64,
    /// It verifies until this time (exclusive), if bounded.
    pub not_after: Option<u64>,
    /// The public JWK (`None` for HS256).
    pub public_jwk: Option<Value>,
}

/// What to create.
#[derive(Clone, Default)]
pub struct NewKey {
    /// The algorithm (EdDSA when `None`).
    pub alg: Option<KeyAlg>,
    /// HS256 only: import this secret instead of generating 256 random
    /// bits. Shorter than 32 bytes is refused.
    pub secret: Option<Vec<u8>>,
    /// RS256 only: modulus size (2048 when `None`; less is refused).
    pub rsa_bits: Option<usize>,
    /// End of the validity window, if bounded.
    pub not_after: Option<u64>,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKey")
            .field("alg", &self.alg)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("rsa_bits", &self.rsa_bits)
            .field("not_after", &self.not_after)
            .finish()
    }
}

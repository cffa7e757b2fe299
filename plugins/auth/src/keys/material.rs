//! Generating keys and turning stored material into jsonwebtoken keys.

use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::{DecodingKey, EncodingKey};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;

use super::secret::SecretBytes;
use crate::token::b64;
use crate::{KeyAlg, KeyError, NewKey, PublicKey};

/// Smallest RSA modulus, in bits.
pub const MIN_RSA_BITS: usize = 2048;
/// Smallest HS256 secret, in bytes (256 bits: the hash's output size,
/// RFC 7518 section 3.2).
pub const MIN_HMAC_SECRET_BYTES: usize = 32;

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], KeyError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| KeyError::Crypto(e.to_string()))?;
    Ok(out)
}

/// A fresh key id: 96 random bits, base64url (16 characters).
pub(crate) fn new_kid() -> Result<String, KeyError> {
    Ok(b64::encode(&random_bytes::<12>()?))
}

/// Generates (or, for HS256, imports) a key of `spec`.
pub(crate) fn generate(alg: KeyAlg, spec: &NewKey) -> Result<(PublicKey, SecretBytes), KeyError> {
    if spec.secret.is_some() && alg != KeyAlg::HS256 {
        return Err(KeyError::SecretNotAllowed);
    }
    let crypto = |e: &dyn std::fmt::Display| KeyError::Crypto(e.to_string());
    match alg {
        KeyAlg::HS256 => {
            let secret = match &spec.secret {
                Some(secret) if secret.len() < MIN_HMAC_SECRET_BYTES => {
                    return Err(KeyError::WeakSecret {
                        bits: secret.len() * 8,
                    });
                }
                Some(secret) => secret.clone(),
                None => random_bytes::<32>()?.to_vec(),
            };
            Ok((PublicKey::Symmetric, SecretBytes::new(secret)))
        }
        KeyAlg::EdDSA => {
            let seed = zeroize::Zeroizing::new(random_bytes::<32>()?);
            let key = ed25519_dalek::SigningKey::from_bytes(&seed);
            let der = key.to_pkcs8_der().map_err(|e| crypto(&e))?;
            let x = b64::encode(key.verifying_key().as_bytes());
            Ok((
                PublicKey::Okp { x },
                SecretBytes::new(der.as_bytes().to_vec()),
            ))
        }
        KeyAlg::ES256 => {
            let key = loop {
                let bytes = zeroize::Zeroizing::new(random_bytes::<32>()?);
                if let Ok(key) = p256::SecretKey::from_slice(bytes.as_slice()) {
                    break key;
                }
            };
            let der = p256::pkcs8::EncodePrivateKey::to_pkcs8_der(&key).map_err(|e| crypto(&e))?;
            let point = key.public_key().to_sec1_bytes();
            // Uncompressed SEC1: 0x04 || x (32) || y (32).
            let (Some(x), Some(y)) = (point.get(1..33), point.get(33..65)) else {
                return Err(KeyError::Crypto("unexpected P-256 point encoding".into()));
            };
            let public = PublicKey::Ec {
                x: b64::encode(x),
                y: b64::encode(y),
            };
            Ok((public, SecretBytes::new(der.as_bytes().to_vec())))
        }
        KeyAlg::RS256 => {
            let bits = spec.rsa_bits.unwrap_or(MIN_RSA_BITS);
            if bits < MIN_RSA_BITS {
                return Err(KeyError::RsaTooSmall { bits });
            }
            let key = rsa::PrivateKey::new(&mut getrandom::SysRng, bits).map_err(|e| crypto(&e))?;
            let der = key.to_pkcs1_der().map_err(|e| crypto(&e))?;
            let public = PublicKey::Rsa {
                n: b64::encode(&key.n().to_be_bytes_trimmed_vartime()),
                e: b64::encode(&key.e().to_be_bytes_trimmed_vartime()),
            };
            Ok((public, SecretBytes::new(der.as_bytes().to_vec())))
        }
    }
}

/// The signing key of stored material.
pub(crate) fn encoding_key(alg: KeyAlg, secret: &SecretBytes) -> Result<EncodingKey, KeyError> {
    Ok(match alg {
        KeyAlg::EdDSA => EncodingKey::from_ed_der(secret.expose()),
        KeyAlg::ES256 => EncodingKey::from_ec_der(secret.expose()),
        KeyAlg::RS256 => EncodingKey::from_rsa_der(secret.expose()),
        KeyAlg::HS256 => EncodingKey::from_secret(secret.expose())
            .map_err(|e| KeyError::Crypto(e.to_string()))?,
    })
}

/// The verifying key of stored material (the secret itself for HS256).
pub(crate) fn decoding_key(
    alg: KeyAlg,
    public: &PublicKey,
    secret: &SecretBytes,
) -> Result<DecodingKey, KeyError> {
    let crypto = |e: jsonwebtoken::errors::Error| KeyError::Crypto(e.to_string());
    match (alg, public) {
        (KeyAlg::EdDSA, PublicKey::Okp { x }) => DecodingKey::from_ed_components(x).map_err(crypto),
        (KeyAlg::ES256, PublicKey::Ec { x, y }) => {
            DecodingKey::from_ec_components(x, y).map_err(crypto)
        }
        (KeyAlg::RS256, PublicKey::Rsa { n, e }) => {
            DecodingKey::from_rsa_components(n, e).map_err(crypto)
        }
        (KeyAlg::HS256, PublicKey::Symmetric) => {
            DecodingKey::from_secret(secret.expose()).map_err(crypto)
        }
        _ => Err(KeyError::Crypto("algorithm and key type disagree".into())),
    }
}

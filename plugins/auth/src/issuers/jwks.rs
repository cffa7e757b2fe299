//! Reading an issuer's JWKS into verifying keys.
//!
//! Only signature keys Warden can pin: `OKP`/`Ed25519` (EdDSA), `EC`/`P-256`
//! (ES256), `RSA` of at least 2048 bits (RS256). A key's `alg`, when given,
//! must match its type; `use`, when given, must be `sig`. Symmetric (`oct`)
//! keys are never taken from a remote document. Keys that break a rule, or
//! that repeat a `kid`, are skipped, not fatal: one odd key must not take
//! the issuer's other keys down.

use jsonwebtoken::DecodingKey;
use serde_json::Value;

use super::fetch::FetchError;
use crate::KeyAlg;
use crate::keys::manager::{TrustedKey, TrustedKeys};
use crate::keys::material::MIN_RSA_BITS;
use crate::token::{b64, kid_ok};

/// The usable keys of a JWKS document.
pub(crate) fn parse(body: &[u8]) -> Result<TrustedKeys, FetchError> {
    let doc: Value =
        serde_json::from_slice(body).map_err(|_| FetchError::Invalid("not JSON".into()))?;
    let Some(Value::Array(keys)) = doc.get("keys") else {
        return Err(FetchError::Invalid("no \"keys\" array".into()));
    };
    let mut out = TrustedKeys::new();
    let mut repeated = Vec::new();
    for jwk in keys {
        let Some((kid, key)) = read_key(jwk) else {
            continue;
        };
        if out.insert(kid.clone(), key).is_some() {
            repeated.push(kid);
        }
    }
    for kid in repeated {
        out.remove(&kid);
    }
    Ok(out)
}

fn read_key(jwk: &Value) -> Option<(String, TrustedKey)> {
    let field = |name: &str| jwk.get(name).and_then(Value::as_str);
    let kid = field("kid").filter(|k| kid_ok(k))?.to_owned();
    if jwk.get("use").is_some_and(|u| u.as_str() != Some("sig")) {
        return None;
    }
    let len = |name: &str| field(name).and_then(b64::decode).map(|b| b.len());
    let (alg, decoding) = match (field("kty")?, field("crv")) {
        ("OKP", Some("Ed25519")) if len("x") == Some(32) => (
            KeyAlg::EdDSA,
            DecodingKey::from_ed_components(field("x")?).ok()?,
        ),
        ("EC", Some("P-256")) if len("x") == Some(32) && len("y") == Some(32) => (
            KeyAlg::ES256,
            DecodingKey::from_ec_components(field("x")?, field("y")?).ok()?,
        ),
        ("RSA", _) => {
            let n = b64::decode(field("n")?)?;
            let significant = n.iter().skip_while(|b| **b == 0).count();
            if significant * 8 < MIN_RSA_BITS {
                return None;
            }
            b64::decode(field("e")?)?;
            (
                KeyAlg::RS256,
                DecodingKey::from_rsa_components(field("n")?, field("e")?).ok()?,
            )
        }
        _ => return None,
    };
    if jwk
        .get("alg")
        .is_some_and(|a| a.as_str() != Some(alg.as_jws()))
    {
        return None;
    }
    Some((
        kid,
        TrustedKey {
            alg,
            decoding,
            not_before: 0,
            not_after: None,
        },
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keeps_only_pinnable_signature_keys() {
        let x = b64::encode(&[1; 32]);
        let doc = json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "good"},
            {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "enc", "use": "enc"},
            {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "wrong-alg", "alg": "RS256"},
            {"kty": "oct", "k": x, "kid": "secret"},
            {"kty": "RSA", "n": b64::encode(&[0xff; 128]), "e": "AQAB", "kid": "rsa1024"},
            {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "dup"},
            {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "dup"},
            {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "a/b"},
        ]});
        let keys = parse(doc.to_string().as_bytes()).unwrap();
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["good"]);
        assert!(parse(b"{}").is_err() && parse(b"[").is_err());
    }
}

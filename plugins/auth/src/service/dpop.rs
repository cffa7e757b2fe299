//! DPoP proofs (RFC 9449): verification of the `DPoP` header JWT, its key's
//! RFC 7638 thumbprint (`jkt`), and the gateway's check that a request with
//! a DPoP-bound token (`cnf.jkt`) carries a fresh proof of that key.
//!
//! A proof is accepted when: it is a compact JWS with `typ: dpop+jwt`;
//! `alg` is EdDSA, ES256 or RS256 and matches the `jwk`'s type; the `jwk`
//! has public members only (a private member is refused: such a client
//! leaks its key); the signature verifies with that `jwk`; `htm` equals
//! the method; `htu` equals the request URL, both normalised (scheme and
//! host lower-case, default port dropped, empty path as `/`, query and
//! fragment removed); `iat` is within `dpop_iat_window_s` of now; `ath`,
//! when an access token goes with the proof, is base64url(SHA-256(token));
//! and `jti` was not seen before for that key, recorded in the shared
//! [`ReplayStore`] so a proof replayed on another node is refused too.

use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use warden_plugin_core::Tenant;

use super::ServiceError;
use crate::replay::ReplayStore;
use crate::token::b64;

/// Longest proof accepted, in bytes.
const MAX_PROOF_LEN: usize = 8 * 1024;
/// Private JWK members (RFC 7518 section 6): never in a proof.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// A verified proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpopProof {
    /// RFC 7638 thumbprint of the proof's key (base64url SHA-256): the
    /// `cnf.jkt` of tokens bound to it.
    pub jkt: String,
}

/// Verifies DPoP proofs; shares proof ids across nodes through a
/// [`ReplayStore`].
#[derive(Clone)]
pub struct DpopVerifier {
    replay: Arc<dyn ReplayStore>,
    window_s: u64,
}

impl std::fmt::Debug for DpopVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopVerifier")
            .field("window_s", &self.window_s)
            .finish_non_exhaustive()
    }
}

fn bad(why: &'static str) -> ServiceError {
    ServiceError::InvalidDpopProof(why)
}

fn json_object(segment: &str) -> Result<Map<String, Value>, ServiceError> {
    let bytes = b64::decode(segment).ok_or(bad("not base64url"))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(bad("not a JSON object")),
    }
}

fn member<'a>(map: &'a Map<String, Value>, name: &str) -> Result<&'a str, ServiceError> {
    map.get(name)
        .and_then(Value::as_str)
        .ok_or(bad("a required member is missing"))
}

/// The key, its algorithm and its RFC 7638 thumbprint input.
fn public_key(
    jwk: &Map<String, Value>,
    alg: &str,
) -> Result<(DecodingKey, Algorithm, String), ServiceError> {
    if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
        return Err(bad("jwk holds private key material"));
    }
    let kty = member(jwk, "kty")?;
    let invalid = |_| bad("jwk is not a valid key");
    match (alg, kty) {
        ("EdDSA", "OKP") => {
            let (crv, x) = (member(jwk, "crv")?, member(jwk, "x")?);
            if crv != "Ed25519" || b64::decode(x).is_none_or(|b| b.len() != 32) {
                return Err(bad("jwk is not an Ed25519 key"));
            }
            let canonical = json!({"crv": crv, "kty": kty, "x": x}).to_string();
            Ok((
                DecodingKey::from_ed_components(x).map_err(invalid)?,
                Algorithm::EdDSA,
                canonical,
            ))
        }
        ("ES256", "EC") => {
            let (crv, x, y) = (member(jwk, "crv")?, member(jwk, "x")?, member(jwk, "y")?);
            if crv != "P-256" {
                return Err(bad("jwk is not a P-256 key"));
            }
            let canonical = json!({"crv": crv, "kty": kty, "x": x, "y": y}).to_string();
            Ok((
                DecodingKey::from_ec_components(x, y).map_err(invalid)?,
                Algorithm::ES256,
                canonical,
            ))
        }
        ("RS256", "RSA") => {
            let (n, e) = (member(jwk, "n")?, member(jwk, "e")?);
            if b64::decode(n).is_none_or(|b| b.len() < crate::MIN_RSA_BITS / 8) {
                return Err(bad("RSA key is too small"));
            }
            let canonical = json!({"e": e, "kty": kty, "n": n}).to_string();
            Ok((
                DecodingKey::from_rsa_components(n, e).map_err(invalid)?,
                Algorithm::RS256,
                canonical,
            ))
        }
        _ => Err(bad("alg must be EdDSA, ES256 or RS256 and match the jwk")),
    }
}

/// `htu` normalisation (RFC 9449 section 4.3, RFC 3986 section 6.2.2-3):
/// scheme and host lower-case, default port dropped, empty path `/`, no
/// query or fragment. `None` for anything but an absolute http(s) URL.
pub(crate) fn normalize_htu(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    Some(format!("{scheme}://{authority}{path}"))
}

/// base64url(SHA-256(access token)): the `ath` of a proof.
pub fn access_token_hash(access_token: &str) -> String {
    b64::encode(&Sha256::digest(access_token.as_bytes()))
}

impl DpopVerifier {
    /// Proof ids go to `replay`; `iat` may be `window_s` off either way.
    pub fn new(replay: Arc<dyn ReplayStore>, window_s: u64) -> Self {
        Self { replay, window_s }
    }

    /// Verifies a `DPoP` header value for `method` and `url` (the request's
    /// full URL as the client used it). With `access_token`, its `ath` must
    /// match. Each proof is accepted once, across nodes.
    pub async fn verify_proof(
        &self,
        tenant: &Tenant,
        proof: &str,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        now: u64,
    ) -> Result<DpopProof, ServiceError> {
        if proof.len() > MAX_PROOF_LEN {
            return Err(bad("proof too large"));
        }
        let mut parts = proof.split('.');
        let (Some(h), Some(p), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("not a compact JWS"));
        };
        // Canonical base64url only, like every token Warden reads: one
        // proof has one spelling.
        if b64::decode(sig).is_none() {
            return Err(bad("not base64url"));
        }
        let header = json_object(h)?;
        let claims = json_object(p)?;
        if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
            return Err(bad("typ must be dpop+jwt"));
        }
        let alg = member(&header, "alg")?;
        let Some(Value::Object(jwk)) = header.get("jwk") else {
            return Err(bad("jwk is missing"));
        };
        let (key, algorithm, canonical) = public_key(jwk, alg)?;
        let signing_input = &proof[..h.len() + 1 + p.len()];
        let good = jsonwebtoken::crypto::verify(sig, signing_input.as_bytes(), &key, algorithm);
        if !matches!(good, Ok(true)) {
            return Err(bad("signature does not verify"));
        }
        if member(&claims, "htm")? != method {
            return Err(bad("htm does not match the method"));
        }
        let htu = normalize_htu(member(&claims, "htu")?);
        if htu.is_none() || htu != normalize_htu(url) {
            return Err(bad("htu does not match the URL"));
        }
        let iat = claims
            .get("iat")
            .and_then(Value::as_u64)
            .ok_or(bad("iat is missing"))?;
        if iat.abs_diff(now) > self.window_s {
            return Err(bad("iat is outside the accepted window"));
        }
        if let Some(token) = access_token {
            let ath = member(&claims, "ath").map_err(|_| bad("ath is missing"))?;
            if !super::secrets::same(ath.as_bytes(), access_token_hash(token).as_bytes()) {
                return Err(bad("ath does not match the access token"));
            }
        }
        let jti = member(&claims, "jti")?;
        if jti.is_empty() || jti.len() > 256 {
            return Err(bad("jti is malformed"));
        }
        let jkt = b64::encode(&Sha256::digest(canonical.as_bytes()));
        let first = self
            .replay
            .first_use(
                tenant,
                &format!("dpop|{jkt}|{jti}"),
                iat.saturating_add(self.window_s).saturating_add(1),
                now,
            )
            .await?;
        if !first {
            return Err(bad("proof was already used"));
        }
        Ok(DpopProof { jkt })
    }

    /// The gateway's check of a request whose token verified: a token
    /// bound to a key (`bound_jkt`, from `cnf.jkt`, see
    /// [`crate::VerifiedPrincipal::dpop_jkt`]) needs a valid proof of that
    /// key for this method, URL and token; a stolen bound token without the
    /// key fails here. An unbound token needs nothing. Errors answer 401
    /// with `WWW-Authenticate: DPoP error="invalid_dpop_proof"`.
    #[allow(clippy::too_many_arguments)]
    pub async fn check_request(
        &self,
        tenant: &Tenant,
        bound_jkt: Option<&str>,
        access_token: &str,
        proof: Option<&str>,
        method: &str,
        url: &str,
        now: u64,
    ) -> Result<(), ServiceError> {
        let Some(bound) = bound_jkt else {
            return Ok(());
        };
        let proof = proof.ok_or(bad("the token is DPoP-bound and the request has no proof"))?;
        let verified = self
            .verify_proof(tenant, proof, method, url, Some(access_token), now)
            .await?;
        if !super::secrets::same(verified.jkt.as_bytes(), bound.as_bytes()) {
            return Err(bad("the proof is signed by another key than the token's"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_is_normalised_without_query_or_fragment() {
        assert_eq!(
            normalize_htu("HTTPS://API.Example:443/orders?x=1#f").unwrap(),
            "https://api.example/orders"
        );
        assert_eq!(normalize_htu("http://h:8080").unwrap(), "http://h:8080/");
        assert_eq!(normalize_htu("ftp://h/"), None);
        assert_eq!(normalize_htu("https://u@h/"), None);
    }

    #[test]
    fn rfc_7638_section_3_1_thumbprint() {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let jwk: Map<String, Value> =
            serde_json::from_value(json!({"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256"}))
                .unwrap();
        let (_, _, canonical) = public_key(&jwk, "RS256").unwrap();
        assert_eq!(
            b64::encode(&Sha256::digest(canonical.as_bytes())),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }
}

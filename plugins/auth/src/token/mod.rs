//! The parsing entry point: from an `Authorization` header value to a
//! JWS whose header passed every structural rule, before any key is looked
//! at. Nothing here trusts the token; it only refuses what Warden never
//! accepts, cheaply, in a fixed order.

pub(crate) mod b64;
pub(crate) mod claims;

pub use claims::{Claims, TimeRules};
mod json;

use serde_json::{Map, Value};

use crate::{KeyAlg, Reason};

/// Longest `Authorization` value looked at, in bytes; longer ones are
/// refused before any decoding.
pub const MAX_AUTHORIZATION_LEN: usize = 8 * 1024;

/// Longest `kid` accepted.
pub const MAX_KID_LEN: usize = 128;

/// Header parameters that would name a key (or where to fetch one). Warden
/// takes keys only from the tenant's own key set or its configured JWKS
/// URLs, so a token carrying any of them is refused rather than ignored:
/// such a token was made by someone who expects them to be used.
const KEY_LOCATING_HEADERS: [&str; 4] = ["jku", "x5u", "x5c", "jwk"];

/// A JWS that passed the structural checks; its signature is not verified.
#[derive(Debug, Clone)]
pub struct ParsedToken<'a> {
    /// `<header>.<payload>`, the bytes the signature covers.
    pub signing_input: &'a str,
    /// The third segment.
    pub signature: &'a str,
    /// The `alg`, one of the accepted algorithms.
    pub alg: KeyAlg,
    /// The `kid`.
    pub kid: String,
    /// The payload's members.
    pub claims: Map<String, Value>,
}

/// The token of a `Bearer` header value (RFC 6750 section 2.1: scheme
/// case-insensitive, one space, a non-empty token of the b64token alphabet).
/// The `DPoP` scheme (RFC 9449 section 7.1) is read the same way: whether
/// a token needs a proof is decided by its `cnf.jkt`, never by the scheme
/// the client chose, so a bound token sent as `Bearer` gains nothing.
pub fn bearer(header_value: &str) -> Result<&str, Reason> {
    if header_value.len() > MAX_AUTHORIZATION_LEN {
        return Err(Reason::TooLarge);
    }
    let (scheme, token) = header_value.split_once(' ').ok_or(Reason::NotBearer)?;
    let known = scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("dpop");
    if !known || token.is_empty() {
        return Err(Reason::NotBearer);
    }
    let b64token = |b: u8| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b);
    if !token.bytes().all(b64token) {
        return Err(Reason::Malformed);
    }
    Ok(token)
}

/// Parses a compact JWS and checks its header.
pub fn parse(token: &str) -> Result<ParsedToken<'_>, Reason> {
    if token.len() > MAX_AUTHORIZATION_LEN {
        return Err(Reason::TooLarge);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Reason::Malformed);
    };
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(Reason::Malformed);
    }
    let header_json = json::object(&b64::decode(header).ok_or(Reason::BadBase64)?)?;
    let (alg, kid) = check_header(&header_json)?;
    let claims = json::object(&b64::decode(payload).ok_or(Reason::BadBase64)?)?;
    b64::decode(signature).ok_or(Reason::BadBase64)?;
    Ok(ParsedToken {
        signing_input: &token[..header.len() + 1 + payload.len()],
        signature,
        alg,
        kid,
        claims,
    })
}

fn check_header(header: &Map<String, Value>) -> Result<(KeyAlg, String), Reason> {
    let alg = match header.get("alg") {
        Some(Value::String(alg)) if alg.eq_ignore_ascii_case("none") => {
            return Err(Reason::AlgNone);
        }
        Some(Value::String(alg)) => KeyAlg::from_jws(alg).ok_or(Reason::AlgNotAllowed)?,
        _ => return Err(Reason::AlgNotAllowed),
    };
    if KEY_LOCATING_HEADERS.iter().any(|h| header.contains_key(*h)) {
        return Err(Reason::ForbiddenHeader);
    }
    if header.contains_key("crit") {
        return Err(Reason::UnknownCrit);
    }
    match header.get("typ") {
        None => {}
        Some(Value::String(typ)) if typ_ok(typ) => {}
        Some(_) => return Err(Reason::BadTyp),
    }
    let kid = match header.get("kid") {
        Some(Value::String(kid)) if kid_ok(kid) => kid.clone(),
        _ => return Err(Reason::BadKid),
    };
    Ok((alg, kid))
}

/// `at+jwt` (RFC 9068) or `JWT`, case-insensitive, with or without the
/// `application/` prefix (RFC 7515 section 4.1.9).
fn typ_ok(typ: &str) -> bool {
    let bare = typ
        .get(..12)
        .filter(|p| p.eq_ignore_ascii_case("application/"))
        .map_or(typ, |_| &typ[12..]);
    bare.eq_ignore_ascii_case("at+jwt") || bare.eq_ignore_ascii_case("jwt")
}

/// A `kid` is an opaque name, but never a path, a quote or a control
/// character: it is logged, used as a map key, and may be shown in admin
/// output, so it keeps to a safe set.
pub(crate) fn kid_ok(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= MAX_KID_LEN
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~+=:".contains(&b))
        && !kid.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(json: &str) -> String {
        b64::encode(json.as_bytes())
    }

    fn token(header: &str) -> String {
        format!(
            "{}.{}.{}",
            seg(header),
            seg(r#"{"sub":"a"}"#),
            b64::encode(b"sig")
        )
    }

    #[test]
    fn bearer_needs_the_scheme_and_caps_the_length() {
        assert_eq!(bearer("Bearer abc"), Ok("abc"));
        assert_eq!(bearer("bearer abc"), Ok("abc"));
        assert_eq!(bearer("DPoP abc"), Ok("abc"), "RFC 9449 section 7.1");
        assert_eq!(bearer("Basic abc"), Err(Reason::NotBearer));
        assert_eq!(bearer("Bearer"), Err(Reason::NotBearer));
        assert_eq!(bearer("Bearer  abc"), Err(Reason::Malformed));
        assert_eq!(bearer("Bearer a\"b"), Err(Reason::Malformed));
        let long = format!("Bearer {}", "a".repeat(MAX_AUTHORIZATION_LEN));
        assert_eq!(bearer(&long), Err(Reason::TooLarge));
    }

    #[test]
    fn header_rules() {
        let ok = token(r#"{"alg":"EdDSA","kid":"k1","typ":"at+jwt"}"#);
        let parsed = parse(&ok).unwrap();
        assert_eq!((parsed.alg, parsed.kid.as_str()), (KeyAlg::EdDSA, "k1"));
        assert!(ok.starts_with(parsed.signing_input));
        let cases = [
            (r#"{"alg":"nOnE","kid":"k1"}"#, Reason::AlgNone),
            (r#"{"alg":"HS512","kid":"k1"}"#, Reason::AlgNotAllowed),
            (r#"{"alg":"eddsa","kid":"k1"}"#, Reason::AlgNotAllowed),
            (r#"{"kid":"k1"}"#, Reason::AlgNotAllowed),
            (
                r#"{"alg":"EdDSA","kid":"k1","jku":"x"}"#,
                Reason::ForbiddenHeader,
            ),
            (
                r#"{"alg":"EdDSA","kid":"k1","crit":["exp"]}"#,
                Reason::UnknownCrit,
            ),
            (r#"{"alg":"EdDSA","kid":"k1","typ":"JOSE"}"#, Reason::BadTyp),
            (r#"{"alg":"EdDSA","kid":"../k"}"#, Reason::BadKid),
            (r#"{"alg":"EdDSA"}"#, Reason::BadKid),
        ];
        for (header, reason) in cases {
            assert_eq!(parse(&token(header)).map(|_| ()), Err(reason), "{header}");
        }
        assert!(typ_ok("application/AT+JWT") && typ_ok("JWT") && !typ_ok("application/"));
    }
}

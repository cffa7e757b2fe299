//! Parameters of the token-service endpoints: a capped
//! `application/x-www-form-urlencoded` body or a query string, parsed into
//! a map that refuses repeated parameters (RFC 6749 section 3.1: "request
//! and response parameters MUST NOT be included more than once").

use http::{HeaderMap, header};
use http_body::Body;
use http_body_util::{BodyExt as _, Limited};
use std::collections::HashMap;
use warden_plugin_auth::service::ServiceError;

/// Largest form body accepted: a token request is well under 1 KiB, and
/// a DPoP-bound refresh with long values under 8.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// Parsed parameters; empty values count as absent (RFC 6749 section 3.1).
#[derive(Default)]
pub struct Params(HashMap<String, String>);

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values are secrets (passwords, codes, tokens): names only.
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Params {
    /// Parses `input` (a query string or form body).
    pub fn parse(input: &[u8]) -> Result<Self, ServiceError> {
        let mut map = HashMap::new();
        for (name, value) in form_urlencoded::parse(input) {
            if value.is_empty() {
                continue;
            }
            if map.insert(name.into_owned(), value.into_owned()).is_some() {
                return Err(ServiceError::InvalidRequest("a parameter is repeated"));
            }
        }
        Ok(Self(map))
    }

    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// Reads a form body: the content type must be
/// `application/x-www-form-urlencoded` and the body at most
/// [`MAX_FORM_BYTES`].
pub async fn read<B>(headers: &HeaderMap, body: B) -> Result<Params, ServiceError>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form {
        return Err(ServiceError::InvalidRequest(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let bytes = Limited::new(body, MAX_FORM_BYTES)
        .collect()
        .await
        .map_err(|_| ServiceError::InvalidRequest("the body is too large or was cut off"))?
        .to_bytes();
    Params::parse(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::Full;

    fn form() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=UTF-8"
                .parse()
                .expect("value"),
        );
        headers
    }

    #[tokio::test]
    async fn a_form_is_parsed_and_repeats_oversize_and_other_types_refused() {
        let p = read(
            &form(),
            Full::new(Bytes::from("grant_type=x&scope=a+b&code=")),
        )
        .await
        .expect("parsed");
        assert_eq!(p.get("scope"), Some("a b"));
        assert_eq!(p.get("code"), None, "empty is absent");
        let repeated = read(&form(), Full::new(Bytes::from("a=1&a=2"))).await;
        assert!(matches!(repeated, Err(ServiceError::InvalidRequest(_))));
        let big = Bytes::from(vec![b'a'; MAX_FORM_BYTES + 1]);
        assert!(read(&form(), Full::new(big)).await.is_err());
        let json = read(&HeaderMap::new(), Full::new(Bytes::from("a=1"))).await;
        assert!(json.is_err());
    }
}

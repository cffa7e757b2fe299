//! Client authentication at the token, revocation and introspection
//! endpoints (RFC 6749 section 2.3.1): HTTP Basic with the form-encoded id
//! and secret, or `client_id` / `client_secret` in the body; using both is
//! refused (one method per request), as is a malformed `Authorization`.

use super::form::Params;
use base64::Engine as _;
use http::{HeaderMap, header};
use warden_plugin_auth::service::ServiceError;

/// The client's credentials as given. `Debug` redacts the secret.
pub struct Credentials {
    /// `client_id`.
    pub client_id: String,
    /// The secret, for confidential clients.
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Undoes the `application/x-www-form-urlencoded` encoding RFC 6749
/// section 2.3.1 applies to the id and secret inside Basic.
fn form_decoded(value: &str) -> String {
    form_urlencoded::parse(format!("v={value}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The credentials of the request: from `Authorization: Basic` or from the
/// form; `InvalidClient` when none are given.
pub fn credentials(headers: &HeaderMap, params: &Params) -> Result<Credentials, ServiceError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let basic = match (values.next(), values.next()) {
        (None, _) => None,
        (Some(_), Some(_)) => {
            return Err(ServiceError::InvalidRequest("Authorization is repeated"));
        }
        (Some(value), None) => {
            let value = value.to_str().map_err(|_| ServiceError::InvalidClient)?;
            let (scheme, encoded) = value.split_once(' ').ok_or(ServiceError::InvalidClient)?;
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err(ServiceError::InvalidClient);
            }
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or(ServiceError::InvalidClient)?;
            let (id, secret) = decoded.split_once(':').ok_or(ServiceError::InvalidClient)?;
            Some(Credentials {
                client_id: form_decoded(id),
                client_secret: Some(form_decoded(secret)).filter(|s| !s.is_empty()),
            })
        }
    };
    let in_form = params.get("client_secret").is_some();
    match basic {
        Some(_) if in_form => Err(ServiceError::InvalidRequest(
            "client credentials are given twice (Basic and form)",
        )),
        Some(basic) => {
            if params
                .get("client_id")
                .is_some_and(|id| id != basic.client_id)
            {
                return Err(ServiceError::InvalidRequest(
                    "client_id disagrees with Basic",
                ));
            }
            Ok(basic)
        }
        None => Ok(Credentials {
            client_id: params
                .get("client_id")
                .ok_or(ServiceError::InvalidClient)?
                .to_owned(),
            client_secret: params.get("client_secret").map(str::to_owned),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(id: &str, secret: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        headers.insert(
            header::AUTHORIZATION,
            format!("Basic {token}").parse().expect("value"),
        );
        headers
    }

    #[test]
    fn basic_or_form_but_not_both() {
        let none = Params::default();
        let c = credentials(&basic("app%3A1", "s+e"), &none).expect("basic");
        assert_eq!(c.client_id, "app:1");
        assert_eq!(c.client_secret.as_deref(), Some("s e"));
        let form = Params::parse(b"client_id=app&client_secret=s").expect("form");
        let c = credentials(&HeaderMap::new(), &form).expect("form");
        assert_eq!(
            (c.client_id.as_str(), c.client_secret.as_deref()),
            ("app", Some("s"))
        );
        assert!(matches!(
            credentials(&basic("app", "s"), &form),
            Err(ServiceError::InvalidRequest(_))
        ));
        assert!(matches!(
            credentials(&HeaderMap::new(), &none),
            Err(ServiceError::InvalidClient)
        ));
        let mut bearer = HeaderMap::new();
        bearer.insert(header::AUTHORIZATION, "Bearer x".parse().expect("value"));
        assert!(matches!(
            credentials(&bearer, &none),
            Err(ServiceError::InvalidClient)
        ));
    }
}

//! Buffered responses and the conversion of handler results into them.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Headers, HttpError};

/// A complete HTTP response: status, headers and body.
///
/// Built with [`text`](Self::text), [`json`](Self::json),
/// [`error`](Self::error) or [`new`](Self::new) plus the `with_*` methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    status: u16,
    headers: Headers,
    body: Vec<u8>,
}

impl Response {
    /// An empty response with `status`.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    /// A `text/plain; charset=utf-8` response.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Self::new(status)
            .with_header("content-type", "text/plain; charset=utf-8")
            .with_body(body.into())
    }

    /// An `application/json` response with `value` serialized as its body.
    ///
    /// If `value` cannot be serialized (a map with non-string keys, a
    /// failing `Serialize` impl) the result is a 500 error response
    /// instead: a handler should not have to handle that case.
    pub fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => Self::new(status)
                .with_header("content-type", "application/json")
                .with_body(body),
            Err(err) => Self::error(
                500,
                "serialization_failed",
                format!("failed to serialize the response: {err}"),
            ),
        }
    }

    /// Warden's error shape: `{"error": {"code": ..., "message": ...}}`.
    pub fn error(status: u16, code: &str, message: impl AsRef<str>) -> Self {
        let message = message.as_ref();
        let body = serde_json::json!({ "error": { "code": code, "message": message } });
        Self::new(status)
            .with_header("content-type", "application/json")
            .with_body(body.to_string())
    }

    /// Adds a header (keeping other values of the same name).
    pub fn with_header(mut self, name: impl AsRef<str>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.append(name, value);
        self
    }

    /// Replaces the body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Replaces the status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The headers, for changing them in place.
    pub fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body parsed as JSON; handy in tests.
    pub fn body_json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// Splits into status, headers and body.
    pub fn into_parts(self) -> (u16, Headers, Vec<u8>) {
        (self.status, self.headers, self.body)
    }
}

/// What a buffered handler may return.
///
/// Implemented for [`Response`], [`HttpError`], and `Result`s of the two,
/// so handlers can use `?`.
pub trait IntoResponse {
    /// Converts `self` into the response sent to the client.
    fn into_response(self) -> Response;
}

impl IntoResponse for Response {
    fn into_response(self) -> Response {
        self
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let mut response = Response::error(self.status(), self.code(), self.message());
        for (name, value) in self.headers().iter() {
            response.headers.append(name, value);
        }
        response
    }
}

impl<T: IntoResponse, E: IntoResponse> IntoResponse for Result<T, E> {
    fn into_response(self) -> Response {
        match self {
            Ok(ok) => ok.into_response(),
            Err(err) => err.into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn error_has_warden_shape() {
        let response = Response::error(404, "not_found", "no such \"thing\"");
        assert_eq!(response.status(), 404);
        assert_eq!(
            response.headers().get("content-type"),
            Some("application/json")
        );
        let body: Value = response.body_json().unwrap_or_default();
        assert_eq!(
            body,
            json!({"error": {"code": "not_found", "message": "no such \"thing\""}})
        );
    }

    #[test]
    fn http_error_keeps_its_headers() {
        let response =
            HttpError::method_not_allowed(&crate::Method::Put, &["GET", "POST"]).into_response();
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers().get("allow"), Some("GET, POST"));
    }

    #[test]
    fn unserializable_json_becomes_500() {
        let mut map = std::collections::BTreeMap::new();
        map.insert((1, 2), 3);
        assert_eq!(Response::json(200, &map).status(), 500);
        assert_eq!(Response::json(201, &json!([1])).body(), b"[1]");
    }
}

//! The SDK's error types: one per failure, each knowing how it looks to the
//! client.

use std::borrow::Cow;
use std::fmt;

use crate::Headers;
use crate::bindings::wasi::http::types::{ErrorCode, http_error_code};
use crate::bindings::wasi::io::streams::StreamError;

/// A failed HTTP exchange the handler wants to report to the client.
///
/// Renders as Warden's error shape,
/// `{"error": {"code": "...", "message": "..."}}`, with its status. Handlers
/// that return `Result<Response, HttpError>` can use `?` on the SDK's
/// fallible helpers such as [`Request::json`](crate::Request::json).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    status: u16,
    code: Cow<'static, str>,
    message: String,
    headers: Headers,
}

impl HttpError {
    /// An error with an explicit status, machine-readable `code` (snake_case
    /// by convention) and human-readable `message`.
    pub fn new(
        status: u16,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            headers: Headers::new(),
        }
    }

    /// 400 `bad_request`: the request is malformed or fails validation.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "bad_request", message)
    }

    /// 401 `unauthenticated`: no verified principal.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(401, "unauthenticated", message)
    }

    /// 403 `forbidden`: the principal lacks a permission.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "forbidden", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "not_found", message)
    }

    /// 405 `method_not_allowed`, with the `allow` header listing `allowed`.
    pub fn method_not_allowed(method: &crate::Method, allowed: &[&str]) -> Self {
        let allow = allowed.join(", ");
        Self::new(
            405,
            "method_not_allowed",
            format!("method {method} is not allowed here; allowed: {allow}"),
        )
        .with_header("allow", allow)
    }

    /// 500 `internal`: something went wrong inside the function.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "internal", message)
    }

    /// Adds a header to the rendered response (e.g. `retry-after`).
    pub fn with_header(mut self, name: impl AsRef<str>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.append(name, value);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The machine-readable error code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Extra headers of the rendered response.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for HttpError {}

/// Reading the request body failed.
///
/// Usually the client went away mid-upload, or the body broke the route's
/// size limit. Converts into an [`HttpError`] (413 for the size limit, 400
/// otherwise), so `?` in a handler answers sensibly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyError {
    too_large: bool,
    detail: String,
}

impl BodyError {
    pub(crate) fn from_stream(err: StreamError) -> Self {
        match err {
            StreamError::Closed => Self {
                too_large: false,
                detail: "stream closed unexpectedly".into(),
            },
            StreamError::LastOperationFailed(io) => {
                let code = http_error_code(&io);
                let too_large = matches!(code, Some(ErrorCode::HttpRequestBodySize(_)));
                let detail = match code {
                    Some(code) => format!("{code:?}"),
                    None => host_error_text(&io.to_debug_string()),
                };
                Self { too_large, detail }
            }
        }
    }

    pub(crate) fn other(detail: impl Into<String>) -> Self {
        Self {
            too_large: false,
            detail: detail.into(),
        }
    }

    /// Whether the body exceeded the size the host accepts for this route.
    pub fn is_too_large(&self) -> bool {
        self.too_large
    }
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "failed to read the request body: {}", self.detail)
    }
}

impl std::error::Error for BodyError {}

impl From<BodyError> for HttpError {
    fn from(err: BodyError) -> Self {
        if err.too_large {
            HttpError::new(413, "body_too_large", err.to_string())
        } else {
            HttpError::new(400, "body_read_failed", err.to_string())
        }
    }
}

/// Writing the response body failed.
///
/// Almost always the client hung up: expected at the end of every load test
/// and harmless, so handlers may ignore it. Writes never panic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteError {
    /// The stream is closed: the client went away or the host stopped
    /// accepting output.
    Closed,
    /// The write failed for another reason, described by the host.
    Failed(String),
}

impl WriteError {
    pub(crate) fn from_stream(err: StreamError) -> Self {
        match err {
            StreamError::Closed => WriteError::Closed,
            StreamError::LastOperationFailed(io) => {
                WriteError::Failed(host_error_text(&io.to_debug_string()))
            }
        }
    }

    /// Whether the other side is gone, so further writes are pointless.
    pub fn is_closed(&self) -> bool {
        matches!(self, WriteError::Closed)
    }
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Closed => f.write_str("response stream closed (client gone)"),
            WriteError::Failed(detail) => write!(f, "response write failed: {detail}"),
        }
    }
}

impl std::error::Error for WriteError {}

impl From<WriteError> for std::io::Error {
    fn from(err: WriteError) -> Self {
        let kind = match err {
            WriteError::Closed => std::io::ErrorKind::BrokenPipe,
            WriteError::Failed(_) => std::io::ErrorKind::Other,
        };
        std::io::Error::new(kind, err)
    }
}

/// The host's error text without the backtrace a host running with
/// `RUST_BACKTRACE=1` appends to it.
fn host_error_text(debug: &str) -> String {
    debug
        .split("Stack backtrace:")
        .next()
        .unwrap_or(debug)
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_error_text_drops_the_backtrace() {
        let debug = "hyper error: connection reset\n\nStack backtrace:\n   0: foo\n";
        assert_eq!(host_error_text(debug), "hyper error: connection reset");
        assert_eq!(host_error_text(" plain "), "plain");
    }

    #[test]
    fn body_errors_map_to_400_or_413() {
        let too_large = BodyError {
            too_large: true,
            detail: "HttpRequestBodySize(Some(10))".into(),
        };
        assert_eq!(HttpError::from(too_large).status(), 413);
        assert_eq!(HttpError::from(BodyError::other("reset")).status(), 400);
    }
}

//! The HTTP method of a request.

use std::fmt;

use crate::bindings::wasi::http::types as wasi;

/// An HTTP request method.
///
/// Mirrors wasi:http's `method` variant so handlers can `match` on it
/// without touching the bindings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `HEAD`
    Head,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `DELETE`
    Delete,
    /// `CONNECT`
    Connect,
    /// `OPTIONS`
    Options,
    /// `TRACE`
    Trace,
    /// `PATCH`
    Patch,
    /// Any other method, as sent by the client.
    Other(String),
}

impl Method {
    /// The method's name as it appears on the wire, e.g. `"GET"`.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Connect => "CONNECT",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
            Method::Patch => "PATCH",
            Method::Other(other) => other,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Method {
    /// Parses a method name; the standard ones are matched case-insensitively.
    fn from(name: &str) -> Self {
        match name.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "CONNECT" => Method::Connect,
            "OPTIONS" => Method::Options,
            "TRACE" => Method::Trace,
            "PATCH" => Method::Patch,
            _ => Method::Other(name.to_owned()),
        }
    }
}

impl From<wasi::Method> for Method {
    fn from(method: wasi::Method) -> Self {
        match method {
            wasi::Method::Get => Method::Get,
            wasi::Method::Head => Method::Head,
            wasi::Method::Post => Method::Post,
            wasi::Method::Put => Method::Put,
            wasi::Method::Delete => Method::Delete,
            wasi::Method::Connect => Method::Connect,
            wasi::Method::Options => Method::Options,
            wasi::Method::Trace => Method::Trace,
            wasi::Method::Patch => Method::Patch,
            wasi::Method::Other(other) => Method::Other(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_standard_methods_case_insensitively() {
        assert_eq!(Method::from("get"), Method::Get);
        assert_eq!(Method::from("PATCH"), Method::Patch);
        assert_eq!(Method::from("PURGE"), Method::Other("PURGE".into()));
        assert_eq!(Method::Post.to_string(), "POST");
    }
}

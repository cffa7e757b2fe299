//! The incoming request as handlers see it.

use std::str::FromStr;

use serde::de::DeserializeOwned;

use crate::bindings::wasi::http::types::IncomingRequest;
use crate::{BodyError, BodyReader, Headers, HttpError, Method};

/// The header in which Warden's gateway tells a function where it is
/// mounted: the route prefix that matched the request, e.g. `/todos`, or
/// empty for a function routed at `/`.
///
/// The gateway removes any copy a client sent before inserting its own, so
/// a function can trust it. [`Request::route_path`] reads it.
pub const ROUTE_PREFIX_HEADER: &str = "x-warden-route-prefix";

/// An HTTP request: method, path, query, headers and body.
///
/// In a handler registered with [`http_handler!`](crate::http_handler) the
/// body has been read completely before the handler runs. In a streaming
/// handler it is left unread: take it with [`take_body_reader`] to consume
/// it chunk by chunk, or call [`read_body`] to buffer it.
///
/// Build one by hand with [`Request::new`] to unit-test handlers natively.
///
/// [`take_body_reader`]: Request::take_body_reader
/// [`read_body`]: Request::read_body
#[derive(Debug)]
pub struct Request {
    method: Method,
    path: String,
    query: String,
    authority: Option<String>,
    headers: Headers,
    body: Vec<u8>,
    unread: Option<BodyReader>,
    /// Path parameters of the [`Router`](crate::Router) route that matched.
    params: Vec<(String, String)>,
}

impl Request {
    /// A request with `method` for `path_with_query` (e.g. `/quote?x=1`),
    /// no headers and an empty body.
    pub fn new(method: Method, path_with_query: &str) -> Self {
        let (path, query) = match path_with_query.split_once('?') {
            Some((path, query)) => (path, query),
            None => (path_with_query, ""),
        };
        let path = if path.is_empty() { "/" } else { path };
        Self {
            method,
            path: path.to_owned(),
            query: query.to_owned(),
            authority: None,
            headers: Headers::new(),
            body: Vec::new(),
            unread: None,
            params: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: impl AsRef<str>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.append(name, value);
        self
    }

    /// Sets the authority (`host[:port]`) the client addressed.
    pub fn with_authority(mut self, authority: impl Into<String>) -> Self {
        self.authority = Some(authority.into());
        self
    }

    /// Sets the (already read) body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self.unread = None;
        self
    }

    /// Sets an unread body, as a streaming handler receives it.
    pub fn with_body_reader(mut self, reader: BodyReader) -> Self {
        self.body.clear();
        self.unread = Some(reader);
        self
    }

    /// Reads the head of a wasi:http request and takes its body unread.
    pub(crate) fn from_wasi(request: &IncomingRequest) -> Result<Self, BodyError> {
        let path_with_query = request.path_with_query().unwrap_or_default();
        let mut req = Self::new(request.method().into(), &path_with_query);
        req.authority = request.authority();
        // `headers` is a child resource of the request: read it and drop it.
        req.headers = Headers::from_fields(&request.headers());
        req.unread = Some(BodyReader::from_wasi(request)?);
        Ok(req)
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path, without the query string; always starts with `/`.
    ///
    /// It is the full path the client asked for, route prefix included
    /// (`/quote/health` for a function routed at `/quote`); see
    /// [`route_path`](Self::route_path) for the part below the prefix.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The path below the route prefix the function is mounted at, always
    /// starting with `/`: what a function routes on, so it need not know
    /// where it is mounted. [`Router`](crate::Router) matches on it.
    ///
    /// The prefix is the [`ROUTE_PREFIX_HEADER`] the gateway sets. With
    /// prefix `/todos`, path `/todos/1` gives `/1`, and `/todos` and
    /// `/todos/` give `/`; an empty prefix (a function at `/`)
    /// or no header at all gives the full [`path`](Self::path). A prefix
    /// that does not start the path on a segment boundary is ignored, as is
    /// a value that is not UTF-8 or does not start with `/`; one trailing
    /// `/` of the prefix is dropped (`/api/` counts as `/api`).
    pub fn route_path(&self) -> &str {
        let prefix = self.route_prefix();
        match self.path.strip_prefix(prefix) {
            Some("") => "/",
            Some(rest) => rest,
            None => &self.path,
        }
    }

    /// The route prefix [`route_path`](Self::route_path) strips: the
    /// gateway's [`ROUTE_PREFIX_HEADER`] without a trailing `/`, or `""`
    /// when it is absent, empty, or ignored for the reasons given there.
    /// Handy to build links to the function's own resources.
    pub fn route_prefix(&self) -> &str {
        let Some(header) = self.headers.get(ROUTE_PREFIX_HEADER) else {
            return "";
        };
        let prefix = header.strip_suffix('/').unwrap_or(header);
        let on_boundary = self
            .path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if prefix.starts_with('/') && on_boundary {
            prefix
        } else {
            ""
        }
    }

    /// The path parameter `name` of the [`Router`](crate::Router) route
    /// that matched (`id` in `/todos/:id`), percent-decoded; `None` outside
    /// a router or if the route has no such parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
    }

    /// The path parameter `name` parsed as `T`, e.g. `req.param_as::<u64>("id")`.
    ///
    /// A value that does not parse is a 404 `not_found`: the path names a
    /// resource, and a segment that cannot be its id names none. A missing
    /// parameter is the function's own bug (the route has no `:name`), so
    /// 500 `internal`.
    pub fn param_as<T: FromStr>(&self, name: &str) -> Result<T, HttpError> {
        let value = self.param(name).ok_or_else(|| {
            HttpError::internal(format!("the matched route has no parameter `{name}`"))
        })?;
        value
            .parse()
            .map_err(|_| HttpError::not_found(format!("no resource at {}", self.path)))
    }

    /// All path parameters of the matched route, in pattern order.
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Records the parameters of the route that matched; the router's job.
    pub(crate) fn set_params(&mut self, params: Vec<(String, String)>) {
        self.params = params;
    }

    /// The raw query string without the leading `?`; empty if there is none.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// The first value of query parameter `name`, percent-decoded
    /// (`+` counts as a space, as in HTML forms).
    ///
    /// Every `%XX` escape is decoded, including `%00` (NUL) and `%2B` (a
    /// literal `+`); bytes that do not form UTF-8 become U+FFFD. A
    /// parameter without `=` has the empty value.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// Every query parameter as a percent-decoded `(name, value)` pair, in
    /// order (repeated names appear repeatedly); empty segments are skipped.
    pub fn query_pairs(&self) -> impl Iterator<Item = (String, String)> + '_ {
        self.query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(key, true), percent_decode(value, true))
            })
    }

    /// The authority (`host[:port]`) the client addressed, if known.
    pub fn authority(&self) -> Option<&str> {
        self.authority.as_deref()
    }

    /// The headers.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The first value of header `name`, if it is valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// The body read so far: all of it in a buffered handler; in a
    /// streaming handler, empty until [`read_body`](Self::read_body).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body as UTF-8 text; 400 `invalid_utf8` if it is not.
    pub fn text(&self) -> Result<&str, HttpError> {
        std::str::from_utf8(&self.body).map_err(|err| {
            HttpError::new(
                400,
                "invalid_utf8",
                format!("request body is not valid UTF-8: {err}"),
            )
        })
    }

    /// The body parsed as JSON into `T`.
    ///
    /// Fails with 400 `invalid_json` and a message that names the problem
    /// and its position, e.g. ``missing field `items` at line 1 column 2``.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(HttpError::new(
                400,
                "invalid_json",
                "request body is empty; expected a JSON document",
            ));
        }
        serde_json::from_slice(&self.body).map_err(|err| {
            HttpError::new(
                400,
                "invalid_json",
                format!("request body is not valid JSON for this endpoint: {err}"),
            )
        })
    }

    /// Moves the body read so far out, leaving it empty.
    pub(crate) fn take_body(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.body)
    }

    /// Takes the unread body to consume it chunk by chunk.
    ///
    /// `Some` once in a streaming handler; `None` in a buffered handler or
    /// when already taken.
    pub fn take_body_reader(&mut self) -> Option<BodyReader> {
        self.unread.take()
    }

    /// Reads whatever is left of the body into [`body`](Self::body) and
    /// returns it. A no-op when it is already buffered.
    pub fn read_body(&mut self) -> Result<&[u8], BodyError> {
        if let Some(reader) = self.unread.take() {
            let rest = reader.read_all()?;
            self.body.extend_from_slice(&rest);
        }
        Ok(&self.body)
    }
}

/// Decodes `%XX` escapes, and `+` as a space if `plus_is_space` (query
/// strings, not paths); malformed escapes are kept literally.
pub(crate) fn percent_decode(input: &str, plus_is_space: bool) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex_digit(bytes[i + 1]), hex_digit(bytes[i + 2]))
            {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of one hex digit (either case).
fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_path_and_query() {
        let req = Request::new(Method::Get, "/quote/health?verbose=1&name=a+b%21");
        assert_eq!(req.path(), "/quote/health");
        assert_eq!(req.query(), "verbose=1&name=a+b%21");
        assert_eq!(req.query_param("name").as_deref(), Some("a b!"));
        assert_eq!(req.query_param("verbose").as_deref(), Some("1"));
        assert_eq!(req.query_param("missing"), None);
        assert_eq!(Request::new(Method::Get, "").path(), "/");
    }

    #[test]
    fn malformed_escapes_are_kept() {
        assert_eq!(percent_decode("100%", true), "100%");
        assert_eq!(percent_decode("%zz%4", true), "%zz%4");
        assert_eq!(percent_decode("%41", true), "A");
        assert_eq!(percent_decode("%-1%+f", true), "%-1% f");
        assert_eq!(percent_decode("a+b%20c", false), "a+b c");
    }

    #[test]
    fn query_params_decode_any_byte() {
        let req = Request::new(Method::Get, "/kv?key=a%00b%7B%7d%2B%25&x&empty=");
        assert_eq!(req.query_param("key").as_deref(), Some("a\0b{}+%"));
        assert_eq!(req.query_param("x").as_deref(), Some(""));
        assert_eq!(req.query_param("empty").as_deref(), Some(""));
        let multibyte = Request::new(Method::Get, "/?k=%C3%A9t%C3%A9&k=second");
        assert_eq!(multibyte.query_param("k").as_deref(), Some("été"));
        let pairs: Vec<(String, String)> = req.query_pairs().collect();
        assert_eq!(pairs.len(), 3);
        assert_eq!(pairs[1], ("x".to_owned(), String::new()));
    }

    #[test]
    fn route_path_is_relative_to_the_gateway_prefix() {
        let at = |prefix: Option<&str>, path: &str| {
            let req = Request::new(Method::Get, path);
            let req = match prefix {
                Some(prefix) => req.with_header(ROUTE_PREFIX_HEADER, prefix),
                None => req,
            };
            (req.route_prefix().to_owned(), req.route_path().to_owned())
        };
        let pair = |prefix: &str, path: &str| (prefix.to_owned(), path.to_owned());
        assert_eq!(at(Some("/todos"), "/todos/1"), pair("/todos", "/1"));
        assert_eq!(at(Some("/todos"), "/todos"), pair("/todos", "/"));
        assert_eq!(at(Some("/todos"), "/todos/"), pair("/todos", "/"));
        assert_eq!(at(Some("/todos/"), "/todos/1?x"), pair("/todos", "/1"));
        assert_eq!(at(Some("/api/v1"), "/api/v1/a/b"), pair("/api/v1", "/a/b"));
        // Mounted at `/`, no header, or a prefix that does not fit: the
        // full path.
        assert_eq!(at(Some(""), "/todos/1"), pair("", "/todos/1"));
        assert_eq!(at(Some("/"), "/x"), pair("", "/x"));
        assert_eq!(at(None, "/todos/1"), pair("", "/todos/1"));
        assert_eq!(at(Some("/todo"), "/todos/1"), pair("", "/todos/1"));
        assert_eq!(at(Some("/other"), "/todos/1"), pair("", "/todos/1"));
        assert_eq!(at(Some("todos"), "/todos/1"), pair("", "/todos/1"));
        // Only the path moves; the query stays where it was.
        let req =
            Request::new(Method::Get, "/todos?limit=1").with_header(ROUTE_PREFIX_HEADER, "/todos");
        assert_eq!((req.route_path(), req.query()), ("/", "limit=1"));
    }

    #[test]
    fn params_parse_or_answer_404() {
        let mut req = Request::new(Method::Get, "/todos/abc");
        assert_eq!(req.param("id"), None);
        assert_eq!(req.param_as::<u64>("id").map_err(|e| e.status()), Err(500));
        req.set_params(vec![("id".into(), "abc".into()), ("n".into(), "7".into())]);
        assert_eq!(req.param("id"), Some("abc"));
        assert_eq!(req.param_as::<u64>("n"), Ok(7));
        assert_eq!(req.param_as::<u64>("id").map_err(|e| e.status()), Err(404));
        assert_eq!(req.params().count(), 2);
    }

    #[test]
    fn json_errors_are_400_with_a_reason() {
        #[derive(serde::Deserialize, Debug)]
        struct Cart {
            #[allow(dead_code)]
            items: Vec<u32>,
        }
        let empty = Request::new(Method::Post, "/").json::<Cart>();
        assert_eq!(empty.as_ref().err().map(HttpError::status), Some(400));
        let err = Request::new(Method::Post, "/")
            .with_body("{}")
            .json::<Cart>()
            .err();
        let err = err.as_ref().map(HttpError::message).unwrap_or_default();
        assert!(err.contains("missing field `items`"), "{err}");
    }

    #[test]
    fn read_body_buffers_a_streamed_body() {
        let mut req = Request::new(Method::Post, "/")
            .with_body_reader(BodyReader::from_chunks([b"a".to_vec(), b"b".to_vec()]));
        assert_eq!(req.body(), b"");
        assert_eq!(req.read_body().ok(), Some(&b"ab"[..]));
        assert!(req.take_body_reader().is_none());
    }
}

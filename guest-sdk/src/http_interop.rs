//! Conversions between the SDK's [`Request`] / [`Response`] and the `http`
//! crate's, so code written against `http` types (handlers, helpers from
//! other crates, tests) works in a Warden function unchanged.
//!
//! - `http::Request<B>` → [`Request`] and `http::Response<B>` → [`Response`]
//!   for any body `B: Into<Vec<u8>>` (`Vec<u8>`, `String`, `&str`, ...);
//!   both always succeed, since every `http` value is valid here.
//! - [`Request`] → `http::Request<Vec<u8>>` and [`Response`] →
//!   `http::Response<Vec<u8>>` with `TryFrom`, failing with [`http::Error`]
//!   where the SDK holds something `http` refuses (a header name with a
//!   space, a status outside 100..=999).
//! - `http::Response<B>` is an [`IntoResponse`], so a handler may return
//!   one directly.

use crate::{IntoResponse, Method, Request, Response};

impl From<&http::Method> for Method {
    fn from(method: &http::Method) -> Self {
        Method::from(method.as_str())
    }
}

impl From<http::Method> for Method {
    fn from(method: http::Method) -> Self {
        Method::from(&method)
    }
}

impl TryFrom<&Method> for http::Method {
    type Error = http::method::InvalidMethod;

    fn try_from(method: &Method) -> Result<Self, Self::Error> {
        http::Method::from_bytes(method.as_str().as_bytes())
    }
}

/// A request as the `http` crate models it, e.g. one built in a test.
///
/// The path and query come from the URI; the authority from the URI, else
/// from the `host` header.
impl<B: Into<Vec<u8>>> From<http::Request<B>> for Request {
    fn from(req: http::Request<B>) -> Self {
        let (parts, body) = req.into_parts();
        let path_with_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
        let mut out = Request::new(Method::from(&parts.method), path_with_query);
        for (name, value) in &parts.headers {
            out = out.with_header(name.as_str(), value.as_bytes());
        }
        let authority = parts
            .uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .or_else(|| out.header("host").map(str::to_owned));
        let out = match authority {
            Some(authority) => out.with_authority(authority),
            None => out,
        };
        out.with_body(body)
    }
}

/// The request for code that takes `http` types.
///
/// The URI is origin-form (`/path?query`): the scheme is unknown to a
/// function. A known authority travels as the `host` header unless the
/// request has one. The body is what has been read ([`Request::body`]): in
/// a streaming handler call [`Request::read_body`] first, or the unread
/// rest is dropped. Path parameters are not carried over.
impl TryFrom<Request> for http::Request<Vec<u8>> {
    type Error = http::Error;

    fn try_from(mut req: Request) -> Result<Self, Self::Error> {
        let uri = match req.query() {
            "" => req.path().to_owned(),
            query => format!("{}?{query}", req.path()),
        };
        let mut builder = http::Request::builder()
            .method(http::Method::try_from(req.method())?)
            .uri(uri);
        for (name, value) in req.headers().iter() {
            builder = builder.header(name, value);
        }
        if let Some(authority) = req.authority().filter(|_| !req.headers().contains("host")) {
            builder = builder.header(http::header::HOST, authority);
        }
        builder.body(req.take_body())
    }
}

/// A response built with the `http` crate.
impl<B: Into<Vec<u8>>> From<http::Response<B>> for Response {
    fn from(response: http::Response<B>) -> Self {
        let (parts, body) = response.into_parts();
        let mut out = Response::new(parts.status.as_u16()).with_body(body);
        for (name, value) in &parts.headers {
            out.headers_mut().append(name.as_str(), value.as_bytes());
        }
        out
    }
}

/// Lets a handler return an `http::Response` as it is.
impl<B: Into<Vec<u8>>> IntoResponse for http::Response<B> {
    fn into_response(self) -> Response {
        Response::from(self)
    }
}

/// The response for code that takes `http` types (e.g. to assert on it
/// with `http`'s typed headers).
impl TryFrom<Response> for http::Response<Vec<u8>> {
    type Error = http::Error;

    fn try_from(response: Response) -> Result<Self, Self::Error> {
        let (status, headers, body) = response.into_parts();
        let mut builder = http::Response::builder().status(status);
        for (name, value) in headers.iter() {
            builder = builder.header(name, value);
        }
        builder.body(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_request_becomes_a_request() {
        let req = http::Request::builder()
            .method(http::Method::PATCH)
            .uri("https://acme.example/todos/1?x=a+b")
            .header("if-match", "\"1\"")
            .header("x-bin", &[0xff][..])
            .body("{\"done\": true}")
            .map(Request::from);
        let req = req.expect("a valid http request");
        assert_eq!(req.method(), &Method::Patch);
        assert_eq!((req.path(), req.query()), ("/todos/1", "x=a+b"));
        assert_eq!(req.authority(), Some("acme.example"));
        assert_eq!(req.header("if-match"), Some("\"1\""));
        assert_eq!(req.headers().get_bytes("x-bin"), Some(&[0xff][..]));
        assert_eq!(req.body(), b"{\"done\": true}");
        let hosted = http::Request::get("/")
            .header("host", "h:8080")
            .body(Vec::new());
        let hosted = hosted.map(Request::from).expect("valid");
        assert_eq!(hosted.authority(), Some("h:8080"));
    }

    #[test]
    fn request_becomes_an_http_request() {
        let req = Request::new(Method::Other("PURGE".into()), "/cache?key=a")
            .with_header("x-one", "1")
            .with_authority("acme.localhost")
            .with_body("body");
        let http = http::Request::<Vec<u8>>::try_from(req).expect("converts");
        assert_eq!(http.method().as_str(), "PURGE");
        assert_eq!(http.uri(), "/cache?key=a");
        assert_eq!(http.headers()["x-one"], "1");
        assert_eq!(http.headers()["host"], "acme.localhost");
        assert_eq!(http.body(), b"body");
        let bad = Request::new(Method::Get, "/").with_header("bad name", "x");
        assert!(http::Request::<Vec<u8>>::try_from(bad).is_err());
    }

    #[test]
    fn responses_convert_both_ways() {
        let http = http::Response::builder()
            .status(http::StatusCode::CREATED)
            .header("location", "/todos/1")
            .header("set-cookie", "a=1")
            .header("set-cookie", "b=2")
            .body(String::from("made"))
            .expect("valid");
        let response = http.into_response();
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers().get("location"), Some("/todos/1"));
        assert_eq!(response.headers().get_all("set-cookie").count(), 2);
        assert_eq!(response.body(), b"made");

        let back = http::Response::<Vec<u8>>::try_from(response).expect("converts");
        assert_eq!(back.status(), http::StatusCode::CREATED);
        assert_eq!(back.headers().get_all("set-cookie").iter().count(), 2);
        assert_eq!(back.body(), b"made");
        let invalid = Response::new(1000);
        assert!(http::Response::<Vec<u8>>::try_from(invalid).is_err());
    }

    #[test]
    fn methods_convert() {
        assert_eq!(Method::from(http::Method::DELETE), Method::Delete);
        assert_eq!(
            http::Method::try_from(&Method::Options).ok(),
            Some(http::Method::OPTIONS)
        );
        assert!(http::Method::try_from(&Method::Other("BAD METHOD".into())).is_err());
    }
}

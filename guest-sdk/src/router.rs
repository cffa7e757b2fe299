//! A small router: method + path pattern → handler, with path parameters.

use crate::request::percent_decode;
use crate::{HttpError, IntoResponse, Method, Request, Response};

/// Dispatches a request to the handler registered for its method and
/// [route-relative path](Request::route_path).
///
/// Patterns are `/`-separated segments, each literal (`health`) or a
/// parameter (`:id`, read with [`Request::param`] / [`Request::param_as`]);
/// a last segment `*name` matches the rest of the path, zero or more
/// segments (`/files/*path`; the parameter holds the rest without its
/// leading `/`); `/` is the function's own root. A trailing `/` on the request path is
/// ignored, so `/todos/` at prefix `/todos` is `/`. Routes are tried in
/// the order they were added and the first whose method and pattern match
/// wins. When none matches the answer is, in Warden's error shape, a 405
/// with an `allow` header listing the methods that match the path, or a
/// 404 if no pattern does.
///
/// ```
/// use warden_sdk::{Method, Request, Response, Router};
///
/// fn router() -> Router {
///     Router::new()
///         .get("/", |_req| Response::text(200, "all todos\n"))
///         .get("/:id", |req: Request| {
///             let id: u64 = req.param_as("id")?;
///             Ok::<_, warden_sdk::HttpError>(Response::text(200, format!("todo {id}\n")))
///         })
/// }
///
/// // The gateway says the function is mounted at /todos.
/// let req = Request::new(Method::Get, "/todos/7")
///     .with_header(warden_sdk::ROUTE_PREFIX_HEADER, "/todos");
/// assert_eq!(router().handle(req).body(), b"todo 7\n");
/// ```
///
/// A function serves it with
/// `warden_sdk::http_handler!(|req| router().handle(req));`: a Warden
/// instance lives for one request, so building the router per request
/// costs what building it once would.
#[derive(Default)]
pub struct Router {
    routes: Vec<Route>,
}

type Handler = Box<dyn Fn(Request) -> Response>;

struct Route {
    method: Method,
    pattern: Vec<Segment>,
    handler: Handler,
}

enum Segment {
    Literal(String),
    Param(String),
    /// The rest of the path (only last in a pattern).
    Rest(String),
}

impl Router {
    /// A router without routes: everything is a 404.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a route for `method` and `pattern` (see [`Router`] for the
    /// syntax). `handler` may return anything [`IntoResponse`].
    pub fn route<R: IntoResponse>(
        mut self,
        method: Method,
        pattern: &str,
        handler: impl Fn(Request) -> R + 'static,
    ) -> Self {
        self.routes.push(Route {
            method,
            pattern: parse_pattern(pattern),
            handler: Box::new(move |req| handler(req).into_response()),
        });
        self
    }

    /// Adds a `GET` route.
    pub fn get<R: IntoResponse>(
        self,
        pattern: &str,
        handler: impl Fn(Request) -> R + 'static,
    ) -> Self {
        self.route(Method::Get, pattern, handler)
    }

    /// Adds a `POST` route.
    pub fn post<R: IntoResponse>(
        self,
        pattern: &str,
        handler: impl Fn(Request) -> R + 'static,
    ) -> Self {
        self.route(Method::Post, pattern, handler)
    }

    /// Adds a `PUT` route.
    pub fn put<R: IntoResponse>(
        self,
        pattern: &str,
        handler: impl Fn(Request) -> R + 'static,
    ) -> Self {
        self.route(Method::Put, pattern, handler)
    }

    /// Adds a `PATCH` route.
    pub fn patch<R: IntoResponse>(
        self,
        pattern: &str,
        handler: impl Fn(Request) -> R + 'static,
    ) -> Self {
        self.route(Method::Patch, pattern, handler)
    }

    /// Adds a `DELETE` route.
    pub fn delete<R: IntoResponse>(
        self,
        pattern: &str,
        handler: impl Fn(Request) -> R + 'static,
    ) -> Self {
        self.route(Method::Delete, pattern, handler)
    }

    /// Runs the handler of the first route matching `req`, with its path
    /// parameters set; else the 405 or 404 described at [`Router`].
    pub fn handle(&self, mut req: Request) -> Response {
        let segments = path_segments(req.route_path());
        let mut allowed: Vec<&str> = Vec::new();
        for route in &self.routes {
            let Some(params) = match_pattern(&route.pattern, &segments) else {
                continue;
            };
            if route.method == *req.method() {
                req.set_params(params);
                return (route.handler)(req);
            }
            if !allowed.contains(&route.method.as_str()) {
                allowed.push(route.method.as_str());
            }
        }
        let error = if allowed.is_empty() {
            HttpError::not_found(format!("no route for {} {}", req.method(), req.path()))
        } else {
            HttpError::method_not_allowed(req.method(), &allowed)
        };
        error.into_response()
    }
}

/// `"/todos/:id"` → [`Literal("todos")`, `Param("id")`]; empty segments
/// (`"/"`, a trailing or doubled `/`) are dropped.
fn parse_pattern(pattern: &str) -> Vec<Segment> {
    pattern
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| {
            if let Some(name) = segment.strip_prefix(':') {
                Segment::Param(name.to_owned())
            } else if let Some(name) = segment.strip_prefix('*') {
                Segment::Rest(name.to_owned())
            } else {
                Segment::Literal(segment.to_owned())
            }
        })
        .collect()
}

/// The segments of a request path, without the leading and one trailing
/// `/`; inner empty segments (`/a//b`) are kept, so they match no pattern.
fn path_segments(path: &str) -> Vec<&str> {
    let path = path.strip_prefix('/').unwrap_or(path);
    let path = path.strip_suffix('/').unwrap_or(path);
    if path.is_empty() {
        Vec::new()
    } else {
        path.split('/').collect()
    }
}

/// The parameters if `segments` match `pattern`; literals compare raw, a
/// parameter takes any non-empty segment, percent-decoded.
fn match_pattern(pattern: &[Segment], segments: &[&str]) -> Option<Vec<(String, String)>> {
    let rest = match pattern.last() {
        Some(Segment::Rest(name)) => Some(name),
        _ => None,
    };
    let fixed = pattern.len() - usize::from(rest.is_some());
    if segments.len() < fixed || (rest.is_none() && segments.len() != fixed) {
        return None;
    }
    let mut params = Vec::new();
    for (expected, actual) in pattern[..fixed].iter().zip(segments) {
        match expected {
            Segment::Literal(literal) if literal == actual => {}
            Segment::Param(name) if !actual.is_empty() => {
                params.push((name.clone(), percent_decode(actual, false)));
            }
            _ => return None,
        }
    }
    if let Some(name) = rest {
        let tail = segments[fixed..].join("/");
        params.push((name.clone(), percent_decode(&tail, false)));
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::ROUTE_PREFIX_HEADER;

    fn router() -> Router {
        Router::new()
            .get("/", |_| Response::text(200, "list"))
            .post("/", |_| Response::text(201, "created"))
            .get("/health", |_| Response::text(200, "ok"))
            .get("/:id", |req: Request| {
                Response::text(200, format!("item {}", req.param("id").unwrap_or("?")))
            })
            .put("/:id", |req: Request| {
                req.param_as::<u64>("id")
                    .map(|id| Response::text(200, format!("put {id}")))
            })
            .delete("/:id/tags/:tag", |req: Request| {
                let tag = req.param("tag").unwrap_or_default().to_owned();
                Response::text(
                    200,
                    format!("{}:{tag}", req.param("id").unwrap_or_default()),
                )
            })
    }

    fn call(method: Method, path: &str) -> Response {
        router().handle(Request::new(method, path).with_header(ROUTE_PREFIX_HEADER, "/todos"))
    }

    #[test]
    fn a_rest_segment_matches_any_tail_including_none() {
        let router = Router::new().get("/files/*path", |req: Request| {
            Response::text(200, format!("[{}]", req.param("path").unwrap_or("?")))
        });
        let call = |path: &str| router.handle(Request::new(Method::Get, path));
        assert_eq!(call("/files/a/b%20c").body(), b"[a/b c]");
        assert_eq!(call("/files").body(), b"[]");
        assert_eq!(call("/other").status(), 404);
    }

    #[test]
    fn dispatches_on_method_and_route_path() {
        assert_eq!(call(Method::Get, "/todos").body(), b"list");
        assert_eq!(call(Method::Get, "/todos/").body(), b"list");
        assert_eq!(call(Method::Post, "/todos").status(), 201);
        // Literals come first because they were added first.
        assert_eq!(call(Method::Get, "/todos/health").body(), b"ok");
        assert_eq!(call(Method::Get, "/todos/a%20b").body(), b"item a b");
        assert_eq!(call(Method::Put, "/todos/7").body(), b"put 7");
        assert_eq!(call(Method::Delete, "/todos/7/tags/x").body(), b"7:x");
        // Without the header the full path is matched.
        let unmounted = router().handle(Request::new(Method::Get, "/12"));
        assert_eq!(unmounted.body(), b"item 12");
    }

    #[test]
    fn a_path_nothing_matches_is_a_json_404() {
        for path in ["/todos/1/x", "/todos//1", "/elsewhere/1/2"] {
            let response = call(Method::Get, path);
            assert_eq!(response.status(), 404, "{path}");
            let body: Value = response.body_json().unwrap_or(Value::Null);
            assert_eq!(body["error"]["code"], "not_found", "{path}");
        }
        assert_eq!(
            Router::new()
                .handle(Request::new(Method::Get, "/"))
                .status(),
            404
        );
    }

    #[test]
    fn a_wrong_method_is_405_listing_the_methods_of_the_path() {
        let response = call(Method::Delete, "/todos");
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers().get("allow"), Some("GET, POST"));
        let body: Value = response.body_json().unwrap_or(Value::Null);
        assert_eq!(body["error"]["code"], "method_not_allowed");
        let item = call(Method::Post, "/todos/1");
        assert_eq!(item.headers().get("allow"), Some("GET, PUT"));
        // `/health` matches both the literal and `/:id`: both count.
        let health = call(Method::Put, "/todos/health");
        assert_eq!(health.status(), 404, "PUT /:id ran, and `health` is no u64");
        let health = call(Method::Patch, "/todos/health");
        assert_eq!(health.headers().get("allow"), Some("GET, PUT"));
    }

    #[test]
    fn a_parameter_that_does_not_parse_is_404() {
        assert_eq!(call(Method::Put, "/todos/abc").status(), 404);
    }
}

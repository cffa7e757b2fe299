//! The request id: honoured from `x-request-id` or the W3C `traceparent`
//! trace id when the client sends a sane one, generated otherwise, and
//! returned on every response and log line.

use http::{HeaderMap, HeaderValue, Request};

/// Header carrying the request id in and out.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Step: picks the request's id and puts it on the request, so the guest
/// sees the same id the client and the logs do.
pub fn assign<B>(req: &mut Request<B>) -> String {
    let id = request_id(req.headers());
    if let Ok(value) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    id
}

/// Picks the request id for an incoming request.
pub fn request_id(headers: &HeaderMap) -> String {
    if let Some(id) = headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_sane(id))
    {
        return id.to_string();
    }
    if let Some(trace_id) = headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(trace_id_of)
    {
        return trace_id.to_string();
    }
    generate()
}

/// A fresh 128-bit id in hex, the shape of a W3C trace id.
pub fn generate() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Ids are echoed into headers and logs: keep them short and printable.
fn is_sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The trace id of a `traceparent` header (`00-<32 hex>-<16 hex>-<2 hex>`).
fn trace_id_of(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.split('-');
    let _version = parts.next().filter(|v| v.len() == 2)?;
    let trace_id = parts.next()?;
    let valid = trace_id.len() == 32
        && trace_id.bytes().all(|b| b.is_ascii_hexdigit())
        && trace_id.bytes().any(|b| b != b'0');
    valid.then_some(trace_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("header"));
        }
        h
    }

    #[test]
    fn honours_incoming_id_then_traceparent_then_generates() {
        assert_eq!(request_id(&headers(&[("x-request-id", "abc-1")])), "abc-1");
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            request_id(&headers(&[("traceparent", tp)])),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        let generated = request_id(&headers(&[("x-request-id", "bad id with spaces")]));
        assert_eq!(generated.len(), 32);
    }
}

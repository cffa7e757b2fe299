//! Outcome counting: responses by status and failures by transport kind.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// Why a request got no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransportError {
    /// The TCP connection could not be opened.
    Connect,
    /// The HTTP/1.1 handshake failed.
    Handshake,
    /// The server closed the connection before answering.
    Closed,
    /// The response was cut short (headers or body).
    Incomplete,
    /// The response did not parse as HTTP.
    Parse,
    /// No complete response within the request timeout.
    Timeout,
    /// Reading the response body failed.
    Body,
    /// Any other client error.
    Other,
}

impl TransportError {
    /// Classifies a hyper client error.
    pub fn from_hyper(e: &hyper::Error) -> Self {
        if e.is_closed() || e.is_canceled() {
            Self::Closed
        } else if e.is_incomplete_message() {
            Self::Incomplete
        } else if e.is_parse() || e.is_parse_status() {
            Self::Parse
        } else if e.is_timeout() {
            Self::Timeout
        } else if e.is_body_write_aborted() {
            Self::Body
        } else {
            Self::Other
        }
    }

    /// Short stable name, used in reports and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Handshake => "handshake",
            Self::Closed => "closed",
            Self::Incomplete => "incomplete",
            Self::Parse => "parse",
            Self::Timeout => "timeout",
            Self::Body => "body",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Counts of every outcome of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Outcomes {
    /// Responses by HTTP status code, successful ones included.
    pub by_status: BTreeMap<u16, u64>,
    /// Requests that got no response, by kind of failure.
    pub by_transport: BTreeMap<TransportError, u64>,
}

impl Outcomes {
    /// Counts one response.
    pub fn status(&mut self, code: u16) {
        *self.by_status.entry(code).or_default() += 1;
    }

    /// Counts one failed request.
    pub fn transport(&mut self, kind: TransportError) {
        *self.by_transport.entry(kind).or_default() += 1;
    }

    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &Outcomes) {
        for (k, v) in &other.by_status {
            *self.by_status.entry(*k).or_default() += v;
        }
        for (k, v) in &other.by_transport {
            *self.by_transport.entry(*k).or_default() += v;
        }
    }

    /// Responses with a 2xx or 3xx status.
    pub fn ok(&self) -> u64 {
        self.by_status
            .iter()
            .filter(|(code, _)| (200..400).contains(*code))
            .map(|(_, n)| n)
            .sum()
    }

    /// Responses with a 4xx/5xx (or nonsense) status, plus transport failures.
    pub fn errors(&self) -> u64 {
        let bad_status: u64 = self
            .by_status
            .iter()
            .filter(|(code, _)| !(200..400).contains(*code))
            .map(|(_, n)| n)
            .sum();
        bad_status + self.by_transport.values().sum::<u64>()
    }

    /// `503=12, timeout=3`, or `none`.
    pub fn errors_line(&self) -> String {
        let parts: Vec<String> = self
            .by_status
            .iter()
            .filter(|(code, _)| !(200..400).contains(*code))
            .map(|(code, n)| format!("{code}={n}"))
            .chain(self.by_transport.iter().map(|(k, n)| format!("{k}={n}")))
            .collect();
        if parts.is_empty() {
            "none".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_bad_statuses_plus_transport_failures() {
        let mut a = Outcomes::default();
        a.status(200);
        a.status(200);
        a.status(503);
        let mut b = Outcomes::default();
        b.status(404);
        b.transport(TransportError::Timeout);
        a.merge(&b);
        assert_eq!(a.ok(), 2);
        assert_eq!(a.errors(), 3);
        assert_eq!(a.errors_line(), "404=1, 503=1, timeout=1");
        assert_eq!(Outcomes::default().errors_line(), "none");
    }
}

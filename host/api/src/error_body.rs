//! The one error shape every Warden listener answers with.
//!
//! Clients (and the CLI) can rely on `{"error": {"code": ..., "message": ...}}`
//! whatever failed: a stable machine-readable `code` and a human `message`.

use serde::{Deserialize, Serialize};

/// The body of every error response: `{"error": {...}}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorBody {
    /// The error itself.
    pub error: ErrorDetail,
}

/// A stable `code` (snake_case, for programs) and a `message` (for people).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `route_not_found`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// What exactly failed (trap, backtrace, host error chain): only for a
    /// caller that proved it may see it (the gateway's debug header), never
    /// by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl ErrorBody {
    /// Builds an error body from a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
                detail: None,
            },
        }
    }

    /// The body with the failure's `detail` added.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.error.detail = Some(detail.into());
        self
    }

    /// Serializes the body; serialization of two strings cannot fail, but we
    /// fall back to a fixed body rather than panic on a request path.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"error":{"code":"internal","message":"error body serialization failed"}}"#
                .to_string()
        })
    }
}

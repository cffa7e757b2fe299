//! A small client for the admin API, used by `deploy`, `up` and the
//! listings. It turns every failure into a [`CliError`] that says what to do.

use super::AdminArgs;
use crate::error_body::ErrorBody;
use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Everything the CLI can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The admin API did not answer.
    #[error(
        "cannot reach the Warden admin API at {url}: {reason} (is `warden serve` running? set --admin-url or WARDEN_ADMIN_URL)"
    )]
    Unreachable {
        /// The URL tried.
        url: String,
        /// The transport error.
        reason: String,
    },
    /// The token was refused or is missing.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The server refused the request.
    #[error("{code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The error code from the body.
        code: String,
        /// The message from the body.
        message: String,
    },
    /// A manifest problem.
    #[error(transparent)]
    Manifest(#[from] crate::manifest::ManifestError),
    /// Anything else (I/O, bad config...).
    #[error("{0}")]
    Other(String),
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> Self {
        Self::Other(format!("{e:#}"))
    }
}

/// A client bound to one admin URL and token.
#[derive(Debug, Clone)]
pub struct AdminClient {
    base: String,
    token: String,
    http: Client<HttpConnector, Full<Bytes>>,
}

impl AdminClient {
    /// A client for `base` (e.g. `http://127.0.0.1:8081`) with `token`.
    pub fn new(base: &str, token: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// From flags/env, falling back to the local data dir's token.
    pub fn from_args(args: &AdminArgs) -> Result<Self, CliError> {
        let token = match &args.admin_token {
            Some(token) => token.clone(),
            None => crate::admin::token::read(&args.data_dir).ok_or_else(|| {
                CliError::Unauthorized(format!(
                    "no admin token: pass --admin-token, set WARDEN_ADMIN_TOKEN, or run where {} holds the admin-token file",
                    args.data_dir.display()
                ))
            })?,
        };
        Ok(Self::new(&args.admin_url, &token))
    }

    /// Sends a request and decodes a JSON answer.
    pub async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<(&'static str, Bytes)>,
    ) -> Result<(StatusCode, T), CliError> {
        let url = format!("{}{path}", self.base);
        let mut builder = Request::builder()
            .method(method)
            .uri(&url)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token));
        let body = match body {
            Some((content_type, bytes)) => {
                builder = builder.header(header::CONTENT_TYPE, content_type);
                bytes
            }
            None => Bytes::new(),
        };
        let request = builder
            .body(Full::new(body))
            .map_err(|e| CliError::Other(format!("bad admin URL {url:?}: {e}")))?;
        let response = self
            .http
            .request(request)
            .await
            .map_err(|e| CliError::Unreachable {
                url: self.base.clone(),
                reason: error_chain(&e),
            })?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| CliError::Unreachable {
                url: self.base.clone(),
                reason: e.to_string(),
            })?
            .to_bytes();
        if status == StatusCode::UNAUTHORIZED {
            return Err(CliError::Unauthorized(
                "the admin API refused the token (check --admin-token or WARDEN_ADMIN_TOKEN)"
                    .into(),
            ));
        }
        if !status.is_success() {
            return Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(body) => CliError::Api {
                    status: status.as_u16(),
                    code: body.error.code,
                    message: body.error.message,
                },
                Err(_) => CliError::Api {
                    status: status.as_u16(),
                    code: format!("http_{}", status.as_u16()),
                    message: String::from_utf8_lossy(&bytes).into_owned(),
                },
            });
        }
        let value = serde_json::from_slice(if bytes.is_empty() { b"null" } else { &bytes })
            .map_err(|e| CliError::Other(format!("unexpected answer from {url}: {e}")))?;
        Ok((status, value))
    }

    /// Sends a JSON body.
    pub async fn send_json<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<(StatusCode, T), CliError> {
        let bytes = serde_json::to_vec(body).map_err(|e| CliError::Other(e.to_string()))?;
        self.send(method, path, Some(("application/json", Bytes::from(bytes))))
            .await
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

//! The one client of the admin API, used by the CLI, the tests and the
//! bench. It turns every failure into a [`ClientError`] that says what to do,
//! and has a typed method per endpoint.

use crate::error_body::ErrorBody;
use crate::wire::{
    Activate, MintToken, MintedToken, NewKeyRequest, PutFunction, PutTenant, Uploaded,
};
use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;
use warden_plugin_auth::KeyInfo;
use warden_registry::{FunctionRecord, TenantRecord, VersionRecord};

/// Everything a call to the admin API can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
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
    /// The request could not be built or the answer not read.
    #[error("{0}")]
    Other(String),
}

impl ClientError {
    /// The API's error code, when the server answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// How long one admin request may take (an upload compiles the component).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// A client bound to one admin URL and token.
#[derive(Debug, Clone)]
pub struct AdminClient {
    base: String,
    token: String,
    http: Client<HttpConnector, Full<Bytes>>,
}

impl AdminClient {
    /// A client for `base` (e.g. `http://127.0.0.1:8081`) with `token`. It
    /// keeps connections alive; use it from within a tokio runtime.
    pub fn new(base: &str, token: &str) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Self {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http: Client::builder(TokioExecutor::new()).build(connector),
        }
    }

    /// The admin API's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends a request and decodes a JSON answer.
    pub async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<(&'static str, Bytes)>,
    ) -> Result<(StatusCode, T), ClientError> {
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
            .map_err(|e| ClientError::Other(format!("bad admin URL {url:?}: {e}")))?;
        let response = tokio::time::timeout(REQUEST_TIMEOUT, self.http.request(request))
            .await
            .map_err(|_| ClientError::Unreachable {
                url: self.base.clone(),
                reason: format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()),
            })?
            .map_err(|e| ClientError::Unreachable {
                url: self.base.clone(),
                reason: error_chain(&e),
            })?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| ClientError::Unreachable {
                url: self.base.clone(),
                reason: e.to_string(),
            })?
            .to_bytes();
        if status == StatusCode::UNAUTHORIZED {
            return Err(ClientError::Unauthorized(
                "the admin API refused the token (check --admin-token or WARDEN_ADMIN_TOKEN)"
                    .into(),
            ));
        }
        if !status.is_success() {
            return Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(body) => ClientError::Api {
                    status: status.as_u16(),
                    code: body.error.code,
                    message: body.error.message,
                },
                Err(_) => ClientError::Api {
                    status: status.as_u16(),
                    code: format!("http_{}", status.as_u16()),
                    message: String::from_utf8_lossy(&bytes).into_owned(),
                },
            });
        }
        let value = serde_json::from_slice(if bytes.is_empty() { b"null" } else { &bytes })
            .map_err(|e| ClientError::Other(format!("unexpected answer from {url}: {e}")))?;
        Ok((status, value))
    }

    /// Sends a JSON body.
    pub async fn send_json<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<(StatusCode, T), ClientError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ClientError::Other(e.to_string()))?;
        self.send(method, path, Some(("application/json", Bytes::from(bytes))))
            .await
    }

    /// `GET /v1/tenants`.
    pub async fn tenants(&self) -> Result<Vec<TenantRecord>, ClientError> {
        Ok(self.send(Method::GET, "/v1/tenants", None).await?.1)
    }

    /// `GET /v1/tenants/{tenant}`.
    pub async fn tenant(&self, tenant: &str) -> Result<TenantRecord, ClientError> {
        Ok(self
            .send(Method::GET, &format!("/v1/tenants/{tenant}"), None)
            .await?
            .1)
    }

    /// `PUT /v1/tenants/{tenant}`; `true` if it was created.
    pub async fn put_tenant(
        &self,
        tenant: &str,
        spec: &PutTenant,
    ) -> Result<(TenantRecord, bool), ClientError> {
        let (status, record) = self
            .send_json(Method::PUT, &format!("/v1/tenants/{tenant}"), spec)
            .await?;
        Ok((record, status == StatusCode::CREATED))
    }

    /// `DELETE /v1/tenants/{tenant}`.
    pub async fn delete_tenant(&self, tenant: &str) -> Result<(), ClientError> {
        let _: (_, serde_json::Value) = self
            .send(Method::DELETE, &format!("/v1/tenants/{tenant}"), None)
            .await?;
        Ok(())
    }

    /// `GET /v1/tenants/{tenant}/functions`.
    pub async fn functions(&self, tenant: &str) -> Result<Vec<FunctionRecord>, ClientError> {
        Ok(self
            .send(
                Method::GET,
                &format!("/v1/tenants/{tenant}/functions"),
                None,
            )
            .await?
            .1)
    }

    /// `GET /v1/tenants/{tenant}/functions/{function}`.
    pub async fn function(
        &self,
        tenant: &str,
        function: &str,
    ) -> Result<FunctionRecord, ClientError> {
        Ok(self
            .send(Method::GET, &function_path(tenant, function), None)
            .await?
            .1)
    }

    /// `PUT /v1/tenants/{tenant}/functions/{function}`; `true` if created.
    pub async fn put_function(
        &self,
        tenant: &str,
        function: &str,
        spec: &PutFunction,
    ) -> Result<(FunctionRecord, bool), ClientError> {
        let (status, record) = self
            .send_json(Method::PUT, &function_path(tenant, function), spec)
            .await?;
        Ok((record, status == StatusCode::CREATED))
    }

    /// `GET .../functions/{function}/versions`, oldest first.
    pub async fn versions(
        &self,
        tenant: &str,
        function: &str,
    ) -> Result<Vec<VersionRecord>, ClientError> {
        let path = format!("{}/versions", function_path(tenant, function));
        Ok(self.send(Method::GET, &path, None).await?.1)
    }

    /// `POST .../functions/{function}/versions` with the component's bytes:
    /// the node validates and compiles them before recording the version.
    pub async fn upload(
        &self,
        tenant: &str,
        function: &str,
        component: Bytes,
    ) -> Result<Uploaded, ClientError> {
        let path = format!("{}/versions", function_path(tenant, function));
        let body = Some(("application/wasm", component));
        Ok(self.send(Method::POST, &path, body).await?.1)
    }

    /// `POST .../functions/{function}/activate`.
    pub async fn activate(
        &self,
        tenant: &str,
        function: &str,
        digest: &str,
    ) -> Result<FunctionRecord, ClientError> {
        let path = format!("{}/activate", function_path(tenant, function));
        let body = Activate {
            digest: digest.to_string(),
        };
        Ok(self.send_json(Method::POST, &path, &body).await?.1)
    }
}

impl AdminClient {
    /// `POST /v1/tenants/{tenant}/keys`: a new key (active if the tenant
    /// has none, verify-only otherwise).
    pub async fn create_key(
        &self,
        tenant: &str,
        key: &NewKeyRequest,
    ) -> Result<KeyInfo, ClientError> {
        let path = format!("/v1/tenants/{tenant}/keys");
        Ok(self.send_json(Method::POST, &path, key).await?.1)
    }

    /// `GET /v1/tenants/{tenant}/keys`: public halves and states only.
    pub async fn keys(&self, tenant: &str) -> Result<Vec<KeyInfo>, ClientError> {
        let path = format!("/v1/tenants/{tenant}/keys");
        Ok(self.send(Method::GET, &path, None).await?.1)
    }

    /// `POST /v1/tenants/{tenant}/keys/rotate`: a new active key; the
    /// previous one verifies for the node's rotation overlap.
    pub async fn rotate_key(
        &self,
        tenant: &str,
        key: &NewKeyRequest,
    ) -> Result<KeyInfo, ClientError> {
        let path = format!("/v1/tenants/{tenant}/keys/rotate");
        Ok(self.send_json(Method::POST, &path, key).await?.1)
    }

    /// `POST /v1/tenants/{tenant}/keys/{kid}/retire`: the key verifies
    /// nothing from now on.
    pub async fn retire_key(&self, tenant: &str, kid: &str) -> Result<KeyInfo, ClientError> {
        let path = format!("/v1/tenants/{tenant}/keys/{kid}/retire");
        Ok(self.send(Method::POST, &path, None).await?.1)
    }

    /// `POST /v1/tenants/{tenant}/tokens`: an access token signed with the
    /// tenant's active key.
    pub async fn mint_token(
        &self,
        tenant: &str,
        request: &MintToken,
    ) -> Result<MintedToken, ClientError> {
        let path = format!("/v1/tenants/{tenant}/tokens");
        Ok(self.send_json(Method::POST, &path, request).await?.1)
    }
}

fn function_path(tenant: &str, function: &str) -> String {
    format!("/v1/tenants/{tenant}/functions/{function}")
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

//! The admin API, on its own listener: tenants, functions, versions,
//! activation, signing keys, the token service's users, clients,
//! sessions and scoped admin tokens, plus `/healthz`, `/readyz` and
//! `/metrics`.
//!
//! Everything under `/v1` needs `Authorization: Bearer <token>`: the
//! node's token (in the data dir), or a tenant's scoped admin token
//! (`wat_...`), which reaches that tenant's routes only and needs the
//! scope of the action ([`scope`]); elsewhere it gets 403. A scoped token
//! does not name its tenant, so at another tenant's routes it is simply
//! unknown: 401, like a revoked one. Every error is `{"error": {"code", "message"}}`.
//!
//! Handlers only write to the [`RegistryStore`]; the node's reloader learns
//! of the change from the store's feed, like every other node's. A write's
//! answer is sent once this node has applied it ([`AdminState::settle`]),
//! so a client that deploys and then calls is served the new version.

mod admin_tokens;
mod clients;
mod error;
mod functions;
mod keys;
mod scope;
mod tenants;
pub mod token;
mod users;

pub use error::AdminError;

use crate::config::HostConfig;
use crate::gateway::Gateway;
use crate::metrics::Metrics;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;
use warden_registry::{BlobStore, RegistryStore};
use warden_runtime::Runtime;

/// How long a write's answer waits for this node to apply it.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);

/// What the admin API works with.
pub struct AdminState {
    /// The host configuration (tiers and limits are checked against it).
    pub config: Arc<HostConfig>,
    /// The registry; handlers only write here.
    pub store: Arc<dyn RegistryStore>,
    /// Component bytes by digest.
    pub blobs: BlobStore,
    /// Validates and compiles uploads before they are recorded.
    pub runtime: Arc<Runtime>,
    /// For the gateway's USE gauges in `/metrics`.
    pub gateway: Arc<Gateway>,
    /// The node's metrics.
    pub metrics: Arc<Metrics>,
    /// The bearer token of `/v1`.
    pub admin_token: String,
    /// Tenants' signing keys (and the verifier, for its counters).
    pub auth: warden_plugin_auth::Auth,
    /// Tenants' users, clients, sessions and admin tokens.
    pub token_service: Arc<warden_plugin_auth::service::TokenService>,
    /// The registry revision this node's routes reflect.
    pub applied: watch::Receiver<u64>,
    /// Routes are loaded and active versions compiled.
    pub ready: AtomicBool,
}

impl std::fmt::Debug for AdminState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminState").finish_non_exhaustive()
    }
}

impl AdminState {
    /// Waits until this node serves the store's current revision; `false`
    /// if that took longer than the settle timeout (the write is durable
    /// all the same and will be applied).
    pub async fn settle(&self) -> bool {
        let target = self.store.revision();
        let mut applied = self.applied.clone();
        let settled =
            tokio::time::timeout(SETTLE_TIMEOUT, applied.wait_for(|r| *r >= target)).await;
        let ok = matches!(settled, Ok(Ok(_)));
        if !ok {
            tracing::warn!(revision = target, "a registry write is not applied yet");
        }
        ok
    }

    /// Metrics in the Prometheus text format, with USE gauges refreshed.
    pub fn encode_metrics(&self) -> String {
        let m = &self.metrics;
        let gauge = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        m.pool_in_use
            .set(gauge(self.runtime.pool_instances_in_use()));
        m.compilations
            .set(gauge(self.runtime.artifacts().compilations()));
        m.artifact_cache_hits
            .set(gauge(self.runtime.artifacts().cache_hits()));
        m.prepared_components
            .set(gauge(self.runtime.prepared_count() as u64));
        m.access_log_dropped
            .set(gauge(self.gateway.access_log_dropped()));
        let auth = self.auth.verifier.stats();
        m.auth_jwks_refreshes.set(gauge(auth.jwks_refreshes));
        m.auth_jwks_refresh_failures
            .set(gauge(auth.jwks_refresh_failures));
        m.auth_token_cache_hits.set(gauge(auth.cache_hits));
        m.auth_token_cache_misses.set(gauge(auth.cache_misses));
        m.encode()
    }
}

/// 201 for a write that created its record, 200 for one that replaced it.
fn created_or_ok(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// Largest component upload accepted.
pub const MAX_UPLOAD_BYTES: usize = 64 << 20;

/// Builds the admin router.
pub fn router(node: Arc<AdminState>) -> Router {
    let v1 = Router::new()
        .route("/tenants", get(tenants::list))
        .route(
            "/tenants/{tenant}",
            put(tenants::put).get(tenants::get).delete(tenants::delete),
        )
        .route("/tenants/{tenant}/functions", get(functions::list))
        .route(
            "/tenants/{tenant}/functions/{function}",
            put(functions::put).get(functions::get),
        )
        .route(
            "/tenants/{tenant}/functions/{function}/versions",
            get(functions::versions).post(functions::upload),
        )
        .route(
            "/tenants/{tenant}/functions/{function}/activate",
            post(functions::activate),
        )
        .route("/tenants/{tenant}/keys", get(keys::list).post(keys::create))
        .route("/tenants/{tenant}/keys/rotate", post(keys::rotate))
        .route("/tenants/{tenant}/keys/{kid}/retire", post(keys::retire))
        .route("/tenants/{tenant}/tokens", post(keys::mint))
        .route(
            "/tenants/{tenant}/users",
            get(users::list).post(users::create),
        )
        .route(
            "/tenants/{tenant}/users/{user}",
            get(users::get).delete(users::delete),
        )
        .route(
            "/tenants/{tenant}/users/{user}/disable",
            post(users::disable),
        )
        .route("/tenants/{tenant}/users/{user}/enable", post(users::enable))
        .route(
            "/tenants/{tenant}/users/{user}/totp",
            post(users::enroll_totp).delete(users::disable_totp),
        )
        .route(
            "/tenants/{tenant}/users/{user}/totp/confirm",
            post(users::confirm_totp),
        )
        .route(
            "/tenants/{tenant}/users/{user}/sessions",
            get(users::sessions).delete(users::revoke_sessions),
        )
        .route(
            "/tenants/{tenant}/users/{user}/sessions/{session}",
            axum::routing::delete(users::revoke_session),
        )
        .route(
            "/tenants/{tenant}/clients",
            get(clients::list).post(clients::register),
        )
        .route(
            "/tenants/{tenant}/clients/{client}",
            get(clients::get).delete(clients::delete),
        )
        .route(
            "/tenants/{tenant}/clients/{client}/rotate-secret",
            post(clients::rotate_secret),
        )
        .route(
            "/tenants/{tenant}/admin-tokens",
            get(admin_tokens::list).post(admin_tokens::create),
        )
        .route(
            "/tenants/{tenant}/admin-tokens/{token}",
            axum::routing::delete(admin_tokens::revoke),
        )
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
        .route_layer(middleware::from_fn(refuse_oversized))
        .route_layer(middleware::from_fn_with_state(node.clone(), require_token));
    Router::new()
        .nest("/v1", v1)
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(|| async {
            AdminError::Registry(warden_registry::RegistryError::NotFound(
                "admin endpoint".into(),
            ))
        })
        .layer(middleware::map_response(json_rejections))
        .with_state(node)
}

/// axum's own rejections (body too large, method not allowed, a path that
/// does not decode, ...) answer plain text or nothing; every admin error
/// is `{"error": {"code", "message"}}`, so they are rewritten here.
async fn json_rejections(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let (code, fallback) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("body_too_large", "the request body is too large"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "method not allowed here"),
        StatusCode::NOT_FOUND => ("not_found", "not found"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "unsupported media type"),
        s if s.is_client_error() => ("bad_request", "the request is malformed"),
        _ => ("internal", "internal error"),
    };
    let message = if text.is_empty() {
        fallback.to_string()
    } else {
        text
    };
    let body = warden_api::ErrorBody::new(code, message).to_json();
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// A declared body over the limit is refused before a byte of it is read
/// (the body limit alone would only notice after reading 64 MiB).
async fn refuse_oversized(request: Request, next: Next) -> Result<Response, AdminError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(declared) = declared
        && declared > MAX_UPLOAD_BYTES as u64
    {
        return Err(AdminError::BodyTooLarge {
            declared,
            limit: MAX_UPLOAD_BYTES,
        });
    }
    Ok(next.run(request).await)
}

async fn require_token(
    State(node): State<Arc<AdminState>>,
    request: Request,
    next: Next,
) -> Result<Response, AdminError> {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(AdminError::Unauthorized)?;
    if token::matches(&node.admin_token, given) {
        return Ok(next.run(request).await);
    }
    if !given.starts_with("wat_") {
        return Err(AdminError::Unauthorized);
    }
    let (tenant, scope) = match scope::required(request.method(), request.uri().path()) {
        scope::Required::Node => return Err(AdminError::Forbidden),
        scope::Required::Tenant { tenant, scope } => (tenant, scope),
    };
    let tenant = warden_plugin_auth::Tenant::new(&tenant).map_err(|_| AdminError::Unauthorized)?;
    let verified = node
        .token_service
        .verify_admin_token(&tenant, given, warden_plugin_auth::unix_now())
        .await
        .map_err(|e| match e {
            warden_plugin_auth::service::ServiceError::InvalidToken => AdminError::Unauthorized,
            other => AdminError::Service(other),
        })?;
    if verified.tenant != tenant || !verified.allows(scope) {
        return Err(AdminError::Forbidden);
    }
    tracing::debug!(%tenant, token = %verified.token_id, ?scope, "scoped admin token accepted");
    Ok(next.run(request).await)
}

async fn readyz(State(node): State<Arc<AdminState>>) -> Response {
    if node.ready.load(Ordering::Acquire) {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "loading\n").into_response()
    }
}

async fn metrics(State(node): State<Arc<AdminState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        node.encode_metrics(),
    )
        .into_response()
}

//! The admin API, on its own listener: tenants, functions, versions,
//! activation, plus `/healthz`, `/readyz` and `/metrics`.
//!
//! Everything under `/v1` needs `Authorization: Bearer <token>` (the token
//! in the data dir). Every error is `{"error": {"code", "message"}}`.

mod error;
mod functions;
mod tenants;
pub mod token;

pub use error::AdminError;

use crate::server::Node;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use std::sync::Arc;

/// Largest component upload accepted.
pub const MAX_UPLOAD_BYTES: usize = 64 << 20;

/// Builds the admin router.
pub fn router(node: Arc<Node>) -> Router {
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
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
        .route_layer(middleware::from_fn_with_state(node.clone(), require_token));
    Router::new()
        .nest("/v1", v1)
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(|| async {
            AdminError::Registry(crate::registry::RegistryError::NotFound(
                "admin endpoint".into(),
            ))
        })
        .with_state(node)
}

async fn require_token(
    State(node): State<Arc<Node>>,
    request: Request,
    next: Next,
) -> Result<Response, AdminError> {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(AdminError::Unauthorized)?;
    if !token::matches(node.admin_token(), given.trim()) {
        return Err(AdminError::Unauthorized);
    }
    Ok(next.run(request).await)
}

async fn readyz(State(node): State<Arc<Node>>) -> Response {
    if node.is_ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "loading\n").into_response()
    }
}

async fn metrics(State(node): State<Arc<Node>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        node.encode_metrics(),
    )
        .into_response()
}

//! A tenant's scoped admin tokens (API tokens confined to the tenant and to
//! actions: deploy, read, keys, users, admin): create (the token is in this
//! answer and never again; stored as a hash), list, revoke.

use super::functions::parse_json;
use super::keys::tenant_of;
use super::{AdminError, AdminState};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use std::sync::Arc;
use warden_api::{AdminTokenInfo, CreatedAdminToken, NewAdminToken};
use warden_plugin_auth::unix_now;

pub(super) async fn create(
    State(node): State<Arc<AdminState>>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<CreatedAdminToken>), AdminError> {
    let tenant = tenant_of(&node, &tenant).await?;
    let spec: NewAdminToken = parse_json(&body)?;
    let grant = node
        .token_service
        .create_admin_token(&tenant, spec, unix_now())
        .await?;
    tracing::info!(%tenant, token = %grant.info.token_id, scopes = ?grant.info.scopes, "admin token created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedAdminToken {
            info: grant.info,
            token: grant.token,
        }),
    ))
}

pub(super) async fn list(
    State(node): State<Arc<AdminState>>,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<AdminTokenInfo>>, AdminError> {
    let tenant = tenant_of(&node, &tenant).await?;
    Ok(Json(node.token_service.list_admin_tokens(&tenant).await?))
}

pub(super) async fn revoke(
    State(node): State<Arc<AdminState>>,
    Path((tenant, token)): Path<(String, String)>,
) -> Result<StatusCode, AdminError> {
    let tenant = tenant_of(&node, &tenant).await?;
    node.token_service
        .revoke_admin_token(&tenant, &token)
        .await?;
    tracing::info!(%tenant, %token, "admin token revoked");
    Ok(StatusCode::NO_CONTENT)
}

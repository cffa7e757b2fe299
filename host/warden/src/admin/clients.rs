//! A tenant's OAuth clients: register (a confidential client's secret is
//! in this answer and never again), list, show, rotate the secret (the old
//! one stops at once), delete.

use super::functions::parse_json;
use super::keys::tenant_of;
use super::{AdminError, AdminState};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use std::sync::Arc;
use warden_api::{ClientInfo, NewClient, RegisteredClient};
use warden_plugin_auth::unix_now;

pub(super) async fn register(
    State(node): State<Arc<AdminState>>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<RegisteredClient>), AdminError> {
    let tenant = tenant_of(&node, &tenant).await?;
    let spec: NewClient = parse_json(&body)?;
    let (client, secret) = node
        .token_service
        .register_client(&tenant, spec, unix_now())
        .await?;
    tracing::info!(%tenant, client = %client.client_id, kind = ?client.kind, "client registered");
    Ok((
        StatusCode::CREATED,
        Json(RegisteredClient {
            client,
            client_secret: secret.map(|s| s.expose().to_owned()),
        }),
    ))
}

pub(super) async fn list(
    State(node): State<Arc<AdminState>>,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<ClientInfo>>, AdminError> {
    let tenant = tenant_of(&node, &tenant).await?;
    Ok(Json(node.token_service.list_clients(&tenant).await?))
}

pub(super) async fn get(
    State(node): State<Arc<AdminState>>,
    Path((tenant, client)): Path<(String, String)>,
) -> Result<Json<ClientInfo>, AdminError> {
    let tenant = tenant_of(&node, &tenant).await?;
    Ok(Json(node.token_service.client(&tenant, &client).await?))
}

pub(super) async fn rotate_secret(
    State(node): State<Arc<AdminState>>,
    Path((tenant, client)): Path<(String, String)>,
) -> Result<Json<RegisteredClient>, AdminError> {
    let tenant = tenant_of(&node, &tenant).await?;
    let secret = node
        .token_service
        .rotate_client_secret(&tenant, &client)
        .await?;
    tracing::info!(%tenant, %client, "client secret rotated");
    Ok(Json(RegisteredClient {
        client: node.token_service.client(&tenant, &client).await?,
        client_secret: Some(secret.expose().to_owned()),
    }))
}

pub(super) async fn delete(
    State(node): State<Arc<AdminState>>,
    Path((tenant, client)): Path<(String, String)>,
) -> Result<StatusCode, AdminError> {
    let tenant = tenant_of(&node, &tenant).await?;
    node.token_service.delete_client(&tenant, &client).await?;
    tracing::info!(%tenant, %client, "client deleted");
    Ok(StatusCode::NO_CONTENT)
}

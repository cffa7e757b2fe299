//! Tenant endpoints: list, create-or-update, get, delete.

use super::AdminError;
use super::functions::parse_json_or_default;
use crate::registry::TenantRecord;
use crate::server::Node;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use std::sync::Arc;

/// Body of `PUT /v1/tenants/{tenant}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutTenant {
    /// Custom hosts routed to the tenant besides `<tenant>.<base-domain>`.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Contract tier, one of the node's `[tiers]`; the default tier if unset.
    #[serde(default)]
    pub tier: Option<String>,
}

pub(super) async fn list(
    State(node): State<Arc<Node>>,
) -> Result<Json<Vec<TenantRecord>>, AdminError> {
    let registry = node.registry();
    Ok(Json(
        tokio::task::spawn_blocking(move || registry.tenants()).await??,
    ))
}

pub(super) async fn get(
    State(node): State<Arc<Node>>,
    Path(tenant): Path<String>,
) -> Result<Json<TenantRecord>, AdminError> {
    let registry = node.registry();
    Ok(Json(
        tokio::task::spawn_blocking(move || registry.tenant(&tenant)).await??,
    ))
}

pub(super) async fn put(
    State(node): State<Arc<Node>>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<TenantRecord>), AdminError> {
    let PutTenant { hosts, tier } = parse_json_or_default(&body)?;
    if node.config().tier(tier.as_deref()).is_none() {
        return Err(AdminError::bad_request(
            "unknown_tier",
            format!(
                "tier {:?} is not configured on this node (known: {})",
                tier.unwrap_or_default(),
                node.config()
                    .tiers
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let registry = node.registry();
    let t = tenant.clone();
    let (record, created) =
        tokio::task::spawn_blocking(move || registry.put_tenant(&t, &hosts, tier.as_deref()))
            .await??;
    node.reload_tenant(&tenant).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(record)))
}

pub(super) async fn delete(
    State(node): State<Arc<Node>>,
    Path(tenant): Path<String>,
) -> Result<StatusCode, AdminError> {
    let registry = node.registry();
    let t = tenant.clone();
    tokio::task::spawn_blocking(move || registry.delete_tenant(&t)).await??;
    node.reload_tenant(&tenant).await?;
    Ok(StatusCode::NO_CONTENT)
}

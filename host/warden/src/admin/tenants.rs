//! Tenant endpoints: list, create-or-update, get, delete.

use super::AdminError;
use super::AdminState;
use super::functions::parse_json_or_default;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use std::sync::Arc;
use warden_api::{PutTenant, TenantRecord};

/// Names under the base domain belong to tenants (`<tenant>.<base-domain>`,
/// existing or future): no custom host may be the base domain or under it.
fn reserve_base_domain(hosts: &[String], base_domain: &str) -> Result<(), AdminError> {
    let suffix = format!(".{base_domain}");
    match hosts
        .iter()
        .find(|h| h.as_str() == base_domain || h.ends_with(&suffix))
    {
        Some(host) => Err(AdminError::bad_request(
            "reserved_host",
            format!(
                "host {host:?} is under the base domain {base_domain:?}, whose names are reserved for tenants (<tenant>.{base_domain})"
            ),
        )),
        None => Ok(()),
    }
}

/// A tenant's `[model]` must work on this node: its aliases name providers
/// the node has, its fallbacks, warm-up and semantic-cache aliases exist.
/// Every problem is in the one message.
fn check_model(spec: &PutTenant, node: &warden_plugin_model::Config) -> Result<(), AdminError> {
    let Some(section) = &spec.model else {
        return Ok(());
    };
    section.validate(node).map_err(|e| {
        AdminError::bad_request("invalid_model", format!("[model]: {}", e.0.join("; ")))
    })
}

pub(super) async fn list(
    State(node): State<Arc<AdminState>>,
) -> Result<Json<Vec<TenantRecord>>, AdminError> {
    Ok(Json(node.store.tenants().await?))
}

pub(super) async fn get(
    State(node): State<Arc<AdminState>>,
    Path(tenant): Path<String>,
) -> Result<Json<TenantRecord>, AdminError> {
    Ok(Json(node.store.tenant(&tenant).await?))
}

pub(super) async fn put(
    State(node): State<Arc<AdminState>>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<TenantRecord>), AdminError> {
    let spec: PutTenant = parse_json_or_default(&body)?;
    reserve_base_domain(&spec.hosts, &node.config.base_domain)?;
    let tier = spec.tier.clone();
    if node.config.tier(tier.as_deref()).is_none() {
        return Err(AdminError::bad_request(
            "unknown_tier",
            format!(
                "tier {:?} is not configured on this node (known: {})",
                tier.unwrap_or_default(),
                node.config
                    .tiers
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    check_model(&spec, &node.config.model)?;
    let (record, created) = node.store.put_tenant(&tenant, &spec).await?;
    node.settle().await;
    Ok((super::created_or_ok(created), Json(record)))
}

pub(super) async fn delete(
    State(node): State<Arc<AdminState>>,
    Path(tenant): Path<String>,
) -> Result<StatusCode, AdminError> {
    node.store.delete_tenant(&tenant).await?;
    node.settle().await;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_under_the_base_domain_are_reserved() {
        let reserved = |h: &str| reserve_base_domain(&[h.to_string()], "edge.example").is_err();
        assert!(reserved("victim.edge.example"));
        assert!(reserved("x.neighbour.edge.example"));
        assert!(reserved("edge.example"));
        assert!(!reserved("api.acme.example"));
        assert!(!reserved("notedge.example"));
    }
}

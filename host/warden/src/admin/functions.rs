//! Function and version endpoints: configure routes and limits, upload a
//! component version (validated and compiled before it is recorded), list
//! versions, activate one.

use super::AdminError;
use super::AdminState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use warden_api::{Activate, FunctionRecord, PutFunction, Uploaded, VersionRecord};
use warden_registry::digest_of;

/// Parses a JSON body into our error shape instead of axum's plain text.
pub(super) fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AdminError> {
    serde_json::from_slice(body)
        .map_err(|e| AdminError::bad_request("invalid_json", format!("invalid JSON body: {e}")))
}

/// Like [`parse_json`], but an empty body means `T::default()`.
pub(super) fn parse_json_or_default<T: DeserializeOwned + Default>(
    body: &[u8],
) -> Result<T, AdminError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        parse_json(body)
    }
}

pub(super) async fn list(
    State(node): State<Arc<AdminState>>,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<FunctionRecord>>, AdminError> {
    Ok(Json(node.store.functions(&tenant).await?))
}

pub(super) async fn get(
    State(node): State<Arc<AdminState>>,
    Path((tenant, function)): Path<(String, String)>,
) -> Result<Json<FunctionRecord>, AdminError> {
    Ok(Json(node.store.function(&tenant, &function).await?))
}

pub(super) async fn put(
    State(node): State<Arc<AdminState>>,
    Path((tenant, function)): Path<(String, String)>,
    body: Bytes,
) -> Result<(StatusCode, Json<FunctionRecord>), AdminError> {
    let spec: PutFunction = parse_json(&body)?;
    node.config
        .check_function_limits(&spec.limits)
        .map_err(|m| AdminError::bad_request("invalid_limits", m))?;
    let (record, created) = node.store.put_function(&tenant, &function, &spec).await?;
    node.settle().await;
    Ok((super::created_or_ok(created), Json(record)))
}

pub(super) async fn versions(
    State(node): State<Arc<AdminState>>,
    Path((tenant, function)): Path<(String, String)>,
) -> Result<Json<Vec<VersionRecord>>, AdminError> {
    Ok(Json(node.store.versions(&tenant, &function).await?))
}

/// Validates and compiles the component, stores its bytes, then records
/// the version. Nothing is recorded for a component that fails any check.
pub(super) async fn upload(
    State(node): State<Arc<AdminState>>,
    Path((tenant, function)): Path<(String, String)>,
    body: Bytes,
) -> Result<(StatusCode, Json<Uploaded>), AdminError> {
    if body.is_empty() {
        return Err(AdminError::bad_request(
            "empty_body",
            "the request body must be the component's bytes",
        ));
    }
    // Fail fast on an unknown function before compiling anything.
    node.store.function(&tenant, &function).await?;

    warden_runtime::check_encoding(&body)?;
    let digest = digest_of(&body);
    let bytes = body.to_vec();
    node.runtime.prepare(&digest, move || Ok(bytes)).await?;

    let blobs = node.blobs.clone();
    let size = body.len() as u64;
    let d = digest.clone();
    tokio::task::spawn_blocking(move || blobs.put(&d, &body))
        .await?
        .map_err(|e| AdminError::Internal(format!("{e:#}")))?;
    let (version, created) = node
        .store
        .add_version(&tenant, &function, &digest, size)
        .await?;
    node.settle().await;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(Uploaded { version, created })))
}

pub(super) async fn activate(
    State(node): State<Arc<AdminState>>,
    Path((tenant, function)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<FunctionRecord>, AdminError> {
    let Activate { digest } = parse_json(&body)?;
    let record = node.store.activate(&tenant, &function, &digest).await?;
    node.settle().await;
    Ok(Json(record))
}

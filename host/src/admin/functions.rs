//! Function and version endpoints: configure routes and limits, upload a
//! component version (validated and compiled before it is recorded), list
//! versions, activate one.

use super::AdminError;
use crate::registry::{FunctionLimits, FunctionRecord, VersionRecord, digest_of};
use crate::server::Node;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Body of `PUT /v1/tenants/{tenant}/functions/{function}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutFunction {
    /// Path prefixes the function serves.
    pub routes: Vec<String>,
    /// Limits; unset fields use the node's defaults.
    #[serde(default)]
    pub limits: FunctionLimits,
}

/// Body of `POST .../activate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activate {
    /// sha256 of an uploaded version.
    pub digest: String,
}

/// Answer to an upload.
#[derive(Debug, Serialize, Deserialize)]
pub struct Uploaded {
    /// The version record.
    #[serde(flatten)]
    pub version: VersionRecord,
    /// False when these exact bytes were already uploaded.
    pub created: bool,
}

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
    State(node): State<Arc<Node>>,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<FunctionRecord>>, AdminError> {
    let registry = node.registry();
    Ok(Json(
        tokio::task::spawn_blocking(move || registry.functions(&tenant)).await??,
    ))
}

pub(super) async fn get(
    State(node): State<Arc<Node>>,
    Path((tenant, function)): Path<(String, String)>,
) -> Result<Json<FunctionRecord>, AdminError> {
    let registry = node.registry();
    Ok(Json(
        tokio::task::spawn_blocking(move || registry.function(&tenant, &function)).await??,
    ))
}

pub(super) async fn put(
    State(node): State<Arc<Node>>,
    Path((tenant, function)): Path<(String, String)>,
    body: Bytes,
) -> Result<(StatusCode, Json<FunctionRecord>), AdminError> {
    let spec: PutFunction = parse_json(&body)?;
    node.config()
        .check_function_limits(&spec.limits)
        .map_err(|m| AdminError::bad_request("invalid_limits", m))?;
    let registry = node.registry();
    let t = tenant.clone();
    let (record, created) = tokio::task::spawn_blocking(move || {
        registry.put_function(&t, &function, &spec.routes, spec.limits)
    })
    .await??;
    node.reload_tenant(&tenant).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(record)))
}

pub(super) async fn versions(
    State(node): State<Arc<Node>>,
    Path((tenant, function)): Path<(String, String)>,
) -> Result<Json<Vec<VersionRecord>>, AdminError> {
    let registry = node.registry();
    Ok(Json(
        tokio::task::spawn_blocking(move || registry.versions(&tenant, &function)).await??,
    ))
}

/// Validates and compiles the component, stores its bytes, then records
/// the version. Nothing is recorded for a component that fails any check.
pub(super) async fn upload(
    State(node): State<Arc<Node>>,
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
    let registry = node.registry();
    let (t, f) = (tenant.clone(), function.clone());
    tokio::task::spawn_blocking(move || registry.function(&t, &f)).await??;

    crate::runtime::check_encoding(&body)?;
    let digest = digest_of(&body);
    let bytes = body.to_vec();
    node.runtime().prepare(&digest, move || Ok(bytes)).await?;

    let registry = node.registry();
    let blobs = node.blobs().clone();
    let size = body.len() as u64;
    let d = digest.clone();
    let (version, created) = tokio::task::spawn_blocking(move || {
        blobs
            .put(&d, &body)
            .map_err(|e| AdminError::Internal(format!("{e:#}")))?;
        registry
            .add_version(&tenant, &function, &d, size)
            .map_err(AdminError::from)
    })
    .await??;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(Uploaded { version, created })))
}

pub(super) async fn activate(
    State(node): State<Arc<Node>>,
    Path((tenant, function)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<FunctionRecord>, AdminError> {
    let Activate { digest } = parse_json(&body)?;
    let registry = node.registry();
    let t = tenant.clone();
    let record =
        tokio::task::spawn_blocking(move || registry.activate(&t, &function, &digest)).await??;
    node.reload_tenant(&tenant).await?;
    Ok(Json(record))
}

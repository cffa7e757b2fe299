//! Tenant signing keys: create, list, rotate, retire, and minting an
//! access token with the active key (for operators and tests; users get
//! theirs from the token service). Answers carry public halves only; an
//! imported HS256 secret is never shown again.

use super::functions::{parse_json, parse_json_or_default};
use super::{AdminError, AdminState};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::sync::Arc;
use warden_api::{KeyInfo, MintToken, MintedToken, NewKeyRequest};
use warden_plugin_auth::{NewKey, Tenant, unix_now};

/// Claims the mint request sets itself; `claims` may not override them.
const REGISTERED: [&str; 7] = ["iss", "sub", "aud", "exp", "iat", "nbf", "scope"];

/// The tenant as the key store names it, after checking it exists.
pub(super) async fn tenant_of(node: &AdminState, name: &str) -> Result<Tenant, AdminError> {
    node.store.tenant(name).await?;
    Tenant::new(name).map_err(|e| AdminError::bad_request("invalid", e.to_string()))
}

fn new_key(request: NewKeyRequest) -> Result<NewKey, AdminError> {
    let secret = request
        .secret
        .map(|s| {
            URL_SAFE_NO_PAD.decode(s.trim()).map_err(|_| {
                AdminError::bad_request("invalid_key", "secret must be base64url without padding")
            })
        })
        .transpose()?;
    Ok(NewKey {
        alg: request.alg,
        secret,
        rsa_bits: request.rsa_bits,
        not_after: request.not_after,
    })
}

pub(super) async fn create(
    State(node): State<Arc<AdminState>>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<KeyInfo>), AdminError> {
    let (tenant, key) = key_request(&node, &tenant, &body).await?;
    let info = node.auth.keys.create(&tenant, key, unix_now()).await?;
    tracing::info!(%tenant, kid = %info.kid, alg = ?info.alg, "signing key created");
    Ok((StatusCode::CREATED, Json(info)))
}

/// The tenant and the key a create or rotate body asks for.
async fn key_request(
    node: &AdminState,
    tenant: &str,
    body: &[u8],
) -> Result<(Tenant, NewKey), AdminError> {
    let tenant = tenant_of(node, tenant).await?;
    Ok((tenant, new_key(parse_json_or_default(body)?)?))
}

pub(super) async fn list(
    State(node): State<Arc<AdminState>>,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<KeyInfo>>, AdminError> {
    let tenant = tenant_of(&node, &tenant).await?;
    Ok(Json(node.auth.keys.list(&tenant).await?))
}

pub(super) async fn rotate(
    State(node): State<Arc<AdminState>>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<KeyInfo>), AdminError> {
    let (tenant, key) = key_request(&node, &tenant, &body).await?;
    let info = node.auth.keys.rotate(&tenant, key, unix_now()).await?;
    tracing::info!(%tenant, kid = %info.kid, "signing key rotated");
    Ok((StatusCode::CREATED, Json(info)))
}

pub(super) async fn retire(
    State(node): State<Arc<AdminState>>,
    Path((tenant, kid)): Path<(String, String)>,
) -> Result<Json<KeyInfo>, AdminError> {
    let tenant = tenant_of(&node, &tenant).await?;
    let info = node.auth.keys.retire(&tenant, &kid).await?;
    tracing::info!(%tenant, kid = %info.kid, "signing key retired");
    Ok(Json(info))
}

pub(super) async fn mint(
    State(node): State<Arc<AdminState>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<MintedToken>), AdminError> {
    let request: MintToken = parse_json(&body)?;
    let record = node.store.tenant(&name).await?;
    let tenant =
        Tenant::new(&name).map_err(|e| AdminError::bad_request("invalid", e.to_string()))?;
    let settings = record.auth.unwrap_or_default();
    let Some(issuer) = settings.issuer.clone() else {
        return Err(AdminError::bad_request(
            "no_issuer",
            format!("tenant {name:?} has no [auth] issuer: its own keys verify nothing"),
        ));
    };
    let audience = match request.audience {
        Some(aud) if settings.audiences.contains(&aud) => aud,
        Some(aud) => {
            return Err(AdminError::bad_request(
                "invalid_audience",
                format!("audience {aud:?} is not one of the tenant's audiences"),
            ));
        }
        None => settings.audiences.first().cloned().unwrap_or_default(),
    };
    let max = settings.max_token_lifetime_s;
    let ttl = request.ttl_s.unwrap_or(max);
    if ttl == 0 || ttl > max {
        return Err(AdminError::bad_request(
            "invalid_ttl",
            format!("ttl_s must be between 1 and the tenant's max_token_lifetime_s ({max})"),
        ));
    }
    if request.subject.is_empty() {
        return Err(AdminError::bad_request(
            "invalid_subject",
            "subject must not be empty",
        ));
    }
    if let Some(claim) = REGISTERED.iter().find(|c| request.claims.contains_key(**c)) {
        return Err(AdminError::bad_request(
            "invalid_claims",
            format!("claim {claim:?} is set by the request's own fields"),
        ));
    }
    let now = unix_now();
    let expires_at = now + ttl;
    let mut claims = request.claims;
    claims.insert("iss".into(), json!(issuer));
    claims.insert("sub".into(), json!(request.subject));
    claims.insert("aud".into(), json!(audience));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(expires_at));
    if !request.scopes.is_empty() {
        claims.insert("scope".into(), json!(request.scopes.join(" ")));
    }
    claims
        .entry("jti")
        .or_insert_with(|| json!(hex::encode(rand::random::<[u8; 16]>())));
    let token = node
        .auth
        .keys
        .sign(&tenant, &Value::Object(claims), now)
        .await?;
    let kid = kid_of(&token).unwrap_or_default();
    Ok((
        StatusCode::CREATED,
        Json(MintedToken {
            token,
            expires_at,
            kid,
        }),
    ))
}

/// The `kid` of a token this node just signed.
fn kid_of(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    Some(header.get("kid")?.as_str()?.to_string())
}

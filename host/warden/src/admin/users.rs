//! A tenant's users (the people who sign in on its login page): create,
//! list, show, disable and enable, delete; TOTP enrolment (the otpauth URI
//! and QR code, then a first code that returns the recovery codes, shown
//! once); and their sessions (refresh families): list, revoke one, revoke
//! all. Passwords and TOTP secrets never appear in an answer after the
//! call that made them.

use super::functions::parse_json;
use super::keys::tenant_of;
use super::{AdminError, AdminState};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use std::sync::Arc;
use warden_api::{ConfirmTotp, NewUser, RecoveryCodesIssued, SessionInfo, TotpEnrolled, UserInfo};
use warden_plugin_auth::unix_now;

pub(super) async fn create(
    State(node): State<Arc<AdminState>>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<UserInfo>), AdminError> {
    let tenant = tenant_of(&node, &tenant).await?;
    let spec: NewUser = parse_json(&body)?;
    let user = node
        .token_service
        .create_user(&tenant, spec, unix_now())
        .await?;
    tracing::info!(%tenant, user = %user.user_id, "user created");
    Ok((StatusCode::CREATED, Json(user)))
}

pub(super) async fn list(
    State(node): State<Arc<AdminState>>,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<UserInfo>>, AdminError> {
    let tenant = tenant_of(&node, &tenant).await?;
    Ok(Json(node.token_service.list_users(&tenant).await?))
}

pub(super) async fn get(
    State(node): State<Arc<AdminState>>,
    Path((tenant, user)): Path<(String, String)>,
) -> Result<Json<UserInfo>, AdminError> {
    let tenant = tenant_of(&node, &tenant).await?;
    Ok(Json(node.token_service.user(&tenant, &user).await?))
}

pub(super) async fn delete(
    State(node): State<Arc<AdminState>>,
    Path((tenant, user)): Path<(String, String)>,
) -> Result<StatusCode, AdminError> {
    let tenant = tenant_of(&node, &tenant).await?;
    node.token_service
        .delete_user(&tenant, &user, unix_now())
        .await?;
    tracing::info!(%tenant, %user, "user deleted");
    Ok(StatusCode::NO_CONTENT)
}

async fn set_disabled(
    node: &AdminState,
    tenant: &str,
    user: &str,
    disabled: bool,
) -> Result<Json<UserInfo>, AdminError> {
    let tenant = tenant_of(node, tenant).await?;
    let info = node
        .token_service
        .set_user_disabled(&tenant, user, disabled, unix_now())
        .await?;
    tracing::info!(%tenant, %user, disabled, "user disabled state set");
    Ok(Json(info))
}

pub(super) async fn disable(
    State(node): State<Arc<AdminState>>,
    Path((tenant, user)): Path<(String, String)>,
) -> Result<Json<UserInfo>, AdminError> {
    set_disabled(&node, &tenant, &user, true).await
}

pub(super) async fn enable(
    State(node): State<Arc<AdminState>>,
    Path((tenant, user)): Path<(String, String)>,
) -> Result<Json<UserInfo>, AdminError> {
    set_disabled(&node, &tenant, &user, false).await
}

pub(super) async fn enroll_totp(
    State(node): State<Arc<AdminState>>,
    Path((tenant, user)): Path<(String, String)>,
) -> Result<(StatusCode, Json<TotpEnrolled>), AdminError> {
    let tenant = tenant_of(&node, &tenant).await?;
    let label = node
        .store
        .tenant(tenant.as_str())
        .await?
        .auth
        .and_then(|a| a.realm)
        .unwrap_or_else(|| tenant.to_string());
    let enrolment = node
        .token_service
        .enroll_totp(&tenant, &user, &label)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(TotpEnrolled {
            otpauth_uri: enrolment.otpauth_uri,
            qr_png_base64: enrolment.qr_png_base64,
        }),
    ))
}

pub(super) async fn confirm_totp(
    State(node): State<Arc<AdminState>>,
    Path((tenant, user)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<RecoveryCodesIssued>, AdminError> {
    let tenant = tenant_of(&node, &tenant).await?;
    let ConfirmTotp { code } = parse_json(&body)?;
    let codes = node
        .token_service
        .confirm_totp(&tenant, &user, code.trim(), unix_now())
        .await?;
    tracing::info!(%tenant, %user, "TOTP enrolled");
    Ok(Json(RecoveryCodesIssued {
        recovery_codes: codes.0,
    }))
}

pub(super) async fn disable_totp(
    State(node): State<Arc<AdminState>>,
    Path((tenant, user)): Path<(String, String)>,
) -> Result<StatusCode, AdminError> {
    let tenant = tenant_of(&node, &tenant).await?;
    node.token_service.disable_totp(&tenant, &user).await?;
    tracing::info!(%tenant, %user, "TOTP removed");
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn sessions(
    State(node): State<Arc<AdminState>>,
    Path((tenant, user)): Path<(String, String)>,
) -> Result<Json<Vec<SessionInfo>>, AdminError> {
    let tenant = tenant_of(&node, &tenant).await?;
    node.token_service.user(&tenant, &user).await?;
    Ok(Json(
        node.token_service
            .list_sessions(&tenant, &user, unix_now())
            .await?,
    ))
}

pub(super) async fn revoke_sessions(
    State(node): State<Arc<AdminState>>,
    Path((tenant, user)): Path<(String, String)>,
) -> Result<StatusCode, AdminError> {
    let tenant = tenant_of(&node, &tenant).await?;
    node.token_service.user(&tenant, &user).await?;
    node.token_service
        .revoke_user_sessions(&tenant, &user, unix_now())
        .await?;
    tracing::info!(%tenant, %user, "all sessions revoked");
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn revoke_session(
    State(node): State<Arc<AdminState>>,
    Path((tenant, user, session)): Path<(String, String, String)>,
) -> Result<StatusCode, AdminError> {
    let tenant = tenant_of(&node, &tenant).await?;
    node.token_service
        .revoke_session(&tenant, &user, &session, unix_now())
        .await?;
    tracing::info!(%tenant, %user, %session, "session revoked");
    Ok(StatusCode::NO_CONTENT)
}

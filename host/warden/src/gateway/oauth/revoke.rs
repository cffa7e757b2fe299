//! `POST /oauth2/revoke` (RFC 7009): the client revokes one of its refresh
//! or access tokens, which revokes the token's family (logout). Unknown
//! and foreign tokens get the same `200` (section 2.2); only a failed
//! client authentication or a malformed request is an error.

use super::client_auth::credentials;
use super::{Site, form, reply};
use crate::gateway::GatewayBody;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use warden_plugin_auth::service::{ClientAuth, ServiceError, TokenService};

async fn run<B>(
    service: &TokenService,
    site: &Site<'_>,
    req: Request<B>,
    now: u64,
) -> Result<(), ServiceError>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, body) = req.into_parts();
    let params = form::read(&parts.headers, body).await?;
    let client = credentials(&parts.headers, &params)?;
    let token = params
        .get("token")
        .ok_or(ServiceError::InvalidRequest("token is required"))?;
    let auth = ClientAuth {
        client_id: &client.client_id,
        client_secret: client.client_secret.as_deref(),
    };
    service.revoke(&site.issuer.issuer, &auth, token, now).await
}

/// Answers a revocation request.
pub(crate) async fn answer<B>(
    service: &TokenService,
    site: &Site<'_>,
    req: Request<B>,
    now: u64,
) -> Response<GatewayBody>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if req.method() != Method::POST {
        return reply::method_not_allowed("POST");
    }
    match run(service, site, req, now).await {
        Ok(()) => reply::with_type(StatusCode::OK, "text/plain", Bytes::new()),
        Err(e) => reply::error(&e, &site.issuer.realm),
    }
}

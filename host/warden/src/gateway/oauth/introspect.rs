//! `POST /oauth2/introspect` (RFC 7662): a confidential client (a
//! resource server) asks whether a token is active. Anything not active,
//! not the tenant's or unknown is `{"active": false}`.

use super::client_auth::credentials;
use super::{Site, form, reply};
use crate::gateway::GatewayBody;
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use warden_plugin_auth::service::{ClientAuth, ServiceError, TokenService};

async fn run<B>(
    service: &TokenService,
    site: &Site<'_>,
    req: Request<B>,
    now: u64,
) -> Result<serde_json::Value, ServiceError>
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
    let answer = service
        .introspect(&site.issuer.issuer, &auth, token, now)
        .await?;
    serde_json::to_value(&answer).map_err(|e| ServiceError::Internal(e.to_string()))
}

/// Answers an introspection request.
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
        Ok(body) => reply::json(StatusCode::OK, &body),
        Err(e) => reply::error(&e, &site.issuer.realm),
    }
}

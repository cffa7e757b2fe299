//! `POST /oauth2/token` (RFC 6749 section 3.2): every grant the service
//! runs (authorization_code, refresh_token, client_credentials). A `DPoP`
//! header is verified first (`htm` POST, `htu` this URL) and binds the
//! tokens to its key (RFC 9449 section 5); success and failure are never
//! cached.

use super::client_auth::credentials;
use super::{Site, form, reply};
use crate::gateway::GatewayBody;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body::Body;
use warden_plugin_auth::service::{ServiceError, TokenRequest, TokenService};

/// The single `DPoP` header of a request, if any.
pub(crate) fn dpop_header(headers: &HeaderMap) -> Result<Option<&str>, ServiceError> {
    let mut values = headers.get_all("dpop").iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(_), Some(_)) => Err(ServiceError::InvalidDpopProof("more than one DPoP header")),
        (Some(value), None) => value
            .to_str()
            .map(Some)
            .map_err(|_| ServiceError::InvalidDpopProof("the DPoP header is not ASCII")),
    }
}

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
    let dpop_jkt = match dpop_header(&parts.headers)? {
        Some(proof) => {
            let url = site.url("/oauth2/token");
            let proof = service
                .dpop()
                .verify_proof(site.tenant, proof, "POST", &url, None, now)
                .await?;
            Some(proof.jkt)
        }
        None => None,
    };
    let grant_type = params
        .get("grant_type")
        .ok_or(ServiceError::InvalidRequest("grant_type is required"))?;
    let request = TokenRequest {
        grant_type,
        code: params.get("code"),
        redirect_uri: params.get("redirect_uri"),
        code_verifier: params.get("code_verifier"),
        refresh_token: params.get("refresh_token"),
        scope: params.get("scope"),
        client_id: &client.client_id,
        client_secret: client.client_secret.as_deref(),
        dpop_jkt,
    };
    let response = service.token(&site.issuer.issuer, request, now).await?;
    serde_json::to_value(&response).map_err(|e| ServiceError::Internal(e.to_string()))
}

/// Answers a token request.
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

//! `GET | POST /oauth2/userinfo` (OIDC Core section 5.3): the user of a
//! valid `openid` access token, from `Authorization: Bearer` (or `DPoP`,
//! whose proof is checked like at any route). A DPoP-bound token
//! (`cnf.jkt`) needs a proof of its key here too, whatever the scheme
//! says. Refusals are 401 with a `Bearer` (or `DPoP`) challenge (RFC 6750
//! section 3).

use super::{Site, reply, token::dpop_header};
use crate::gateway::GatewayBody;
use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use warden_plugin_auth::service::{ServiceError, TokenService};

/// `(scheme is DPoP, token)` from the one `Authorization` header.
fn bearer(headers: &HeaderMap) -> Result<(bool, &str), ServiceError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(ServiceError::InvalidToken);
    };
    let value = value.to_str().map_err(|_| ServiceError::InvalidToken)?;
    let (scheme, token) = value.split_once(' ').ok_or(ServiceError::InvalidToken)?;
    let token = token.trim();
    if token.is_empty() || token.len() > 8 * 1024 {
        return Err(ServiceError::InvalidToken);
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        Ok((false, token))
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Ok((true, token))
    } else {
        Err(ServiceError::InvalidToken)
    }
}

/// The `cnf.jkt` of a JWT's payload, unverified.
fn bound_jkt(token: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims["cnf"]["jkt"].as_str().map(str::to_owned)
}

async fn run<B>(
    service: &TokenService,
    site: &Site<'_>,
    req: &Request<B>,
    now: u64,
) -> Result<serde_json::Value, ServiceError> {
    let (dpop, token) = bearer(req.headers())?;
    let url = site.url("/oauth2/userinfo");
    // Read before the signature is checked (userinfo checks it next): a
    // forged cnf can only make a proof necessary, never spare one.
    if let Some(bound) = bound_jkt(token) {
        let proof = dpop_header(req.headers())?;
        service
            .dpop()
            .check_request(
                site.tenant,
                Some(&bound),
                token,
                proof,
                req.method().as_str(),
                &url,
                now,
            )
            .await?;
    } else if dpop {
        let proof = dpop_header(req.headers())?
            .ok_or(ServiceError::InvalidDpopProof("the request has no proof"))?;
        service
            .dpop()
            .verify_proof(
                site.tenant,
                proof,
                req.method().as_str(),
                &url,
                Some(token),
                now,
            )
            .await?;
    }
    service.userinfo(&site.issuer.issuer, token, now).await
}

/// Answers a userinfo request.
pub(crate) async fn answer<B>(
    service: &TokenService,
    site: &Site<'_>,
    req: Request<B>,
    now: u64,
) -> Response<GatewayBody> {
    if !matches!(*req.method(), Method::GET | Method::POST) {
        return reply::method_not_allowed("GET, POST");
    }
    match run(service, site, &req, now).await {
        Ok(body) => reply::json(StatusCode::OK, &body),
        Err(e) => reply::error(&e, &site.issuer.realm),
    }
}

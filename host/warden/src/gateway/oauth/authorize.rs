//! `GET | POST /oauth2/authorize` (RFC 6749 section 4.1.1, OIDC Core
//! 3.1.2.1): the request is validated by the plugin (client, exact
//! `redirect_uri`, `state`, PKCE S256, scopes, `acr_values`, `max_age`);
//! an unknown client or redirect URI gets an error page, never a
//! redirect; other refusals go back to the registered URI. A valid request
//! is kept server-side ([`super::login_state`]) and the login page shown,
//! with the login's id in an `HttpOnly` cookie and a CSRF token in the
//! form. Every request asks for the password (there is no single sign-on
//! session), so `max_age` always holds and `acr_values` decides whether a
//! second factor is needed.

use super::login_state::{LOGIN_TTL_S, LoginStates};
use super::{Site, form, page, reply};
use crate::gateway::GatewayBody;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body::Body;
use warden_plugin_auth::service::{AuthorizeError, AuthorizeRequest, ServiceError, TokenService};

/// The cookie that names the browser's login in progress.
pub const LOGIN_COOKIE: &str = "warden_login";

/// The plugin's request from the parameters.
fn request_of(params: &form::Params) -> Result<AuthorizeRequest, ServiceError> {
    let text = |name: &str| params.get(name).map(str::to_owned);
    let max_age = match params.get("max_age") {
        Some(v) => Some(
            v.parse::<u64>()
                .map_err(|_| ServiceError::InvalidRequest("max_age must be a number of seconds"))?,
        ),
        None => None,
    };
    Ok(AuthorizeRequest {
        response_type: text("response_type"),
        client_id: text("client_id"),
        redirect_uri: text("redirect_uri"),
        scope: text("scope"),
        state: text("state"),
        code_challenge: text("code_challenge"),
        code_challenge_method: text("code_challenge_method"),
        nonce: text("nonce"),
        acr_values: text("acr_values"),
        max_age,
    })
}

/// The `Set-Cookie` value that holds (or, with `None`, clears) the login.
pub fn cookie(site: &Site<'_>, id: Option<&str>) -> Option<HeaderValue> {
    let secure = if site.url("").starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let value = match id {
        Some(id) => format!(
            "{LOGIN_COOKIE}={id}; Path=/oauth2; HttpOnly; SameSite=Lax; Max-Age={LOGIN_TTL_S}{secure}"
        ),
        None => format!("{LOGIN_COOKIE}=; Path=/oauth2; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&value).ok()
}

fn error_page(status: StatusCode, message: &str) -> Response<GatewayBody> {
    reply::page(status, page::error_page(message))
}

/// Answers an authorization request.
pub(crate) async fn answer<B>(
    service: &TokenService,
    logins: &LoginStates,
    site: &Site<'_>,
    req: Request<B>,
    now: u64,
) -> Response<GatewayBody>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let params = match *req.method() {
        Method::GET => form::Params::parse(req.uri().query().unwrap_or("").as_bytes()),
        Method::POST => {
            let (parts, body) = req.into_parts();
            form::read(&parts.headers, body).await
        }
        _ => return reply::method_not_allowed("GET, POST"),
    };
    let request = match params.and_then(|p| request_of(&p)) {
        Ok(request) => request,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let validated = match service.validate_authorize(site.tenant, &request).await {
        Ok(validated) => validated,
        Err(AuthorizeError::Redirect { location, .. }) => return reply::redirect(&location),
        Err(AuthorizeError::NoRedirect(e)) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let message = match e {
                ServiceError::InvalidRedirect => {
                    "The application's client_id or redirect_uri is not registered."
                }
                _ => "The sign-in service is unavailable; try again shortly.",
            };
            return error_page(status, message);
        }
    };
    let client = validated.client_name.clone();
    let (id, state) = match logins.start(site.tenant, validated, now).await {
        Ok(started) => started,
        Err(e) => {
            tracing::warn!(tenant = %site.tenant, error = %e, "cannot keep a login form");
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "The sign-in service is unavailable; try again shortly.",
            );
        }
    };
    let mut response = reply::page(
        StatusCode::OK,
        page::password_form(&client, &state.csrf, None),
    );
    if let Some(cookie) = cookie(site, Some(&id)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

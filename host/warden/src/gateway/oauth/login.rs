//! `POST /oauth2/login`: the login page's form. The browser's cookie names
//! the server-side login; the form's `csrf` must match it (a page of
//! another site cannot read it, so cannot log a victim in as someone
//! else). First the password (the plugin throttles failures per user name
//! and client address, and answers unknown, disabled and wrong alike), then
//! a TOTP or recovery code when the user enrolled; a login that does not
//! meet the request's `acr_values` / `max_age` is refused back to the
//! client with `access_denied`, otherwise the code is issued and the
//! browser sent to the registered redirect URI.

use super::authorize::{LOGIN_COOKIE, cookie};
use super::login_state::{LoginState, LoginStates};
use super::{Site, form, page, reply};
use crate::gateway::{ClientAddr, GatewayBody};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body::Body;
use warden_plugin_auth::service::{Authentication, LoginOutcome, ServiceError, TokenService};

const EXPIRED: &str =
    "This sign-in form has expired or was not sent by this site. Start again from the application.";
const UNAVAILABLE: &str = "The sign-in service is unavailable; try again shortly.";

/// The login id from the `Cookie` headers.
fn login_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == LOGIN_COOKIE)
        .map(|(_, value)| value.to_owned())
}

fn error_page(status: StatusCode, message: &str) -> Response<GatewayBody> {
    reply::page(status, page::error_page(message))
}

fn throttled(retry_after_s: u64, state: &LoginState, second: bool) -> Response<GatewayBody> {
    let message = format!("Too many attempts. Try again in {retry_after_s} seconds.");
    let html = if second {
        page::code_form(&state.request.client_name, &state.csrf, Some(&message))
    } else {
        page::password_form(&state.request.client_name, &state.csrf, Some(&message))
    };
    let mut response = reply::page(StatusCode::TOO_MANY_REQUESTS, html);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
    response
}

/// The login is done: the code (or the refusal) goes to the client.
async fn complete(
    service: &TokenService,
    logins: &LoginStates,
    site: &Site<'_>,
    id: &str,
    state: &LoginState,
    auth: &Authentication,
    now: u64,
) -> Response<GatewayBody> {
    if let Err(e) = logins.finish(site.tenant, id).await {
        tracing::warn!(tenant = %site.tenant, error = %e, "cannot remove a login form");
    }
    let location = if state.request.satisfied_by(auth, now) {
        match service
            .issue_code(site.tenant, &state.request, auth, now)
            .await
        {
            Ok(issued) => issued.location,
            Err(e @ (ServiceError::Unavailable(_) | ServiceError::Internal(_))) => {
                tracing::warn!(tenant = %site.tenant, error = %e, "cannot issue a code");
                return error_page(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE);
            }
            Err(e) => state.request.error_location(&e),
        }
    } else {
        state.request.error_location(&ServiceError::AccessDenied)
    };
    let mut response = reply::redirect(&location);
    if let Some(clear) = cookie(site, None) {
        response.headers_mut().insert(header::SET_COOKIE, clear);
    }
    response
}

/// Answers a login form.
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
    if req.method() != Method::POST {
        return reply::method_not_allowed("POST");
    }
    let address = req
        .extensions()
        .get::<ClientAddr>()
        .map_or_else(|| "unknown".to_owned(), |a| a.0.ip().to_string());
    let (parts, body) = req.into_parts();
    let Some(id) = login_id(&parts.headers) else {
        return error_page(StatusCode::BAD_REQUEST, EXPIRED);
    };
    let state = match logins.load(site.tenant, &id, now).await {
        Ok(Some(state)) => state,
        Ok(None) => return error_page(StatusCode::BAD_REQUEST, EXPIRED),
        Err(_) => return error_page(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE),
    };
    let params = match form::read(&parts.headers, body).await {
        Ok(params) => params,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let csrf_ok = params
        .get("csrf")
        .is_some_and(|given| crate::admin::token::matches(&state.csrf, given));
    if !csrf_ok {
        return error_page(StatusCode::BAD_REQUEST, EXPIRED);
    }
    let client = state.request.client_name.clone();
    match state.ticket.clone() {
        None => {
            let (Some(username), Some(password)) = (params.get("username"), params.get("password"))
            else {
                let html = page::password_form(
                    &client,
                    &state.csrf,
                    Some("Enter a user name and a password."),
                );
                return reply::page(StatusCode::BAD_REQUEST, html);
            };
            match service
                .login_password(site.tenant, username, password, &address, now)
                .await
            {
                Ok(LoginOutcome::Authenticated(auth)) => {
                    complete(service, logins, site, &id, &state, &auth, now).await
                }
                Ok(LoginOutcome::SecondFactorRequired { ticket }) => {
                    let next = LoginState {
                        ticket: Some(ticket),
                        ..state
                    };
                    if logins.save(site.tenant, &id, &next).await.is_err() {
                        return error_page(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE);
                    }
                    reply::page(StatusCode::OK, page::code_form(&client, &next.csrf, None))
                }
                Err(ServiceError::Throttled { retry_after_s }) => {
                    throttled(retry_after_s, &state, false)
                }
                Err(ServiceError::AccessDenied) => {
                    let html = page::password_form(
                        &client,
                        &state.csrf,
                        Some("Wrong user name or password."),
                    );
                    reply::page(StatusCode::UNAUTHORIZED, html)
                }
                Err(_) => error_page(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE),
            }
        }
        Some(ticket) => {
            let Some(code) = params.get("code") else {
                let html = page::code_form(&client, &state.csrf, Some("Enter the code."));
                return reply::page(StatusCode::BAD_REQUEST, html);
            };
            match service
                .login_second_factor(site.tenant, &ticket, code.trim(), &address, now)
                .await
            {
                Ok(auth) => complete(service, logins, site, &id, &state, &auth, now).await,
                Err(ServiceError::Throttled { retry_after_s }) => {
                    throttled(retry_after_s, &state, true)
                }
                Err(ServiceError::AccessDenied) => {
                    let html = page::code_form(&client, &state.csrf, Some("Wrong code."));
                    reply::page(StatusCode::UNAUTHORIZED, html)
                }
                Err(ServiceError::Unavailable(_) | ServiceError::Internal(_)) => {
                    error_page(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE)
                }
                Err(_) => {
                    let _ = logins.finish(site.tenant, &id).await;
                    error_page(StatusCode::BAD_REQUEST, EXPIRED)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            "a=1; warden_login=xyz".parse().expect("value"),
        );
        assert_eq!(login_id(&headers).as_deref(), Some("xyz"));
        assert_eq!(login_id(&HeaderMap::new()), None);
    }
}

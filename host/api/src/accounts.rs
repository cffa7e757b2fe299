//! [`AdminClient`] methods for a tenant's token service: users (with TOTP
//! enrolment and sessions), OAuth clients and scoped admin tokens. Secrets
//! (client secrets, admin tokens, recovery codes) are in the answer of the
//! call that creates them and nowhere else.

use crate::client::{AdminClient, ClientError};
use crate::wire::{
    ConfirmTotp, CreatedAdminToken, RecoveryCodesIssued, RegisteredClient, TotpEnrolled,
};
use http::Method;
use serde_json::Value;
use warden_plugin_auth::service::{
    AdminTokenInfo, ClientInfo, NewAdminToken, NewClient, NewUser, SessionInfo, UserInfo,
};

fn users(tenant: &str) -> String {
    format!("/v1/tenants/{tenant}/users")
}

impl AdminClient {
    async fn no_content(&self, method: Method, path: &str) -> Result<(), ClientError> {
        let _: (_, Value) = self.send(method, path, None).await?;
        Ok(())
    }

    /// `POST /v1/tenants/{tenant}/users`.
    pub async fn create_user(&self, tenant: &str, user: &NewUser) -> Result<UserInfo, ClientError> {
        Ok(self.send_json(Method::POST, &users(tenant), user).await?.1)
    }

    /// `GET /v1/tenants/{tenant}/users`.
    pub async fn users(&self, tenant: &str) -> Result<Vec<UserInfo>, ClientError> {
        Ok(self.send(Method::GET, &users(tenant), None).await?.1)
    }

    /// `POST .../users/{user}/disable` (`true`) or `.../enable`; disabling
    /// revokes the user's sessions.
    pub async fn set_user_disabled(
        &self,
        tenant: &str,
        user: &str,
        disabled: bool,
    ) -> Result<UserInfo, ClientError> {
        let action = if disabled { "disable" } else { "enable" };
        let path = format!("{}/{user}/{action}", users(tenant));
        Ok(self.send(Method::POST, &path, None).await?.1)
    }

    /// `DELETE /v1/tenants/{tenant}/users/{user}`.
    pub async fn delete_user(&self, tenant: &str, user: &str) -> Result<(), ClientError> {
        self.no_content(Method::DELETE, &format!("{}/{user}", users(tenant)))
            .await
    }

    /// `POST .../users/{user}/totp`: the otpauth URI to scan.
    pub async fn enroll_totp(&self, tenant: &str, user: &str) -> Result<TotpEnrolled, ClientError> {
        let path = format!("{}/{user}/totp", users(tenant));
        Ok(self.send(Method::POST, &path, None).await?.1)
    }

    /// `POST .../users/{user}/totp/confirm`: the recovery codes.
    pub async fn confirm_totp(
        &self,
        tenant: &str,
        user: &str,
        code: &str,
    ) -> Result<RecoveryCodesIssued, ClientError> {
        let path = format!("{}/{user}/totp/confirm", users(tenant));
        let body = ConfirmTotp { code: code.into() };
        Ok(self.send_json(Method::POST, &path, &body).await?.1)
    }

    /// `GET .../users/{user}/sessions`.
    pub async fn sessions(
        &self,
        tenant: &str,
        user: &str,
    ) -> Result<Vec<SessionInfo>, ClientError> {
        let path = format!("{}/{user}/sessions", users(tenant));
        Ok(self.send(Method::GET, &path, None).await?.1)
    }

    /// `DELETE .../users/{user}/sessions/{session}`.
    pub async fn revoke_session(
        &self,
        tenant: &str,
        user: &str,
        session: &str,
    ) -> Result<(), ClientError> {
        let path = format!("{}/{user}/sessions/{session}", users(tenant));
        self.no_content(Method::DELETE, &path).await
    }

    /// `POST /v1/tenants/{tenant}/clients`: the secret is shown this once.
    pub async fn register_client(
        &self,
        tenant: &str,
        client: &NewClient,
    ) -> Result<RegisteredClient, ClientError> {
        let path = format!("/v1/tenants/{tenant}/clients");
        Ok(self.send_json(Method::POST, &path, client).await?.1)
    }

    /// `GET /v1/tenants/{tenant}/clients`.
    pub async fn clients(&self, tenant: &str) -> Result<Vec<ClientInfo>, ClientError> {
        let path = format!("/v1/tenants/{tenant}/clients");
        Ok(self.send(Method::GET, &path, None).await?.1)
    }

    /// `POST .../clients/{client}/rotate-secret`: the new secret, once.
    pub async fn rotate_client_secret(
        &self,
        tenant: &str,
        client: &str,
    ) -> Result<RegisteredClient, ClientError> {
        let path = format!("/v1/tenants/{tenant}/clients/{client}/rotate-secret");
        Ok(self.send(Method::POST, &path, None).await?.1)
    }

    /// `DELETE /v1/tenants/{tenant}/clients/{client}`.
    pub async fn delete_client(&self, tenant: &str, client: &str) -> Result<(), ClientError> {
        let path = format!("/v1/tenants/{tenant}/clients/{client}");
        self.no_content(Method::DELETE, &path).await
    }

    /// `POST /v1/tenants/{tenant}/admin-tokens`: the token is shown this once.
    pub async fn create_admin_token(
        &self,
        tenant: &str,
        token: &NewAdminToken,
    ) -> Result<CreatedAdminToken, ClientError> {
        let path = format!("/v1/tenants/{tenant}/admin-tokens");
        Ok(self.send_json(Method::POST, &path, token).await?.1)
    }

    /// `GET /v1/tenants/{tenant}/admin-tokens`.
    pub async fn admin_tokens(&self, tenant: &str) -> Result<Vec<AdminTokenInfo>, ClientError> {
        let path = format!("/v1/tenants/{tenant}/admin-tokens");
        Ok(self.send(Method::GET, &path, None).await?.1)
    }

    /// `DELETE /v1/tenants/{tenant}/admin-tokens/{token}`.
    pub async fn revoke_admin_token(&self, tenant: &str, token: &str) -> Result<(), ClientError> {
        let path = format!("/v1/tenants/{tenant}/admin-tokens/{token}");
        self.no_content(Method::DELETE, &path).await
    }
}

//! A tenant's OAuth clients: registration, exact `redirect_uri` matching,
//! allowed grant types and scopes, client secrets (256 random bits, shown
//! once, stored as argon2id, rotatable) and client authentication.
//!
//! Rules: a redirect URI is registered in full and matched byte for byte
//! (no prefix, wildcard or normalisation: an added path segment, query or
//! fragment is a different URI and is refused); registered URIs have no
//! fragment (RFC 6749 section 3.1.2) and are `https://`, `http://` on a
//! loopback host, or a private-use scheme with a dot (native apps, RFC
//! 8252). Public clients have no secret and cannot use
//! `client_credentials`. An unknown client costs the same argon2 work as a
//! known one with a wrong secret.

use serde::{Deserialize, Serialize};
use warden_plugin_core::Tenant;
use zeroize::Zeroizing;

use super::store::{CAS_ATTEMPTS, Store, contended};
use super::{ServiceError, TokenService, secrets};

/// Whether a client can keep a secret (RFC 6749 section 2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    /// Browser or native app: no secret, PKCE only.
    Public,
    /// A server: authenticates with its secret.
    Confidential,
}

/// A grant type a client may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    /// `authorization_code` (with PKCE).
    AuthorizationCode,
    /// `refresh_token`.
    RefreshToken,
    /// `client_credentials` (confidential clients only).
    ClientCredentials,
}

impl GrantType {
    /// The RFC 6749 `grant_type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }

    /// Parses a `grant_type` parameter.
    pub fn parse(value: &str) -> Result<Self, ServiceError> {
        match value {
            "authorization_code" => Ok(Self::AuthorizationCode),
            "refresh_token" => Ok(Self::RefreshToken),
            "client_credentials" => Ok(Self::ClientCredentials),
            _ => Err(ServiceError::UnsupportedGrantType),
        }
    }
}

/// What the admin API registers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    /// Display name (login page).
    pub name: String,
    /// Public or confidential.
    pub kind: ClientKind,
    /// Exact redirect URIs.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Grants the client may use.
    pub grant_types: Vec<GrantType>,
    /// Scopes the client may ask for (`openid` makes it an OIDC client that
    /// gets ID tokens).
    pub scopes: Vec<String>,
}

/// A client as the admin API shows it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientInfo {
    /// `client_id`.
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// Public or confidential.
    pub kind: ClientKind,
    /// Exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Allowed grants.
    pub grant_types: Vec<GrantType>,
    /// Allowed scopes.
    pub scopes: Vec<String>,
    /// Seconds since the epoch.
    pub created_at: u64,
}

impl ClientInfo {
    /// Whether the client may use `grant`.
    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// `requested` (space-separated) checked against the allowed scopes;
    /// none requested means all allowed ones.
    pub(crate) fn scopes_for(&self, requested: Option<&str>) -> Result<Vec<String>, ServiceError> {
        let Some(requested) = requested.filter(|s| !s.trim().is_empty()) else {
            return Ok(self.scopes.clone());
        };
        let mut out: Vec<String> = Vec::new();
        for scope in requested.split(' ').filter(|s| !s.is_empty()) {
            if !self.scopes.iter().any(|s| s == scope) {
                return Err(ServiceError::InvalidScope);
            }
            if !out.iter().any(|s| s == scope) {
                out.push(scope.to_owned());
            }
        }
        Ok(out)
    }

    /// Whether `uri` is one of the registered redirect URIs, exactly.
    pub fn redirect_allowed(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }
}

/// A client secret, shown once at registration or rotation. `Debug`
/// redacts it.
pub struct ClientSecret(Zeroizing<String>);

impl ClientSecret {
    /// The secret, to hand to the client's owner once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

/// Client authentication as the token endpoint received it (HTTP Basic or
/// form parameters, parsed by the host). `Debug` redacts the secret.
#[derive(Clone)]
pub struct ClientAuth<'a> {
    /// `client_id`.
    pub client_id: &'a str,
    /// `client_secret`, for confidential clients.
    pub client_secret: Option<&'a str>,
}

impl std::fmt::Debug for ClientAuth<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuth")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.map(|_| "[redacted]"))
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientRecord {
    info: ClientInfo,
    secret_hash: Option<String>,
}

const KIND: &str = "client";
/// Longest redirect URI accepted.
const MAX_REDIRECT_LEN: usize = 2048;

fn check_redirect(uri: &str) -> Result<(), ServiceError> {
    let bad = ServiceError::InvalidRequest("redirect_uri must be absolute, without fragment");
    if uri.is_empty() || uri.len() > MAX_REDIRECT_LEN || uri.contains('#') {
        return Err(bad);
    }
    if uri.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(bad);
    }
    let (scheme, rest) = uri.split_once(':').ok_or(bad.clone())?;
    match scheme {
        "https" => rest.starts_with("//") && rest.len() > 2,
        "http" => ["//127.0.0.1", "//[::1]", "//localhost"]
            .iter()
            .any(|host| {
                rest.strip_prefix(host)
                    .is_some_and(|tail| tail.is_empty() || tail.starts_with([':', '/', '?']))
            }),
        custom => {
            custom.contains('.')
                && custom
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        }
    }
    .then_some(())
    .ok_or(bad)
}

fn check_new(spec: &NewClient) -> Result<(), ServiceError> {
    if spec.name.is_empty() || spec.grant_types.is_empty() {
        return Err(ServiceError::InvalidRequest(
            "name and grant_types are required",
        ));
    }
    for uri in &spec.redirect_uris {
        check_redirect(uri)?;
    }
    if spec.grant_types.contains(&GrantType::AuthorizationCode) && spec.redirect_uris.is_empty() {
        return Err(ServiceError::InvalidRequest(
            "authorization_code needs at least one redirect_uri",
        ));
    }
    if spec.kind == ClientKind::Public && spec.grant_types.contains(&GrantType::ClientCredentials) {
        return Err(ServiceError::InvalidRequest(
            "a public client cannot use client_credentials",
        ));
    }
    if spec.scopes.iter().any(|s| {
        s.is_empty()
            || s.bytes()
                .any(|b| !(0x21..=0x7e).contains(&b) || b == b'"' || b == b'\\')
    }) {
        return Err(ServiceError::InvalidRequest(
            "scopes are RFC 6749 scope tokens",
        ));
    }
    Ok(())
}

impl TokenService {
    /// Registers a client; the secret (confidential clients) is returned
    /// here and never again.
    pub async fn register_client(
        &self,
        tenant: &Tenant,
        spec: NewClient,
        now: u64,
    ) -> Result<(ClientInfo, Option<ClientSecret>), ServiceError> {
        check_new(&spec)?;
        let info = ClientInfo {
            client_id: secrets::id()?,
            name: spec.name,
            kind: spec.kind,
            redirect_uris: spec.redirect_uris,
            grant_types: spec.grant_types,
            scopes: spec.scopes,
            created_at: now,
        };
        let (secret, secret_hash) = self.new_secret(info.kind)?;
        let record = ClientRecord {
            info: info.clone(),
            secret_hash,
        };
        if !self
            .store
            .insert_new(tenant, &Store::key(KIND, &info.client_id), &record)
            .await?
        {
            return Err(ServiceError::Conflict);
        }
        Ok((info, secret))
    }

    fn new_secret(
        &self,
        kind: ClientKind,
    ) -> Result<(Option<ClientSecret>, Option<String>), ServiceError> {
        if kind == ClientKind::Public {
            return Ok((None, None));
        }
        let secret = secrets::token("wcs_")?;
        let hash = self.hasher.hash(&secret)?;
        Ok((Some(ClientSecret(secret)), Some(hash)))
    }

    /// Replaces a confidential client's secret; the old one stops working
    /// at once. The new secret is returned here and never again.
    pub async fn rotate_client_secret(
        &self,
        tenant: &Tenant,
        client_id: &str,
    ) -> Result<ClientSecret, ServiceError> {
        let key = Store::key(KIND, client_id);
        for _ in 0..CAS_ATTEMPTS {
            let current = self
                .store
                .get::<ClientRecord>(tenant, &key)
                .await?
                .ok_or(ServiceError::NotFound)?;
            let (Some(secret), hash) = self.new_secret(current.value.info.kind)? else {
                return Err(ServiceError::InvalidRequest(
                    "a public client has no secret",
                ));
            };
            let record = ClientRecord {
                info: current.value.info,
                secret_hash: hash,
            };
            if self
                .store
                .swap(tenant, &key, Some(&current.bytes), &record)
                .await?
            {
                return Ok(secret);
            }
        }
        Err(contended())
    }

    /// One client, without its secret.
    pub async fn client(
        &self,
        tenant: &Tenant,
        client_id: &str,
    ) -> Result<ClientInfo, ServiceError> {
        self.client_record(tenant, client_id)
            .await?
            .map(|r| r.info)
            .ok_or(ServiceError::NotFound)
    }

    async fn client_record(
        &self,
        tenant: &Tenant,
        client_id: &str,
    ) -> Result<Option<ClientRecord>, ServiceError> {
        if client_id.is_empty() || client_id.len() > 64 {
            return Ok(None);
        }
        Ok(self
            .store
            .get::<ClientRecord>(tenant, &Store::key(KIND, client_id))
            .await?
            .map(|v| v.value))
    }

    /// Every client of the tenant.
    pub async fn list_clients(&self, tenant: &Tenant) -> Result<Vec<ClientInfo>, ServiceError> {
        let mut out = Vec::new();
        for key in self.store.keys(tenant, &Store::key(KIND, "")).await? {
            if let Some(record) = self.store.get::<ClientRecord>(tenant, &key).await? {
                out.push(record.value.info);
            }
        }
        Ok(out)
    }

    /// Deletes a client. Its refresh families stop refreshing (the client
    /// no longer authenticates); revoke sessions to stop access tokens too.
    pub async fn delete_client(
        &self,
        tenant: &Tenant,
        client_id: &str,
    ) -> Result<(), ServiceError> {
        if self
            .store
            .delete(tenant, &Store::key(KIND, client_id))
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::NotFound)
        }
    }

    /// Authenticates a client at the token, revocation or introspection
    /// endpoint: a confidential client by its secret (argon2id, constant
    /// time), a public client by its id alone (it must send no secret).
    /// Unknown clients, clients of another tenant and wrong secrets are all
    /// `invalid_client`, after the same argon2 work.
    pub async fn authenticate_client(
        &self,
        tenant: &Tenant,
        auth: &ClientAuth<'_>,
    ) -> Result<ClientInfo, ServiceError> {
        let secret = auth.client_secret.unwrap_or("");
        let Some(record) = self.client_record(tenant, auth.client_id).await? else {
            self.hasher.verify_dummy(secret);
            return Err(ServiceError::InvalidClient);
        };
        match (&record.secret_hash, auth.client_secret) {
            (None, None) => Ok(record.info),
            (Some(hash), Some(secret)) if self.hasher.verify(secret, hash) => Ok(record.info),
            _ => Err(ServiceError::InvalidClient),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_absolute_without_fragment() {
        for good in [
            "https://app.example/cb",
            "http://127.0.0.1:8080/cb",
            "http://localhost/cb",
            "com.example.app:/oauth",
        ] {
            assert!(check_redirect(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/cb",
            "https://app.example/cb#x",
            "http://app.example/cb",
            "http://localhost.evil.example/cb",
            "javascript:alert(1)",
            "https://app.example/c b",
        ] {
            assert!(check_redirect(bad).is_err(), "{bad}");
        }
    }
}

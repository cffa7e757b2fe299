//! A tenant with a token service, its verifier (over the same kv store and
//! revocation list, as on one node), a public OIDC client, a confidential
//! machine client, a user, and helpers for the code flow and DPoP proofs.

use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use warden_plugin_auth::replay::{KvReplayStore, ReplayStore};
use warden_plugin_auth::service::{
    Authentication, AuthorizeRequest, ClientInfo, ClientKind, GrantType, HashCost, Issuer,
    LoginOutcome, NewClient, NewUser, ServiceSettings, TokenRequest, TokenResponse, TokenService,
    UserInfo, s256_challenge,
};
use warden_plugin_auth::{
    AuthError, FamilyRevocations, KeyManager, KeySettings, KvKeyStore, NewKey, RoutePolicy, Tenant,
    VerifiedPrincipal, Verifier, VerifierSettings,
};
use warden_plugin_kv::{KvStore, MemoryKv};

use crate::fixtures::{ACME_AUD, ACME_ISS, NOW, acme_config, b64, kek, tenant};

pub const REDIRECT: &str = "https://app.example/cb";
pub const PASSWORD: &str = "correct horse battery";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// Cheap argon2 for tests (the cost is a setting; the default is OWASP's).
pub fn test_settings() -> ServiceSettings {
    ServiceSettings {
        hash_cost: HashCost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        },
        ..ServiceSettings::default()
    }
}

/// One node: a token service and a verifier sharing a kv store.
pub struct SvcNode {
    pub service: TokenService,
    pub verifier: Verifier,
    pub keys: Arc<KeyManager>,
}

impl SvcNode {
    pub fn new(kv: Arc<dyn KvStore>, settings: ServiceSettings) -> Self {
        let keys = Arc::new(KeyManager::new(
            Arc::new(KvKeyStore::new(kv.clone())),
            kek(),
            KeySettings::default(),
        ));
        // No negative cache: a revocation on another node shows at once.
        let revocations = Arc::new(FamilyRevocations::new(kv.clone(), Duration::ZERO));
        let replay: Arc<dyn ReplayStore> = Arc::new(KvReplayStore::new(kv.clone()));
        let verifier = Verifier::new(keys.clone(), replay.clone(), VerifierSettings::default())
            .with_revocations(revocations.clone());
        let service = TokenService::new(
            kv,
            keys.clone(),
            Arc::new(kek()),
            revocations,
            replay,
            settings,
        )
        .unwrap();
        Self {
            service,
            verifier,
            keys,
        }
    }
}

pub struct Svc {
    pub node: SvcNode,
    pub kv: Arc<dyn KvStore>,
    pub acme: Tenant,
    pub issuer: Issuer,
    pub app: ClientInfo,
    pub machine: ClientInfo,
    pub machine_secret: String,
    pub alice: UserInfo,
}

impl Svc {
    pub async fn new() -> Self {
        Self::with(test_settings()).await
    }

    pub async fn with(settings: ServiceSettings) -> Self {
        Self::on(Arc::new(MemoryKv::new(1 << 20)), settings).await
    }

    pub async fn on(kv: Arc<dyn KvStore>, settings: ServiceSettings) -> Self {
        let node = SvcNode::new(kv.clone(), settings);
        let acme = tenant("acme");
        node.verifier.set_tenant(&acme, acme_config()).unwrap();
        node.keys
            .create(&acme, NewKey::default(), NOW - 3600)
            .await
            .unwrap();
        let issuer = Issuer::from_config(&acme, &acme_config()).unwrap();
        assert_eq!(
            (issuer.issuer.as_str(), issuer.audience.as_str()),
            (ACME_ISS, ACME_AUD)
        );
        let (app, none) = node
            .service
            .register_client(
                &acme,
                NewClient {
                    name: "App".into(),
                    kind: ClientKind::Public,
                    redirect_uris: vec![REDIRECT.into()],
                    grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
                    scopes: vec!["openid".into(), "orders:read".into(), "orders:write".into()],
                },
                NOW,
            )
            .await
            .unwrap();
        assert!(none.is_none(), "public clients have no secret");
        let (machine, secret) = node
            .service
            .register_client(
                &acme,
                NewClient {
                    name: "Batch".into(),
                    kind: ClientKind::Confidential,
                    redirect_uris: vec![],
                    grant_types: vec![GrantType::ClientCredentials],
                    scopes: vec!["orders:read".into()],
                },
                NOW,
            )
            .await
            .unwrap();
        let alice = node
            .service
            .create_user(
                &acme,
                NewUser {
                    username: "alice".into(),
                    password: PASSWORD.into(),
                },
                NOW,
            )
            .await
            .unwrap();
        Self {
            node,
            kv,
            acme,
            issuer,
            app,
            machine,
            machine_secret: secret.unwrap().expose().to_owned(),
            alice,
        }
    }

    pub fn service(&self) -> &TokenService {
        &self.node.service
    }

    /// Alice's password login.
    pub async fn login(&self) -> Authentication {
        match self
            .service()
            .login_password(&self.acme, "alice", PASSWORD, "10.0.0.1", NOW)
            .await
            .unwrap()
        {
            LoginOutcome::Authenticated(auth) => auth,
            other => panic!("{other:?}"),
        }
    }

    pub fn authorize_request(&self) -> AuthorizeRequest {
        AuthorizeRequest {
            response_type: Some("code".into()),
            client_id: Some(self.app.client_id.clone()),
            redirect_uri: Some(REDIRECT.into()),
            scope: Some("openid orders:read".into()),
            state: Some("xyz".into()),
            code_challenge: Some(s256_challenge(VERIFIER)),
            code_challenge_method: Some("S256".into()),
            nonce: Some("n-1".into()),
            ..AuthorizeRequest::default()
        }
    }

    /// A code for alice through the whole authorize step.
    pub async fn code_for(&self, auth: &Authentication) -> String {
        let validated = self
            .service()
            .validate_authorize(&self.acme, &self.authorize_request())
            .await
            .unwrap();
        let response = self
            .service()
            .issue_code(&self.acme, &validated, auth, NOW)
            .await
            .unwrap();
        let location = response.location;
        assert!(
            location.starts_with(&format!("{REDIRECT}?code=")),
            "{location}"
        );
        assert!(
            location.ends_with("&state=xyz"),
            "state round-trips: {location}"
        );
        param(&location, "code").unwrap()
    }

    pub fn code_request<'a>(&'a self, code: &'a str) -> TokenRequest<'a> {
        TokenRequest {
            grant_type: "authorization_code",
            code: Some(code),
            redirect_uri: Some(REDIRECT),
            code_verifier: Some(VERIFIER),
            client_id: &self.app.client_id,
            ..TokenRequest::default()
        }
    }

    pub fn refresh_request<'a>(&'a self, token: &'a str) -> TokenRequest<'a> {
        TokenRequest {
            grant_type: "refresh_token",
            refresh_token: Some(token),
            client_id: &self.app.client_id,
            ..TokenRequest::default()
        }
    }

    /// Login, code, token: alice's first pair.
    pub async fn tokens(&self) -> TokenResponse {
        let auth = self.login().await;
        let code = self.code_for(&auth).await;
        self.service()
            .token(&self.issuer, self.code_request(&code), NOW)
            .await
            .unwrap()
    }

    pub async fn refresh(
        &self,
        token: &str,
        now: u64,
    ) -> Result<TokenResponse, warden_plugin_auth::service::ServiceError> {
        self.service()
            .token(&self.issuer, self.refresh_request(token), now)
            .await
    }

    /// The gateway's view of an access token.
    pub async fn gateway(
        &self,
        access_token: &str,
        now: u64,
    ) -> Result<VerifiedPrincipal, AuthError> {
        gateway(&self.node.verifier, &self.acme, access_token, now).await
    }
}

pub async fn gateway(
    verifier: &Verifier,
    tenant: &Tenant,
    access_token: &str,
    now: u64,
) -> Result<VerifiedPrincipal, AuthError> {
    verifier
        .verify(
            tenant,
            Some(&format!("Bearer {access_token}")),
            &RoutePolicy::default(),
            now,
        )
        .await
}

/// The value of query parameter `name` in `url`.
pub fn param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
        .map(str::to_owned)
}

/// The payload of a JWT, unverified (tests only).
pub fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&crate::fixtures::b64_decode(part)).unwrap()
}

/// The header of a JWT.
pub fn header(jwt: &str) -> Value {
    let part = jwt.split('.').next().unwrap();
    serde_json::from_slice(&crate::fixtures::b64_decode(part)).unwrap()
}

/// A DPoP client key (Ed25519, or P-256 with [`DpopKey::es256`]).
pub struct DpopKey {
    encoding: EncodingKey,
    alg: Algorithm,
    pub jwk: Value,
}

impl DpopKey {
    pub fn new(seed: u8) -> Self {
        let signing = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
        let der = signing.to_pkcs8_der().unwrap();
        let x = b64(&signing.verifying_key().to_bytes());
        Self {
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            alg: Algorithm::EdDSA,
            jwk: json!({"kty": "OKP", "crv": "Ed25519", "x": x}),
        }
    }

    /// A P-256 key (ES256).
    pub fn es256(seed: u8) -> Self {
        let secret = p256::SecretKey::from_slice(&[seed; 32]).unwrap();
        let der = p256::pkcs8::EncodePrivateKey::to_pkcs8_der(&secret).unwrap();
        let point = secret.public_key().to_sec1_bytes();
        Self {
            encoding: EncodingKey::from_ec_der(der.as_bytes()),
            alg: Algorithm::ES256,
            jwk: json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])}),
        }
    }

    /// A 2048-bit RSA key (RS256).
    pub fn rs256() -> Self {
        use rsa::pkcs1::EncodeRsaPrivateKey as _;
        use rsa::traits::PublicKeyParts as _;
        let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap();
        let der = key.to_pkcs1_der().unwrap();
        Self {
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            alg: Algorithm::RS256,
            jwk: json!({
                "kty": "RSA",
                "n": b64(&key.n().to_be_bytes_trimmed_vartime()),
                "e": b64(&key.e().to_be_bytes_trimmed_vartime()),
            }),
        }
    }

    fn alg_name(&self) -> &'static str {
        match self.alg {
            Algorithm::ES256 => "ES256",
            Algorithm::RS256 => "RS256",
            _ => "EdDSA",
        }
    }

    /// The RFC 7638 thumbprint (members in lexicographic order).
    pub fn jkt(&self) -> String {
        use sha2::Digest as _;
        let canonical = match self.alg {
            Algorithm::ES256 => {
                json!({"crv": "P-256", "kty": "EC", "x": self.jwk["x"], "y": self.jwk["y"]})
            }
            Algorithm::RS256 => json!({"e": self.jwk["e"], "kty": "RSA", "n": self.jwk["n"]}),
            _ => json!({"crv": "Ed25519", "kty": "OKP", "x": self.jwk["x"]}),
        }
        .to_string();
        b64(&sha2::Sha256::digest(canonical.as_bytes()))
    }

    /// A proof with this header and these claims, signed with this key (a
    /// header naming another key's `jwk` makes a proof that does not
    /// verify).
    pub fn proof_with(&self, header: Value, claims: Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &self.encoding, self.alg).unwrap();
        format!("{input}.{sig}")
    }

    pub fn proof(&self, method: &str, url: &str, jti: &str, access_token: Option<&str>) -> String {
        let mut claims = json!({"htm": method, "htu": url, "iat": NOW, "jti": jti});
        if let Some(token) = access_token {
            claims["ath"] = json!(warden_plugin_auth::service::access_token_hash(token));
        }
        self.proof_with(
            json!({"typ": "dpop+jwt", "alg": self.alg_name(), "jwk": self.jwk}),
            claims,
        )
    }
}

//! DPoP (RFC 9449) end to end: a client_credentials token requested with a
//! proof is bound to the client's key (`cnf.jkt`, `token_type: DPoP`), and
//! the gateway then requires a fresh proof of that key for the method and
//! URL on every request; a stolen token replayed without the key, a reused
//! proof, a proof for another URL or method, or one signed by another key
//! gets 401 with a `DPoP` challenge.

use crate::common::{Reply, TestNode, component};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::Signer as _;
use http::{Method, StatusCode, header};
use serde_json::{Value, json};
use warden::api::PutFunction;
use warden_plugin_auth::Tenant;
use warden_plugin_auth::service::{ClientKind, GrantType, NewClient, access_token_hash};
use warden_test_components as guests;

const HOST: &str = "acme.localhost";

struct Key(ed25519_dalek::SigningKey);

impl Key {
    fn new(seed: u8) -> Self {
        Self(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
    }

    /// A proof for `method` on `url`, with `ath` of `token` when given.
    fn proof(&self, method: &str, url: &str, token: Option<&str>) -> String {
        let x = URL_SAFE_NO_PAD.encode(self.0.verifying_key().to_bytes());
        let header = json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": {"kty": "OKP", "crv": "Ed25519", "x": x}});
        let mut claims = json!({
            "htm": method,
            "htu": url,
            "iat": warden_plugin_auth::unix_now(),
            "jti": hex::encode(rand::random::<[u8; 16]>()),
        });
        if let Some(token) = token {
            claims["ath"] = json!(access_token_hash(token));
        }
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.0.sign(input.as_bytes()).to_bytes();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

async fn setup() -> (TestNode, String) {
    let node = TestNode::start_with_token_service().await;
    node.put_issuing_tenant("acme", "https://acme.test/", "acme-api", true)
        .await;
    let function = PutFunction {
        routes: vec!["/whoami".into()],
        ..PutFunction::default()
    };
    node.deploy_spec("acme", "probe", &function, &component(guests::AUTH_PROBE))
        .await;
    let service = node.warden.as_ref().expect("running").token_service();
    let (info, secret) = service
        .register_client(
            &Tenant::new("acme").expect("tenant"),
            NewClient {
                name: "Agent".into(),
                kind: ClientKind::Confidential,
                redirect_uris: vec![],
                grant_types: vec![GrantType::ClientCredentials],
                scopes: vec![],
            },
            warden_plugin_auth::unix_now(),
        )
        .await
        .expect("client");
    let pair = STANDARD.encode(format!(
        "{}:{}",
        info.client_id,
        secret.expect("secret").expose()
    ));
    (node, format!("Basic {pair}"))
}

async fn whoami(node: &TestNode, authorization: &str, proof: Option<&str>) -> Reply {
    let mut headers = vec![("authorization", authorization)];
    if let Some(proof) = proof {
        headers.push(("dpop", proof));
    }
    node.call_with(Method::GET, HOST, "/whoami", "", &headers)
        .await
}

fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("b64")).expect("json")
}

fn refused_for_dpop(r: &Reply, what: &str) {
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: {}", r.text());
    let challenge = r
        .headers
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        challenge.starts_with("DPoP ") && challenge.contains("invalid_dpop_proof"),
        "{what}: {challenge}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bound_token_needs_a_fresh_proof_of_its_key_on_every_request() {
    let (node, basic) = setup().await;
    let key = Key::new(7);
    let token_url = "https://acme.localhost/oauth2/token";
    let r = node
        .call_with(
            Method::POST,
            HOST,
            "/oauth2/token",
            "grant_type=client_credentials",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("authorization", &basic),
                ("dpop", &key.proof("POST", token_url, None)),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["token_type"], "DPoP");
    let token = r.json()["access_token"].as_str().expect("token").to_owned();
    assert!(payload(&token)["cnf"]["jkt"].is_string(), "bound");

    let url = "https://acme.localhost/whoami";
    let auth = format!("DPoP {token}");
    let proof = key.proof("GET", url, Some(&token));
    let r = whoami(&node, &auth, Some(&proof)).await;
    assert_eq!(r.status, StatusCode::OK, "with a proof: {}", r.text());
    let r = whoami(&node, &auth, Some(&key.proof("GET", url, Some(&token)))).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "a fresh proof again: {}",
        r.text()
    );

    // A stolen token replayed without the key, under either scheme.
    refused_for_dpop(
        &whoami(&node, &format!("Bearer {token}"), None).await,
        "stolen, Bearer",
    );
    refused_for_dpop(
        &whoami(&node, &auth, None).await,
        "stolen, DPoP without proof",
    );
    refused_for_dpop(&whoami(&node, &auth, Some(&proof)).await, "reused proof");
    let thief = Key::new(9);
    refused_for_dpop(
        &whoami(&node, &auth, Some(&thief.proof("GET", url, Some(&token)))).await,
        "signed by another key",
    );
    refused_for_dpop(
        &whoami(
            &node,
            &auth,
            Some(&key.proof("GET", "https://acme.localhost/other", Some(&token))),
        )
        .await,
        "for another URL",
    );
    refused_for_dpop(
        &whoami(&node, &auth, Some(&key.proof("POST", url, Some(&token)))).await,
        "for another method",
    );
    refused_for_dpop(
        &whoami(
            &node,
            &auth,
            Some(&key.proof("GET", url, Some("other-token"))),
        )
        .await,
        "ath of another token",
    );
    node.shutdown().await;
}

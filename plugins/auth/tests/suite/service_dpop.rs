//! DPoP (RFC 9449): proofs at the token endpoint bind tokens (`cnf.jkt`);
//! the gateway requires a fresh proof of that key for each request.

use serde_json::json;
use warden_plugin_auth::service::{ServiceError, TokenRequest};

use crate::fixtures::NOW;
use crate::service_fixtures::*;

const TOKEN_URL: &str = "https://acme.test/oauth/token";
const API_URL: &str = "https://api.acme.test/orders";

/// Alice's tokens bound to `key`.
async fn bound_tokens(svc: &Svc, key: &DpopKey) -> warden_plugin_auth::service::TokenResponse {
    let proof = key.proof("POST", TOKEN_URL, "token-1", None);
    let verified = svc
        .service()
        .dpop()
        .verify_proof(&svc.acme, &proof, "POST", TOKEN_URL, None, NOW)
        .await
        .unwrap();
    assert_eq!(verified.jkt, key.jkt());
    let auth = svc.login().await;
    let code = svc.code_for(&auth).await;
    let request = TokenRequest {
        dpop_jkt: Some(verified.jkt),
        ..svc.code_request(&code)
    };
    svc.service()
        .token(&svc.issuer, request, NOW)
        .await
        .unwrap()
}

async fn check(
    svc: &Svc,
    principal_jkt: Option<&str>,
    token: &str,
    proof: Option<&str>,
    method: &str,
    url: &str,
) -> Result<(), ServiceError> {
    svc.service()
        .dpop()
        .check_request(&svc.acme, principal_jkt, token, proof, method, url, NOW)
        .await
}

#[tokio::test]
async fn tokens_issued_with_a_proof_carry_cnf_jkt_and_pass_with_a_fresh_proof() {
    let svc = Svc::new().await;
    let key = DpopKey::new(1);
    let tokens = bound_tokens(&svc, &key).await;
    assert_eq!(tokens.token_type, "DPoP");
    assert_eq!(
        payload(&tokens.access_token)["cnf"]["jkt"],
        key.jkt().as_str()
    );
    // Sent as RFC 9449 wants it: `Authorization: DPoP <token>`.
    let principal = svc
        .node
        .verifier
        .verify(
            &svc.acme,
            Some(&format!("DPoP {}", tokens.access_token)),
            &warden_plugin_auth::RoutePolicy::default(),
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(principal.dpop_jkt.as_deref(), Some(key.jkt().as_str()));
    let proof = key.proof("GET", API_URL, "r-1", Some(&tokens.access_token));
    // Query and fragment of the request URL are not part of htu; case and
    // default port are normalised.
    check(
        &svc,
        principal.dpop_jkt.as_deref(),
        &tokens.access_token,
        Some(&proof),
        "GET",
        "https://API.acme.test:443/orders?page=2",
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_token_bound_to_a_key_used_without_a_proof_is_refused() {
    let svc = Svc::new().await;
    let key = DpopKey::new(1);
    let tokens = bound_tokens(&svc, &key).await;
    let principal = svc.gateway(&tokens.access_token, NOW).await.unwrap();
    let error = check(
        &svc,
        principal.dpop_jkt.as_deref(),
        &tokens.access_token,
        None,
        "GET",
        API_URL,
    )
    .await
    .unwrap_err();
    assert_eq!((error.code(), error.status()), ("invalid_dpop_proof", 400));
    // An unbound token needs no proof.
    check(&svc, None, "whatever", None, "GET", API_URL)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_dpop_proof_reused_is_refused() {
    let svc = Svc::new().await;
    let key = DpopKey::new(1);
    let tokens = bound_tokens(&svc, &key).await;
    let jkt = key.jkt();
    let proof = key.proof("GET", API_URL, "r-1", Some(&tokens.access_token));
    check(
        &svc,
        Some(&jkt),
        &tokens.access_token,
        Some(&proof),
        "GET",
        API_URL,
    )
    .await
    .unwrap();
    let error = check(
        &svc,
        Some(&jkt),
        &tokens.access_token,
        Some(&proof),
        "GET",
        API_URL,
    )
    .await
    .unwrap_err();
    assert_eq!(
        error,
        ServiceError::InvalidDpopProof("proof was already used")
    );
    // Across nodes too: a second service instance over the same store.
    let other = SvcNode::new(svc.kv.clone(), test_settings());
    let error = other
        .service
        .dpop()
        .check_request(
            &svc.acme,
            Some(&jkt),
            &tokens.access_token,
            Some(&proof),
            "GET",
            API_URL,
            NOW,
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_dpop_proof");
}

#[tokio::test]
async fn a_dpop_proof_for_another_url_is_refused() {
    let svc = Svc::new().await;
    let key = DpopKey::new(1);
    let tokens = bound_tokens(&svc, &key).await;
    let proof = key.proof("GET", API_URL, "r-2", Some(&tokens.access_token));
    let error = check(
        &svc,
        Some(&key.jkt()),
        &tokens.access_token,
        Some(&proof),
        "GET",
        "https://api.acme.test/admin",
    )
    .await
    .unwrap_err();
    assert_eq!(
        error,
        ServiceError::InvalidDpopProof("htu does not match the URL")
    );
}

#[tokio::test]
async fn a_dpop_proof_for_another_method_is_refused() {
    let svc = Svc::new().await;
    let key = DpopKey::new(1);
    let tokens = bound_tokens(&svc, &key).await;
    let proof = key.proof("GET", API_URL, "r-3", Some(&tokens.access_token));
    let error = check(
        &svc,
        Some(&key.jkt()),
        &tokens.access_token,
        Some(&proof),
        "DELETE",
        API_URL,
    )
    .await
    .unwrap_err();
    assert_eq!(
        error,
        ServiceError::InvalidDpopProof("htm does not match the method")
    );
}

#[tokio::test]
async fn a_dpop_proof_for_another_access_token_or_outside_its_iat_window_is_refused() {
    let svc = Svc::new().await;
    let key = DpopKey::new(1);
    let tokens = bound_tokens(&svc, &key).await;
    let jkt = key.jkt();
    let proof = key.proof("GET", API_URL, "r-4", Some("another-token"));
    let error = check(
        &svc,
        Some(&jkt),
        &tokens.access_token,
        Some(&proof),
        "GET",
        API_URL,
    )
    .await
    .unwrap_err();
    assert_eq!(
        error,
        ServiceError::InvalidDpopProof("ath does not match the access token")
    );
    let stale = key.proof_with(
        json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": key.jwk}),
        json!({"htm": "GET", "htu": API_URL, "iat": NOW - 600, "jti": "r-5",
               "ath": warden_plugin_auth::service::access_token_hash(&tokens.access_token)}),
    );
    let error = check(
        &svc,
        Some(&jkt),
        &tokens.access_token,
        Some(&stale),
        "GET",
        API_URL,
    )
    .await
    .unwrap_err();
    assert_eq!(
        error,
        ServiceError::InvalidDpopProof("iat is outside the accepted window")
    );
}

#[tokio::test]
async fn a_dpop_proof_signed_by_another_key_is_refused() {
    let svc = Svc::new().await;
    let key = DpopKey::new(1);
    let thief = DpopKey::new(2);
    let tokens = bound_tokens(&svc, &key).await;
    let jkt = key.jkt();
    // The thief proves possession of their own key: not the token's.
    let proof = thief.proof("GET", API_URL, "t-1", Some(&tokens.access_token));
    let error = check(
        &svc,
        Some(&jkt),
        &tokens.access_token,
        Some(&proof),
        "GET",
        API_URL,
    )
    .await
    .unwrap_err();
    assert_eq!(
        error,
        ServiceError::InvalidDpopProof("the proof is signed by another key than the token's")
    );
    // Or puts the victim's public jwk in the header and signs with theirs.
    let forged = thief.proof_with(
        json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": key.jwk}),
        json!({"htm": "GET", "htu": API_URL, "iat": NOW, "jti": "t-2"}),
    );
    let error = check(
        &svc,
        Some(&jkt),
        &tokens.access_token,
        Some(&forged),
        "GET",
        API_URL,
    )
    .await
    .unwrap_err();
    assert_eq!(
        error,
        ServiceError::InvalidDpopProof("signature does not verify")
    );
}

#[tokio::test]
async fn dpop_headers_with_private_keys_or_wrong_typ_are_refused() {
    let svc = Svc::new().await;
    let key = DpopKey::new(1);
    let mut private = key.jwk.clone();
    private["d"] = json!("AAAA");
    let claims = json!({"htm": "POST", "htu": TOKEN_URL, "iat": NOW, "jti": "p-1"});
    for header in [
        json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": private}),
        json!({"typ": "JWT", "alg": "EdDSA", "jwk": key.jwk}),
        json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": key.jwk}),
        json!({"typ": "dpop+jwt", "alg": "EdDSA"}),
    ] {
        let proof = key.proof_with(header, claims.clone());
        let result = svc
            .service()
            .dpop()
            .verify_proof(&svc.acme, &proof, "POST", TOKEN_URL, None, NOW)
            .await;
        assert_eq!(result.unwrap_err().code(), "invalid_dpop_proof");
    }
}

#[tokio::test]
async fn a_bound_refresh_token_needs_the_same_key() {
    let svc = Svc::new().await;
    let key = DpopKey::new(1);
    let tokens = bound_tokens(&svc, &key).await;
    let refresh = tokens.refresh_token.unwrap();
    let stolen = svc.refresh(&refresh, NOW + 1).await.unwrap_err();
    assert_eq!(stolen.code(), "invalid_grant");
    let request = TokenRequest {
        dpop_jkt: Some(key.jkt()),
        ..svc.refresh_request(&refresh)
    };
    let next = svc
        .service()
        .token(&svc.issuer, request, NOW + 2)
        .await
        .unwrap();
    assert_eq!(
        payload(&next.access_token)["cnf"]["jkt"],
        key.jkt().as_str()
    );
}

#[tokio::test]
async fn es256_proofs_verify_and_their_alg_must_match_the_jwk() {
    let svc = Svc::new().await;
    let key = DpopKey::es256(7);
    let proof = key.proof("POST", TOKEN_URL, "es-1", None);
    let verified = svc
        .service()
        .dpop()
        .verify_proof(&svc.acme, &proof, "POST", TOKEN_URL, None, NOW)
        .await
        .unwrap();
    assert_eq!(verified.jkt, key.jkt());
    // An EC jwk under alg EdDSA is refused before any signature check.
    let mismatched = key.proof_with(
        json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": key.jwk}),
        json!({"htm": "POST", "htu": TOKEN_URL, "iat": NOW, "jti": "es-2"}),
    );
    let error = svc
        .service()
        .dpop()
        .verify_proof(&svc.acme, &mismatched, "POST", TOKEN_URL, None, NOW)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_dpop_proof");
}

#[tokio::test]
async fn rs256_proofs_verify_and_bind_tokens_to_their_thumbprint() {
    let svc = Svc::new().await;
    let key = DpopKey::rs256();
    let tokens = bound_tokens(&svc, &key).await;
    assert_eq!(
        payload(&tokens.access_token)["cnf"]["jkt"],
        key.jkt().as_str()
    );
    let proof = key.proof("GET", API_URL, "rs-1", Some(&tokens.access_token));
    check(
        &svc,
        Some(&key.jkt()),
        &tokens.access_token,
        Some(&proof),
        "GET",
        API_URL,
    )
    .await
    .unwrap();
}

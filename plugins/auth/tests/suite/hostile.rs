//! The hostile-token suite: each token here must be refused, with the
//! reason named. A control test first proves that a token forged the same
//! way but well formed is accepted, so every refusal below is for the one
//! thing that test changes.

use serde_json::json;
use warden_plugin_auth::{Reason, RoutePolicy};

use crate::fixtures::*;

#[tokio::test]
async fn control_a_well_formed_forged_hs256_token_is_accepted() {
    let env = Env::new().await;
    let token = hs_token(&env.hs_header(json!({})), &claims());
    let principal = env.verify(&token, &RoutePolicy::default()).await.unwrap();
    assert_eq!(principal.subject, "user-1");
    let signed = env.sign(&claims()).await;
    assert_eq!(
        env.verify(&signed, &RoutePolicy::default())
            .await
            .unwrap()
            .issuer,
        ACME_ISS
    );
}

async fn alg_none(alg: &str, signature: &str) {
    let env = Env::new().await;
    let header = json!({"alg": alg, "kid": env.ed.kid}).to_string();
    let token = format!(
        "{}.{}.{signature}",
        b64(header.as_bytes()),
        b64(claims().to_string().as_bytes())
    );
    env.assert_invalid(&token, Reason::AlgNone).await;
}

#[tokio::test]
async fn alg_none_lowercase() {
    alg_none("none", "c2ln").await;
}

#[tokio::test]
async fn alg_none_capitalised() {
    alg_none("None", "c2ln").await;
}

#[tokio::test]
async fn alg_none_uppercase() {
    alg_none("NONE", "c2ln").await;
}

#[tokio::test]
async fn alg_none_mixed_case_with_a_real_signature() {
    let env = Env::new().await;
    let real = env.sign(&claims()).await;
    let signature = real.rsplit('.').next().unwrap().to_owned();
    alg_none("nOnE", &signature).await;
}

#[tokio::test]
async fn alg_none_without_signature_segment() {
    let env = Env::new().await;
    let header = json!({"alg": "none", "kid": env.ed.kid}).to_string();
    let token = format!(
        "{}.{}.",
        b64(header.as_bytes()),
        b64(claims().to_string().as_bytes())
    );
    env.assert_invalid(&token, Reason::Malformed).await;
}

#[tokio::test]
async fn hs256_signed_with_the_tenants_public_key_as_secret() {
    let env = Env::new().await;
    let jwk = env.ed.public_jwk.clone().unwrap();
    let x = jwk["x"].as_str().unwrap();
    // The attacker signs with the spellings of the public key he can see:
    // its raw bytes, its base64url `x`, and the whole JWK.
    let raw = crate::fixtures::b64_decode(x);
    for secret in [raw, x.as_bytes().to_vec(), jwk.to_string().into_bytes()] {
        let header = json!({"alg": "HS256", "kid": env.ed.kid}).to_string();
        let token = hs_token_raw(&header, &claims().to_string(), &secret);
        env.assert_invalid(&token, Reason::AlgMismatch).await;
    }
}

#[tokio::test]
async fn unknown_kid() {
    let env = Env::new().await;
    let token = hs_token(&env.hs_header(json!({"kid": "no-such-key"})), &claims());
    env.assert_invalid(&token, Reason::UnknownKid).await;
}

#[tokio::test]
async fn kid_with_path_characters() {
    let env = Env::new().await;
    for kid in ["../../etc/passwd", "keys/k1", "..", "k1\\x"] {
        let token = hs_token(&env.hs_header(json!({"kid": kid})), &claims());
        env.assert_invalid(&token, Reason::BadKid).await;
    }
}

#[tokio::test]
async fn kid_with_quote_characters() {
    let env = Env::new().await;
    for kid in ["k\"1", "k'1", "k1\" OR \"1\"=\"1", "k1\n"] {
        let token = hs_token(&env.hs_header(json!({"kid": kid})), &claims());
        env.assert_invalid(&token, Reason::BadKid).await;
    }
}

async fn key_locating_header(name: &str, value: serde_json::Value) {
    let env = Env::new().await;
    let token = hs_token(&env.hs_header(json!({ name: value })), &claims());
    env.assert_invalid(&token, Reason::ForbiddenHeader).await;
}

#[tokio::test]
async fn jku_pointing_elsewhere() {
    key_locating_header("jku", json!("https://attacker.example/jwks.json")).await;
}

#[tokio::test]
async fn x5u_pointing_elsewhere() {
    key_locating_header("x5u", json!("https://attacker.example/cert.pem")).await;
}

#[tokio::test]
async fn x5c_embedded_certificate() {
    key_locating_header("x5c", json!(["MIIBszCCAVmgAwIBAgIU"])).await;
}

#[tokio::test]
async fn embedded_jwk() {
    let jwk = json!({"kty": "oct", "k": b64(HS_SECRET)});
    key_locating_header("jwk", jwk).await;
}

#[tokio::test]
async fn expired() {
    let env = Env::new().await;
    let token = hs_token(
        &env.hs_header(json!({})),
        &claims_with(json!({"iat": NOW - 400, "exp": NOW - 31})),
    );
    env.assert_invalid(&token, Reason::Expired).await;
}

#[tokio::test]
async fn nbf_in_the_future() {
    let env = Env::new().await;
    let token = hs_token(
        &env.hs_header(json!({})),
        &claims_with(json!({"nbf": NOW + 60})),
    );
    env.assert_invalid(&token, Reason::NotYetValid).await;
}

#[tokio::test]
async fn iat_in_the_future() {
    let env = Env::new().await;
    let token = hs_token(
        &env.hs_header(json!({})),
        &claims_with(json!({"iat": NOW + 60, "exp": NOW + 120})),
    );
    env.assert_invalid(&token, Reason::IssuedInFuture).await;
}

#[tokio::test]
async fn lifetime_over_the_maximum() {
    let env = Env::new().await;
    let token = hs_token(
        &env.hs_header(json!({})),
        &claims_with(json!({"exp": NOW + 901})),
    );
    env.assert_invalid(&token, Reason::LifetimeTooLong).await;
    // Without iat, exp - now counts.
    let token = hs_token(
        &env.hs_header(json!({})),
        &claims_with(json!({"iat": null, "exp": NOW + 3600})),
    );
    env.assert_invalid(&token, Reason::LifetimeTooLong).await;
}

async fn missing(claim: &str) {
    let env = Env::new().await;
    let token = hs_token(
        &env.hs_header(json!({})),
        &claims_with(json!({ claim: null })),
    );
    env.assert_invalid(&token, Reason::MissingClaim).await;
}

#[tokio::test]
async fn exp_missing() {
    missing("exp").await;
}

#[tokio::test]
async fn iss_missing() {
    missing("iss").await;
}

#[tokio::test]
async fn aud_missing() {
    missing("aud").await;
}

#[tokio::test]
async fn sub_missing() {
    missing("sub").await;
}

#[tokio::test]
async fn wrong_aud() {
    let env = Env::new().await;
    let token = hs_token(
        &env.hs_header(json!({})),
        &claims_with(json!({"aud": ["other-api"]})),
    );
    env.assert_invalid(&token, Reason::WrongAudience).await;
}

#[tokio::test]
async fn iss_as_an_array() {
    let env = Env::new().await;
    let token = hs_token(
        &env.hs_header(json!({})),
        &claims_with(json!({"iss": [ACME_ISS]})),
    );
    env.assert_invalid(&token, Reason::InvalidClaim).await;
}

#[tokio::test]
async fn aud_as_an_object() {
    let env = Env::new().await;
    let token = hs_token(
        &env.hs_header(json!({})),
        &claims_with(json!({"aud": {"0": ACME_AUD}})),
    );
    env.assert_invalid(&token, Reason::InvalidClaim).await;
}

#[tokio::test]
async fn wrong_typ() {
    let env = Env::new().await;
    for typ in [json!("JOSE"), json!("dpop+jwt"), json!(1)] {
        let token = hs_token(&env.hs_header(json!({ "typ": typ })), &claims());
        env.assert_invalid(&token, Reason::BadTyp).await;
    }
}

#[tokio::test]
async fn unknown_crit() {
    let env = Env::new().await;
    let header = env.hs_header(
        json!({"crit": ["urn:example:must-understand"], "urn:example:must-understand": true}),
    );
    env.assert_invalid(&hs_token(&header, &claims()), Reason::UnknownCrit)
        .await;
}

#[tokio::test]
async fn duplicate_claims_in_the_json() {
    let env = Env::new().await;
    let header = env.hs_header(json!({})).to_string();
    let payload = format!(
        r#"{{"iss":"{ACME_ISS}","aud":"{ACME_AUD}","sub":"user-1","sub":"admin","exp":{}}}"#,
        NOW + 60
    );
    let token = hs_token_raw(&header, &payload, HS_SECRET);
    env.assert_invalid(&token, Reason::DuplicateMember).await;
    // In the header too.
    let header = format!(r#"{{"alg":"HS256","kid":"{}","kid":"other"}}"#, env.hs.kid);
    let token = hs_token_raw(&header, &claims().to_string(), HS_SECRET);
    env.assert_invalid(&token, Reason::DuplicateMember).await;
}

#[tokio::test]
async fn non_url_safe_base64() {
    use base64::Engine;
    let env = Env::new().await;
    // `?>` and `~~~` encode to `+` and `/` in the standard alphabet.
    let payload = claims_with(json!({"note": "?>?>~~~"})).to_string();
    let standard = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&payload);
    assert!(standard.contains('+') || standard.contains('/'));
    let header = b64(env.hs_header(json!({})).to_string().as_bytes());
    let token = format!("{header}.{standard}.{}", b64(b"sig"));
    env.assert_invalid(&token, Reason::BadBase64).await;
}

#[tokio::test]
async fn padded_base64() {
    let env = Env::new().await;
    let good = hs_token(&env.hs_header(json!({})), &claims());
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[2].push_str("==");
    env.assert_invalid(&parts.join("."), Reason::BadBase64)
        .await;
}

#[tokio::test]
async fn extra_segments() {
    let env = Env::new().await;
    let good = hs_token(&env.hs_header(json!({})), &claims());
    env.assert_invalid(&format!("{good}.{}", b64(b"x")), Reason::Malformed)
        .await;
    env.assert_invalid(&format!("{good}.."), Reason::Malformed)
        .await;
}

#[tokio::test]
async fn truncated() {
    let env = Env::new().await;
    let good = env.sign(&claims()).await;
    let cut = &good[..good.find('.').unwrap() + 10];
    env.assert_invalid(cut, Reason::Malformed).await;
}

#[tokio::test]
async fn over_8_kib() {
    let env = Env::new().await;
    let token = hs_token(
        &env.hs_header(json!({})),
        &claims_with(json!({"pad": "x".repeat(8 * 1024)})),
    );
    env.assert_invalid(&token, Reason::TooLarge).await;
}

#[tokio::test]
async fn signature_stripped() {
    let env = Env::new().await;
    let good = env.sign(&claims()).await;
    let unsigned = &good[..good.rfind('.').unwrap()];
    env.assert_invalid(&format!("{unsigned}."), Reason::Malformed)
        .await;
    env.assert_invalid(unsigned, Reason::Malformed).await;
}

#[tokio::test]
async fn signature_of_another_token() {
    let env = Env::new().await;
    let mine = env.sign(&claims()).await;
    let admin = env.sign(&claims_with(json!({"sub": "admin"}))).await;
    let spliced = format!(
        "{}.{}",
        &admin[..admin.rfind('.').unwrap()],
        mine.rsplit('.').next().unwrap()
    );
    env.assert_invalid(&spliced, Reason::BadSignature).await;
}

#[tokio::test]
async fn signed_by_another_tenants_key() {
    let env = Env::new().await;
    // Tenant "evil" claims acme's issuer and audience for its own keys.
    let evil = tenant("evil");
    env.node.verifier.set_tenant(&evil, acme_config()).unwrap();
    env.node
        .keys
        .create(&evil, Default::default(), NOW - 60)
        .await
        .unwrap();
    let token = env.node.keys.sign(&evil, &claims(), NOW).await.unwrap();
    env.assert_invalid(&token, Reason::UnknownKid).await;
    // And acme's token does not verify for evil either.
    let acme_token = env.sign(&claims()).await;
    let error = env
        .node
        .verifier
        .verify(
            &evil,
            Some(&format!("Bearer {acme_token}")),
            &RoutePolicy::default(),
            NOW,
        )
        .await
        .unwrap_err();
    assert_eq!(error.reason(), Reason::UnknownKid);
}

#[tokio::test]
async fn signed_by_a_retired_key() {
    let env = Env::new().await;
    let token = env.sign(&claims()).await;
    env.verify(&token, &RoutePolicy::default()).await.unwrap();
    env.node.keys.retire(&env.acme, &env.ed.kid).await.unwrap();
    // Also after it was cached as verified.
    env.assert_invalid(&token, Reason::UnknownKid).await;
}

#[tokio::test]
async fn replayed_single_use_token() {
    let env = Env::new().await;
    let policy = RoutePolicy {
        single_use: true,
        ..RoutePolicy::default()
    };
    let token = env.sign(&claims()).await;
    env.verify(&token, &policy).await.unwrap();
    let error = env.verify(&token, &policy).await.unwrap_err();
    assert_invalid_token(&error, Reason::Replayed, &token);
    // A single-use route needs a jti at all.
    let no_jti = env.sign(&claims_with(json!({"jti": null}))).await;
    let error = env.verify(&no_jti, &policy).await.unwrap_err();
    assert_invalid_token(&error, Reason::MissingJti, &no_jti);
}

#[tokio::test]
async fn missing_or_foreign_authorization_header() {
    let env = Env::new().await;
    let policy = RoutePolicy::default();
    let error = env
        .node
        .verifier
        .verify(&env.acme, None, &policy, NOW)
        .await
        .unwrap_err();
    assert_invalid_token(&error, Reason::MissingToken, "");
    let error = env
        .node
        .verifier
        .verify(&env.acme, Some("Basic dXNlcjpwYXNz"), &policy, NOW)
        .await
        .unwrap_err();
    assert_invalid_token(&error, Reason::NotBearer, "");
}

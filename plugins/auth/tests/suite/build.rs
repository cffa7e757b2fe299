//! The host's way in: `build(config, kv)` from TOML, end to end.

use std::sync::Arc;

use warden_plugin_auth::{
    BuildError, Config, KEK_FILE, Kek, KekSource, KeyError, RoutePolicy, build,
};
use warden_plugin_kv::KvStore;

use crate::contract::redb_kv;
use crate::fixtures::*;

#[tokio::test]
async fn a_redb_node_from_toml_signs_verifies_and_survives_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let (kv, _kv_dir) = redb_kv().await;
    let text = format!(
        "kek = {{ type = \"file\", dir = {:?} }}\n[keys]\ntype = \"kv\"\n[replay]\ntype = \"kv\"\n",
        data.path()
    );
    let config: Config = toml::from_str(&text).unwrap();
    let acme = tenant("acme");
    let token = {
        let auth = build(&config, Some(kv.clone())).await.unwrap();
        auth.verifier.set_tenant(&acme, acme_config()).unwrap();
        auth.keys
            .create(&acme, Default::default(), NOW - 10)
            .await
            .unwrap();
        auth.keys.sign(&acme, &claims(), NOW).await.unwrap()
    };
    assert!(data.path().join(KEK_FILE).exists());
    // A restarted node: same data dir (KEK), same kv.
    let auth = build(&config, Some(kv.clone())).await.unwrap();
    auth.verifier.set_tenant(&acme, acme_config()).unwrap();
    let single = RoutePolicy {
        single_use: true,
        ..RoutePolicy::default()
    };
    let header = format!("Bearer {token}");
    auth.verifier
        .verify(&acme, Some(&header), &single, NOW)
        .await
        .unwrap();
    let error = auth
        .verifier
        .verify(&acme, Some(&header), &single, NOW)
        .await
        .unwrap_err();
    assert_eq!(error.reason(), warden_plugin_auth::Reason::Replayed);
    assert!(kv.get(&acme, "__warden/auth/keys").await.unwrap().is_some());
}

#[tokio::test]
async fn kv_backends_without_a_kv_store_are_a_config_error() {
    let config: Config =
        toml::from_str("kek = { type = \"env\", var = \"X\" }\n[keys]\ntype = \"kv\"\n").unwrap();
    assert!(matches!(
        build(&config, None).await,
        Err(BuildError::Config(_))
    ));
}

#[tokio::test]
async fn a_missing_kek_variable_is_refused() {
    let source = KekSource::Env {
        var: "WARDEN_AUTH_TEST_KEK_THAT_IS_NEVER_SET".into(),
    };
    assert!(matches!(Kek::load(&source), Err(KeyError::Kek(_))));
    let config = Config {
        kek: source,
        ..toml::from_str::<Config>(
            "kek = { type = \"env\", var = \"X\" }\nkeys = { type = \"memory\" }\nreplay = { type = \"memory\" }",
        )
        .unwrap()
    };
    let kv: Option<Arc<dyn KvStore>> = None;
    assert!(matches!(build(&config, kv).await, Err(BuildError::Kek(_))));
}

#[tokio::test]
async fn a_jwks_ca_file_without_a_certificate_is_a_config_error_naming_it() {
    let data = tempfile::tempdir().unwrap();
    let not_pem = data.path().join("not-a-ca.pem");
    std::fs::write(&not_pem, "this is not a certificate\n").unwrap();
    let missing = data.path().join("missing.pem");
    for (path, says) in [
        (&not_pem, "no PEM certificate"),
        (&missing, "cannot be read"),
    ] {
        let mut config = Config::embedded(data.path());
        config.keys = warden_plugin_auth::KeyStoreConfig::Memory;
        config.replay = warden_plugin_auth::ReplayConfig::Memory;
        config.jwks_ca_file = Some(path.clone());
        let error = build(&config, None).await.unwrap_err();
        let BuildError::Config(error) = error else {
            panic!("not a config error: {error}");
        };
        let text = error.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(text.contains(says), "{text}");
    }
}

#[tokio::test]
async fn build_wires_the_token_service_to_the_verifiers_revocation_list() {
    use warden_plugin_auth::service::Issuer;

    let data = tempfile::tempdir().unwrap();
    let (kv, _kv_dir) = redb_kv().await;
    let text = format!("kek = {{ type = \"file\", dir = {:?} }}\n", data.path());
    let config: Config = toml::from_str(&text).unwrap();
    assert_eq!(config.revocation_cache_ms, 1000);
    let auth = build(&config, Some(kv.clone())).await.unwrap();
    let acme = tenant("acme");
    auth.verifier.set_tenant(&acme, acme_config()).unwrap();
    auth.keys
        .create(&acme, Default::default(), NOW - 10)
        .await
        .unwrap();
    let service = auth
        .token_service(kv, crate::service_fixtures::test_settings())
        .unwrap();
    let svc_issuer = Issuer::from_config(&acme, &acme_config()).unwrap();
    let (client, _) = service
        .register_client(
            &acme,
            warden_plugin_auth::service::NewClient {
                name: "app".into(),
                kind: warden_plugin_auth::service::ClientKind::Public,
                redirect_uris: vec![crate::service_fixtures::REDIRECT.into()],
                grant_types: vec![warden_plugin_auth::service::GrantType::AuthorizationCode],
                scopes: vec!["orders:read".into()],
            },
            NOW,
        )
        .await
        .unwrap();
    let user = service
        .create_user(
            &acme,
            warden_plugin_auth::service::NewUser {
                username: "alice".into(),
                password: "correct horse".into(),
            },
            NOW,
        )
        .await
        .unwrap();
    let auth_done = warden_plugin_auth::service::Authentication {
        user_id: user.user_id,
        acr: "pwd".into(),
        amr: vec!["pwd".into()],
        auth_time: NOW,
    };
    let validated = service
        .validate_authorize(
            &acme,
            &warden_plugin_auth::service::AuthorizeRequest {
                response_type: Some("code".into()),
                client_id: Some(client.client_id.clone()),
                redirect_uri: Some(crate::service_fixtures::REDIRECT.into()),
                state: Some("s".into()),
                code_challenge: Some(warden_plugin_auth::service::s256_challenge(
                    crate::service_fixtures::VERIFIER,
                )),
                code_challenge_method: Some("S256".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let location = service
        .issue_code(&acme, &validated, &auth_done, NOW)
        .await
        .unwrap()
        .location;
    let code = crate::service_fixtures::param(&location, "code").unwrap();
    let tokens = service
        .token(
            &svc_issuer,
            warden_plugin_auth::service::TokenRequest {
                grant_type: "authorization_code",
                code: Some(&code),
                redirect_uri: Some(crate::service_fixtures::REDIRECT),
                code_verifier: Some(crate::service_fixtures::VERIFIER),
                client_id: &client.client_id,
                ..Default::default()
            },
            NOW,
        )
        .await
        .unwrap();
    let header = format!("Bearer {}", tokens.access_token);
    let policy = RoutePolicy::default();
    auth.verifier
        .verify(&acme, Some(&header), &policy, NOW)
        .await
        .unwrap();
    // Revoked through the service: this node's gateway refuses at once,
    // despite the 1 s negative cache.
    let fid = crate::service_fixtures::payload(&tokens.access_token)["fid"]
        .as_str()
        .unwrap()
        .to_owned();
    service.revoke_family(&acme, &fid, NOW).await.unwrap();
    let error = auth
        .verifier
        .verify(&acme, Some(&header), &policy, NOW)
        .await
        .unwrap_err();
    assert_eq!(error.reason(), warden_plugin_auth::Reason::FamilyRevoked);
}

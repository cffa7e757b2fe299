//! Scoped admin API tokens.

use warden_plugin_auth::service::{AdminScope, NewAdminToken, ServiceError};

use crate::fixtures::{NOW, tenant};
use crate::service_fixtures::*;

fn spec(scopes: Vec<AdminScope>) -> NewAdminToken {
    NewAdminToken {
        name: "ci".into(),
        scopes,
        expires_at: NOW + 3600,
    }
}

#[tokio::test]
async fn admin_tokens_verify_to_their_tenant_and_scopes_until_revoked_or_expired() {
    let svc = Svc::new().await;
    let service = svc.service();
    let grant = service
        .create_admin_token(
            &svc.acme,
            spec(vec![AdminScope::Deploy, AdminScope::Read]),
            NOW,
        )
        .await
        .unwrap();
    assert!(grant.token.starts_with("wat_"));
    assert!(!format!("{grant:?}").contains(&grant.token));
    let verified = service
        .verify_admin_token(&svc.acme, &grant.token, NOW)
        .await
        .unwrap();
    assert_eq!(verified.tenant, svc.acme);
    assert!(verified.allows(AdminScope::Deploy) && !verified.allows(AdminScope::Keys));
    let listed = service.list_admin_tokens(&svc.acme).await.unwrap();
    assert_eq!(listed, vec![grant.info.clone()]);
    let stored = serde_json::to_string(&listed).unwrap();
    assert!(!stored.contains(&grant.token));
    // Another tenant, a tampered token, expiry, revocation.
    let globex = tenant("globex");
    assert_eq!(
        service
            .verify_admin_token(&globex, &grant.token, NOW)
            .await
            .unwrap_err(),
        ServiceError::InvalidToken
    );
    let tampered = format!("{}x", grant.token);
    assert!(
        service
            .verify_admin_token(&svc.acme, &tampered, NOW)
            .await
            .is_err()
    );
    assert!(
        service
            .verify_admin_token(&svc.acme, &grant.token, NOW + 3600)
            .await
            .is_err()
    );
    service
        .revoke_admin_token(&svc.acme, &grant.info.token_id)
        .await
        .unwrap();
    assert!(
        service
            .verify_admin_token(&svc.acme, &grant.token, NOW)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn admin_tokens_need_scopes_and_a_bounded_expiry() {
    let svc = Svc::new().await;
    let service = svc.service();
    assert!(
        service
            .create_admin_token(&svc.acme, spec(vec![]), NOW)
            .await
            .is_err()
    );
    let forever = NewAdminToken {
        expires_at: NOW + 10 * 365 * 24 * 3600,
        ..spec(vec![AdminScope::Admin])
    };
    assert!(
        service
            .create_admin_token(&svc.acme, forever, NOW)
            .await
            .is_err()
    );
    let admin = service
        .create_admin_token(&svc.acme, spec(vec![AdminScope::Admin]), NOW)
        .await
        .unwrap();
    let verified = service
        .verify_admin_token(&svc.acme, &admin.token, NOW)
        .await
        .unwrap();
    assert!(verified.allows(AdminScope::Keys) && verified.allows(AdminScope::Users));
}

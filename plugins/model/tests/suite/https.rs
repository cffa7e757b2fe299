//! The OpenAI-compatible provider over HTTPS: the fake speaks TLS with a
//! certificate from a throwaway CA; the provider trusts it only through
//! its `ca_file`.

use std::time::Duration;

use warden_plugin_model::{
    Config, ConfigError, ModelError, OpenAiConfig, ProviderConfig, StreamEvent,
};
use warden_plugin_testing::TestCa;
use warden_plugin_testing::fake_openai::FakeOpenAi;

use crate::fixtures::{CHAT, ctx, drain, fast, harness, openai, tenant};

fn with_ca_file(mut config: Config, ca_file: Option<std::path::PathBuf>) -> Config {
    if let Some(ProviderConfig::Openai(OpenAiConfig { ca_file: f, .. })) =
        config.providers.get_mut("fake")
    {
        *f = ca_file;
    }
    config
}

#[tokio::test]
async fn completes_and_streams_over_https_with_the_configured_ca() {
    let ca = TestCa::new();
    let fake = FakeOpenAi::start_tls(&ca).await;
    assert!(fake.base_url().starts_with("https://localhost:"));
    let dir = tempfile::tempdir().unwrap();
    let config = with_ca_file(
        openai(&fake.base_url(), fast()),
        Some(ca.write_ca_file(dir.path())),
    );
    config.validate().unwrap();
    let h = harness(&config).await;
    let request = warden_plugin_model::CompletionRequest::user("chat", "hello");
    let completion = h
        .service
        .complete(&tenant(), &ctx(), request.clone())
        .await
        .unwrap();
    assert_eq!(completion.text, "this is a fake completion of eight words");
    let stream = h.service.stream(&tenant(), &ctx(), request).await.unwrap();
    let (chunks, last) = drain(stream).await;
    assert_eq!(chunks.len(), 8, "{chunks:?}");
    assert!(
        matches!(last, Some(Ok(StreamEvent::End { .. }))),
        "{last:?}"
    );
    assert_eq!(fake.requests(CHAT), 2);
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_before_any_request() {
    let ca = TestCa::new();
    let fake = FakeOpenAi::start_tls(&ca).await;
    let mut resilience = fast();
    resilience.max_retries = 0;
    resilience.total_timeout_ms = 5_000;
    let h = harness(&openai(&fake.base_url(), resilience)).await;
    let request = warden_plugin_model::CompletionRequest::user("chat", "hello");
    let error = tokio::time::timeout(
        Duration::from_secs(10),
        h.service.complete(&tenant(), &ctx(), request),
    )
    .await
    .unwrap()
    .unwrap_err();
    let ModelError::Unavailable(why) = &error else {
        panic!("expected Unavailable, got {error:?}");
    };
    assert!(why.contains("certificate"), "{why}");
    assert_eq!(
        fake.requests(CHAT),
        0,
        "no request without a trusted handshake"
    );
}

#[tokio::test]
async fn a_bad_ca_file_is_a_config_error_naming_the_provider() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("ca.pem");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    for path in [not_pem, dir.path().join("missing.pem")] {
        let config = with_ca_file(openai("https://localhost:1/v1", fast()), Some(path));
        let deps = crate::fixtures::deps();
        let Err(ConfigError(problems)) = warden_plugin_model::build(&config, deps).await else {
            panic!("a bad ca_file was accepted");
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("provider fake: "), "{problems:?}");
    }
}

//! A tenant's own model policy, from its manifest's `[model]` section to
//! the provider: `warden deploy` stores it on the tenant, the admin API
//! refuses what the node cannot serve, the reloader applies it, and a
//! guest's call of the alias reaches the fake OpenAI server with the
//! tenant's model. A/B variants are sticky per verified subject.

use crate::common::{TestNode, component};
use http::{Method, StatusCode, header};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use warden::api::{MintToken, NewKeyRequest, PutTenant, TenantAuthConfig};
use warden_plugin_testing::fake_openai::FakeOpenAi;
use warden_test_components as guests;

const CHAT_PATH: &str = "/v1/chat/completions";

/// A node with the fake as provider `fake` and `chat` on it as
/// `node-model`; `auth` turns the embedded auth plugin on.
async fn node(fake: &FakeOpenAi, auth: bool) -> TestNode {
    let model: warden_plugin_model::Config = toml::from_str(&format!(
        r#"
[providers.fake]
type = "openai"
base_url = "{}"
[aliases]
chat = {{ provider = "fake", model = "node-model" }}
"#,
        fake.base_url()
    ))
    .expect("model config");
    TestNode::start_with(move |c| {
        c.model = model;
        if auth {
            c.auth = Some(warden_plugin_auth::Config::embedded(&c.data_dir));
        }
    })
    .await
}

/// Writes `warden.toml` for tenant `tenant` with the model probe at
/// `/complete` and `extra` (TOML) after it; returns its path.
fn manifest(dir: &Path, tenant: &str, extra: &str) -> std::path::PathBuf {
    let path = dir.join("warden.toml");
    let text = format!(
        r#"
tenant = "{tenant}"
[[functions]]
name = "probe"
component = "{}"
routes = ["/complete"]
{extra}
"#,
        guests::MODEL_PROBE
    );
    std::fs::write(&path, text).expect("manifest");
    path
}

async fn complete(node: &TestNode, tenant: &str, body: Value, headers: &[(&str, &str)]) -> Value {
    let host = format!("{tenant}.localhost");
    let r = node
        .call_with(Method::POST, &host, "/complete", body.to_string(), headers)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

fn last_model(fake: &FakeOpenAi) -> Value {
    fake.bodies(CHAT_PATH)
        .last()
        .map(|b| b["model"].clone())
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifests_model_section_sends_the_tenants_alias_to_its_model() {
    let fake = FakeOpenAi::start().await;
    let node = node(&fake, false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let section = r#"
[model]
cache_ttl_secs = 0
[model.aliases]
chat = { provider = "fake", model = "acme-model" }
"#;
    warden::cli::deploy(&node.api(), &manifest(dir.path(), "acme", section))
        .await
        .expect("deploy");
    // Stored on the tenant, as the admin API shows it.
    let record = node.api().tenant("acme").await.expect("tenant");
    let stored = record.model.expect("model section stored");
    assert_eq!(stored.cache_ttl_secs, Some(0));
    // A neighbour without a section keeps the node's alias.
    node.deploy(
        "other",
        "probe",
        &["/complete"],
        &component(guests::MODEL_PROBE),
    )
    .await;

    let call = json!({"prompt": "hello", "seed": 1});
    let r = complete(&node, "acme", call.clone(), &[]).await;
    assert_eq!(r["ok"]["usage"]["model"], "acme-model", "{r}");
    assert_eq!(last_model(&fake), "acme-model");
    // cache_ttl_secs = 0: the same seeded call goes to the provider again.
    let again = complete(&node, "acme", call.clone(), &[]).await;
    assert_eq!(again["ok"]["usage"]["from_cache"], false, "{again}");
    assert_eq!(fake.requests(CHAT_PATH), 2);

    let r = complete(&node, "other", call.clone(), &[]).await;
    assert_eq!(r["ok"]["usage"]["model"], "node-model", "{r}");
    assert_eq!(last_model(&fake), "node-model");

    // Deploying the manifest without the section takes it away again.
    warden::cli::deploy(&node.api(), &manifest(dir.path(), "acme", ""))
        .await
        .expect("redeploy");
    let r = complete(&node, "acme", json!({"prompt": "hello again"}), &[]).await;
    assert_eq!(r["ok"]["usage"]["model"], "node-model", "{r}");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_section_the_node_cannot_serve_is_refused_with_every_problem() {
    let fake = FakeOpenAi::start().await;
    let node = node(&fake, false).await;
    let body = json!({"model": {
        "aliases": {"chat": {"provider": "openai-prod", "model": "gpt"}},
        "semantic_cache": {"chat": {"min_similarity": 2.0}},
        "warm_up": [{"alias": "nope", "prompt": "hi"}],
    }});
    let r = node
        .admin(Method::PUT, "/v1/tenants/acme", body.to_string())
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(
        r.headers[header::CONTENT_TYPE],
        "application/json",
        "{:?}",
        r.headers
    );
    let error = &r.json()["error"];
    assert_eq!(error["code"], "invalid_model", "{error}");
    let message = error["message"].as_str().expect("message");
    for part in [
        "unknown provider openai-prod",
        "builtin, fake",
        "min_similarity",
        "warm_up[0]: unknown alias nope",
    ] {
        assert!(message.contains(part), "{part:?} missing from {message}");
    }
    // Nothing was stored.
    let missing = node.admin(Method::GET, "/v1/tenants/acme", "").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // Unknown keys are refused by the parser, as everywhere in the API.
    let typo = json!({"model": {"alias": {}}});
    let r = node
        .admin(Method::PUT, "/v1/tenants/acme", typo.to_string())
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.text().contains("alias"), "{}", r.text());
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ab_variants_are_sticky_per_subject_and_split_by_weight() {
    let fake = FakeOpenAi::start().await;
    let node = node(&fake, true).await;
    let api = node.api();
    let section: warden_plugin_model::TenantModelConfig = toml::from_str(
        r#"
cache_ttl_secs = 0
[aliases]
ab = { variants = [
  { name = "a", provider = "fake", model = "m-a", weight = 70 },
  { name = "b", provider = "fake", model = "m-b", weight = 30 },
] }
"#,
    )
    .expect("section");
    let spec = PutTenant {
        auth: Some(TenantAuthConfig {
            issuer: Some("https://acme.test/".into()),
            audiences: vec!["acme-api".into()],
            ..TenantAuthConfig::default()
        }),
        model: Some(section.clone()),
        ..PutTenant::default()
    };
    api.put_tenant("acme", &spec).await.expect("tenant");
    api.create_key("acme", &NewKeyRequest::default())
        .await
        .expect("key");
    node.deploy(
        "acme",
        "probe",
        &["/complete"],
        &component(guests::MODEL_PROBE),
    )
    .await;

    // 10,000 subjects through the host's own resolution (the service the
    // guests call), then a sample of them through real requests.
    let tenant = warden_plugin_model::Tenant::new("acme").expect("tenant");
    let variants = &section.aliases["ab"].variants;
    let pick = |subject: &str| {
        warden_plugin_model::pick_variant(variants, &tenant, "ab", subject)
            .map(|v| v.name.clone())
            .expect("a variant")
    };
    let a = (0..10_000)
        .filter(|i| pick(&format!("user-{i}")) == "a")
        .count();
    assert!((6_700..=7_300).contains(&a), "{a} of 10000 on a (70%)");

    let subjects = 60;
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut per_model: HashMap<String, usize> = HashMap::new();
    for i in 0..subjects {
        let subject = format!("user-{i}");
        let minted = api
            .mint_token(
                "acme",
                &MintToken {
                    subject: subject.clone(),
                    ..MintToken::default()
                },
            )
            .await
            .expect("token");
        let bearer = format!("Bearer {}", minted.token);
        for _ in 0..2 {
            let r = complete(
                &node,
                "acme",
                json!({"model": "ab", "prompt": "which one?"}),
                &[("authorization", &bearer)],
            )
            .await;
            let variant = r["ok"]["usage"]["variant"]
                .as_str()
                .unwrap_or_else(|| panic!("no variant: {r}"))
                .to_string();
            *per_model
                .entry(r["ok"]["usage"]["model"].as_str().unwrap_or("").into())
                .or_default() += 1;
            let first = seen.entry(subject.clone()).or_insert(variant.clone());
            assert_eq!(*first, variant, "{subject} changed variant");
        }
        assert_eq!(
            seen[&subject],
            pick(&subject),
            "the gateway's subject is used"
        );
    }
    let on_a = seen.values().filter(|v| *v == "a").count();
    assert!(on_a > 0 && on_a < subjects, "both variants served: {on_a}");
    // Every call reached the fake with its variant's model.
    let models: Vec<String> = fake
        .bodies(CHAT_PATH)
        .iter()
        .map(|b| b["model"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(models.len(), 2 * subjects);
    assert_eq!(models.iter().filter(|m| *m == "m-a").count(), 2 * on_a);
    assert_eq!(per_model.get("m-a").copied().unwrap_or(0), 2 * on_a);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_prefetches_the_warm_up_prompts_and_the_schedule_repeats_them() {
    let fake = FakeOpenAi::start().await;
    let model: warden_plugin_model::Config = toml::from_str(&format!(
        r#"
warm_up_interval_secs = 1
[providers.fake]
type = "openai"
base_url = "{}"
[aliases]
chat = {{ provider = "fake", model = "node-model" }}
"#,
        fake.base_url()
    ))
    .expect("model config");
    let node = TestNode::start_with(move |c| c.model = model).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let section = r#"
[[model.warm_up]]
alias = "chat"
prompt = "What are your opening hours?"
seed = 5
"#;
    warden::cli::deploy(&node.api(), &manifest(dir.path(), "acme", section))
        .await
        .expect("deploy");

    // The activation's warm-up reaches the provider once, in the background.
    let mut prefetched = false;
    for _ in 0..200 {
        if fake.requests(CHAT_PATH) >= 1 {
            prefetched = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(prefetched, "no warm-up call reached the provider");
    let body = &fake.bodies(CHAT_PATH)[0];
    assert_eq!(body["seed"], 5, "{body}");
    assert_eq!(
        body["messages"][0]["content"], "What are your opening hours?",
        "{body}"
    );

    // The function's identical call is a hit: no second provider call.
    let call = json!({"prompt": "What are your opening hours?", "seed": 5});
    let r = complete(&node, "acme", call, &[]).await;
    assert_eq!(r["ok"]["usage"]["from_cache"], true, "{r}");

    // The schedule (every second here) repeats the warm-up: cache hits.
    let cached =
        r#"warden_model_calls_total{tenant="acme",alias="chat",variant="",outcome="cached"}"#;
    let mut repeated = false;
    for _ in 0..100 {
        if node.metric_or_zero(cached).await >= 2.0 {
            repeated = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(repeated, "the scheduled warm-up never ran");
    assert_eq!(fake.requests(CHAT_PATH), 1, "scheduled runs hit the cache");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifests_semantic_cache_opt_in_serves_near_duplicates() {
    let fake = FakeOpenAi::start().await;
    let node = node(&fake, false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let section = "[model.semantic_cache.chat]\nmin_similarity = 0.85\n";
    warden::cli::deploy(&node.api(), &manifest(dir.path(), "acme", section))
        .await
        .expect("deploy");
    node.deploy(
        "other",
        "probe",
        &["/complete"],
        &component(guests::MODEL_PROBE),
    )
    .await;
    let ask = |text: &str| json!({"prompt": text, "temperature": 0.0});
    for tenant in ["acme", "other"] {
        let first = complete(
            &node,
            tenant,
            ask("what is the capital city of france"),
            &[],
        )
        .await;
        assert_eq!(first["ok"]["usage"]["from_cache"], false, "{first}");
    }
    assert_eq!(fake.requests(CHAT_PATH), 2);
    let near = ask("what is the capital city of france please");
    let r = complete(&node, "acme", near.clone(), &[]).await;
    assert_eq!(r["ok"]["usage"]["from_cache"], true, "{r}");
    let similarity = r["ok"]["usage"]["similarity"].as_f64().expect("similarity");
    assert!((0.85..1.0).contains(&similarity), "{similarity}");
    assert_eq!(fake.requests(CHAT_PATH), 2, "served without the provider");
    // The neighbour did not opt in: its near duplicate goes upstream.
    let r = complete(&node, "other", near, &[]).await;
    assert_eq!(r["ok"]["usage"]["from_cache"], false, "{r}");
    assert_eq!(fake.requests(CHAT_PATH), 3);
    node.shutdown().await;
}

//! The model capability through WIT, as a guest sees it: the builtin
//! deterministic model, SSE streaming end to end through a fake
//! OpenAI-compatible server (real HTTP on 127.0.0.1), cancellation on
//! client disconnect, typed errors, the cache, and the examples.

use crate::common::{Reply, TestNode, component};
use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use serde_json::{Value, json};
use std::time::Duration;
use warden_plugin_testing::fake_openai::{FakeOpenAi, Fault};
use warden_test_components as guests;

const CHAT_PATH: &str = "/v1/chat/completions";

/// A node whose `[model]` section is `model` (TOML).
async fn node_with_model(model: &str) -> TestNode {
    let config: warden_plugin_model::Config = toml::from_str(model).expect("model config");
    TestNode::start_with(move |c| c.model = config).await
}

/// `chat` on the fake (with `resilience`, TOML lines), `embed` on the
/// builtin model.
fn fake_section(fake: &FakeOpenAi, resilience: &str) -> String {
    format!(
        r#"
[providers.fake]
type = "openai"
base_url = "{}"
[providers.fake.resilience]
{resilience}
[aliases]
chat = {{ provider = "fake", model = "fake-model" }}
embed = {{ provider = "builtin", model = "builtin-embed" }}
"#,
        fake.base_url()
    )
}

async fn probe(node: &TestNode, tenant: &str, path: &str, body: Value) -> Value {
    let host = format!("{tenant}.localhost");
    let r = node.call(Method::POST, &host, path, body.to_string()).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
    r.json()
}

/// A streaming GET to the gateway: the response with its body unread.
async fn open(node: &TestNode, host: &str, path: &str) -> http::Response<Incoming> {
    let req = Request::builder()
        .uri(format!("http://{}{path}", node.addr))
        .header(header::HOST, host)
        .body(Full::new(Bytes::new()))
        .expect("request");
    node.client.request(req).await.expect("response head")
}

/// Reads frames until one carries text (`"text"`): the first chunk.
async fn first_chunk(body: &mut Incoming) -> String {
    loop {
        let frame = body
            .frame()
            .await
            .expect("the stream ended before its first chunk")
            .expect("frame");
        if let Ok(data) = frame.into_data() {
            let text = String::from_utf8_lossy(&data).into_owned();
            if text.contains("\"text\"") {
                return text;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builtin_model_answers_the_same_seed_with_the_same_text() {
    let node = TestNode::start().await;
    let probe_guest = component(guests::MODEL_PROBE);
    // Two tenants: separate cache spaces, so both answers are computed.
    node.deploy("a", "probe", &["/complete"], &probe_guest)
        .await;
    node.deploy("b", "probe", &["/complete"], &probe_guest)
        .await;
    let call = |seed: u64| json!({"prompt": "Tell me about edge functions", "seed": seed});
    let a = probe(&node, "a", "/complete", call(7)).await;
    let b = probe(&node, "b", "/complete", call(7)).await;
    let other = probe(&node, "a", "/complete", call(8)).await;
    let text = a["ok"]["text"].as_str().expect("a completion");
    assert!(!text.is_empty(), "{a}");
    assert_eq!(a["ok"]["text"], b["ok"]["text"], "same seed: {a} vs {b}");
    assert_ne!(a["ok"]["text"], other["ok"]["text"], "another seed");
    assert_eq!(a["ok"]["usage"]["model"], "builtin-chat", "{a}");
    assert_eq!(a["ok"]["usage"]["from_cache"], false, "{a}");
    // Seeded, hence cached for the tenant.
    let again = probe(&node, "a", "/complete", call(7)).await;
    assert_eq!(again["ok"]["text"], a["ok"]["text"]);
    assert_eq!(again["ok"]["usage"]["from_cache"], true, "{again}");

    // The usage records reached the metrics.
    let ok = node
        .metric(r#"warden_model_calls_total{tenant="a",alias="chat",variant="",outcome="ok"}"#)
        .await;
    assert_eq!(ok, 2.0);
    let cached = node
        .metric(r#"warden_model_calls_total{tenant="a",alias="chat",variant="",outcome="cached"}"#)
        .await;
    assert_eq!(cached, 1.0);
    let output = node
        .metric(r#"warden_model_tokens_total{tenant="b",model="builtin-chat",kind="output"}"#)
        .await;
    let expected = a["ok"]["usage"]["output_tokens"].as_f64().expect("tokens");
    assert_eq!(output, expected);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunks_reach_the_client_while_the_provider_is_still_generating() {
    let fake = FakeOpenAi::start().await;
    fake.set_reply("one two three four five six seven eight nine ten");
    fake.set_chunk_delay(Duration::from_millis(150));
    let node = node_with_model(&fake_section(&fake, "")).await;
    node.deploy("acme", "chat", &["/chat"], &component(guests::CHAT))
        .await;

    let response = open(&node, "acme.localhost", "/chat?q=count+to+ten").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    let mut body = response.into_body();
    let first = first_chunk(&mut body).await;
    // Ordering, not time: the fake had not written its last chunk yet.
    assert_eq!(
        fake.completed_streams(),
        0,
        "the whole answer was generated before the client saw {first:?}"
    );
    assert!(first.contains(r#"{"text":"one"}"#), "{first}");
    let rest = body.collect().await.expect("the rest").to_bytes();
    let rest = String::from_utf8_lossy(&rest);
    assert!(rest.contains(r#"{"text":" ten"}"#), "{rest}");
    let end = rest.find("event: end").expect("an end event");
    assert!(rest[end..].contains(r#""model":"fake-model""#), "{rest}");
    assert!(rest[end..].contains(r#""output_tokens":10"#), "{rest}");
    assert_eq!(fake.completed_streams(), 1);
    assert_eq!(fake.requests(CHAT_PATH), 1);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_hangs_up_cancels_the_provider_call() {
    let fake = FakeOpenAi::start().await;
    let words: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
    fake.set_reply(&words.join(" "));
    fake.set_chunk_delay(Duration::from_millis(100));
    let node = node_with_model(&fake_section(&fake, "")).await;
    node.deploy("acme", "chat", &["/chat"], &component(guests::CHAT))
        .await;

    let response = open(&node, "acme.localhost", "/chat?q=go").await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    first_chunk(&mut body).await;
    // Hang up mid-stream: the connection closes with the body.
    drop(body);
    assert!(
        fake.wait_for_disconnects(1, Duration::from_secs(10)).await,
        "the provider never saw its client go away"
    );
    assert_eq!(fake.completed_streams(), 0, "the stream ran to its end");
    // The stream's usage record says so (written as its task winds down).
    let cancelled =
        r#"warden_model_calls_total{tenant="acme",alias="chat",variant="",outcome="cancelled"} 1"#;
    let mut seen = false;
    for _ in 0..100 {
        let metrics = node.admin(Method::GET, "/metrics", Bytes::new()).await;
        if metrics.text().lines().any(|l| l == cancelled) {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen, "no cancelled usage record");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_failures_reach_the_guest_as_typed_errors() {
    let fake = FakeOpenAi::start().await;
    let resilience = "total_timeout_ms = 5000\nmax_retries = 1\nretry_base_ms = 10";
    let node = node_with_model(&fake_section(&fake, resilience)).await;
    node.deploy(
        "acme",
        "probe",
        &["/complete"],
        &component(guests::MODEL_PROBE),
    )
    .await;
    let call = |idempotent: bool| json!({"prompt": "hello", "idempotent": idempotent});

    // A 429 whose retry-after does not fit the deadline: the guest gets it.
    fake.push_fault(Fault::RateLimited {
        retry_after_secs: 30,
    });
    let r = probe(&node, "acme", "/complete", call(true)).await;
    assert_eq!(r["error"]["code"], "rate-limited", "{r}");
    assert_eq!(r["error"]["retry_after_ms"], 30_000, "{r}");
    assert_eq!(fake.requests(CHAT_PATH), 1);

    // A 503 is retried for an idempotent call (the guest sees the answer)...
    fake.push_fault(Fault::Status(503));
    let r = probe(&node, "acme", "/complete", call(true)).await;
    assert!(r["ok"]["text"].is_string(), "{r}");
    assert_eq!(fake.requests(CHAT_PATH), 3, "one retry");
    // ...and never for a non-idempotent one.
    fake.push_fault(Fault::Status(503));
    let r = probe(&node, "acme", "/complete", call(false)).await;
    assert_eq!(r["error"]["code"], "unavailable", "{r}");
    assert_eq!(fake.requests(CHAT_PATH), 4, "no retry");

    // Invalid requests never reach the provider.
    let hot = json!({"prompt": "hello", "temperature": 5.0});
    let r = probe(&node, "acme", "/complete", hot).await;
    assert_eq!(r["error"]["code"], "invalid-request", "{r}");
    let unknown = json!({"prompt": "hello", "model": "no-such-alias"});
    let r = probe(&node, "acme", "/complete", unknown).await;
    assert_eq!(r["error"]["code"], "invalid-request", "{r}");
    assert_eq!(fake.requests(CHAT_PATH), 4);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_provider_is_a_timeout_for_the_guest() {
    let fake = FakeOpenAi::start().await;
    fake.set_header_delay(Duration::from_secs(3));
    let resilience = "first_token_timeout_ms = 200\nmax_retries = 0";
    let node = node_with_model(&fake_section(&fake, resilience)).await;
    node.deploy(
        "acme",
        "probe",
        &["/stream"],
        &component(guests::MODEL_PROBE),
    )
    .await;
    let r = probe(&node, "acme", "/stream", json!({"prompt": "hello"})).await;
    assert_eq!(r["error"]["code"], "timeout", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("FirstToken")),
        "{r}"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_completion_makes_no_provider_call() {
    let fake = FakeOpenAi::start().await;
    let node = node_with_model(&fake_section(&fake, "")).await;
    node.deploy(
        "acme",
        "probe",
        &["/complete", "/stream"],
        &component(guests::MODEL_PROBE),
    )
    .await;
    let call = json!({"prompt": "cache me", "seed": 42});
    let first = probe(&node, "acme", "/complete", call.clone()).await;
    assert_eq!(first["ok"]["usage"]["from_cache"], false, "{first}");
    let second = probe(&node, "acme", "/complete", call.clone()).await;
    assert_eq!(second["ok"]["usage"]["from_cache"], true, "{second}");
    assert_eq!(second["ok"]["text"], first["ok"]["text"]);
    // A stream of the same request replays the cached answer.
    let streamed = probe(&node, "acme", "/stream", call).await;
    assert_eq!(streamed["ok"]["usage"]["from_cache"], true, "{streamed}");
    let chunks: Vec<&str> = streamed["ok"]["chunks"]
        .as_array()
        .expect("chunks")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(chunks.len() > 1, "replayed as a stream: {streamed}");
    assert_eq!(Some(chunks.concat().as_str()), first["ok"]["text"].as_str());
    assert_eq!(fake.requests(CHAT_PATH), 1, "one provider call in all");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_streams_are_capped_per_request() {
    let node = TestNode::start().await;
    node.deploy(
        "acme",
        "probe",
        &["/open-streams"],
        &component(guests::MODEL_PROBE),
    )
    .await;
    let r = probe(
        &node,
        "acme",
        "/open-streams?n=40",
        json!({"prompt": "hello"}),
    )
    .await;
    assert_eq!(
        r["opened"],
        warden_runtime::bindings::model::MAX_OPEN_STREAMS,
        "{r}"
    );
    assert_eq!(r["error"]["code"], "invalid-request", "{r}");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_example_streams_sse_from_the_builtin_model() {
    let node = TestNode::start().await;
    node.deploy("acme", "chat", &["/chat"], &component(guests::CHAT))
        .await;
    let r = node
        .get("acme.localhost", "/chat?q=hello+there&seed=3")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let text = r.text();
    let chunks = text.matches("data: {\"text\"").count();
    assert!(chunks > 1, "several chunks: {text}");
    assert!(text.trim_end().ends_with('}'), "{text}");
    let end = text.find("event: end").expect("an end event");
    assert!(text[end..].contains("\"model\":\"builtin-chat\""), "{text}");
    let missing = node.get("acme.localhost", "/chat").await;
    assert_eq!(
        missing.status,
        StatusCode::BAD_REQUEST,
        "{}",
        missing.text()
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_semantic_search_example_finds_the_closest_document() {
    let node = TestNode::start().await;
    node.deploy(
        "acme",
        "search",
        &["/search"],
        &component(guests::SEMANTIC_SEARCH),
    )
    .await;
    let docs = json!([
        {"id": "pasta", "text": "boil the pasta in salted water for ten minutes"},
        {"id": "tyres", "text": "check the tyre pressure of the car every month"},
        {"id": "bread", "text": "knead the bread dough and let it rise in a warm place"},
    ]);
    let added: Reply = node
        .call(
            Method::POST,
            "acme.localhost",
            "/search/docs",
            docs.to_string(),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.text());
    assert_eq!(added.json()["indexed"], 3);
    for (query, best) in [
        ("how+long+to+boil+pasta+water", "pasta"),
        ("car+tyre+pressure", "tyres"),
        ("bread+dough", "bread"),
    ] {
        let r = node
            .get("acme.localhost", &format!("/search?q={query}&k=2"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let json = r.json();
        assert_eq!(json["results"][0]["id"], best, "{query}: {json}");
        assert_eq!(json["results"].as_array().map(Vec::len), Some(2));
    }
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_contract_tier_selects_its_model_budget() {
    let model: warden_plugin_model::Config =
        toml::from_str("[tiers.pro]\nrequests_per_minute = 1").expect("model config");
    let node = TestNode::start_with(move |c| {
        c.model = model;
        c.tiers
            .insert("pro".into(), warden::config::Tier::default());
    })
    .await;
    node.api()
        .put_tenant(
            "paid",
            &warden::api::PutTenant {
                tier: Some("pro".into()),
                ..Default::default()
            },
        )
        .await
        .expect("tenant");
    let probe_guest = component(guests::MODEL_PROBE);
    node.deploy("paid", "probe", &["/complete"], &probe_guest)
        .await;
    node.deploy("free", "probe", &["/complete"], &probe_guest)
        .await;
    let call = json!({"prompt": "hello"});
    let first = probe(&node, "paid", "/complete", call.clone()).await;
    assert!(first["ok"].is_object(), "{first}");
    let second = probe(&node, "paid", "/complete", call.clone()).await;
    assert_eq!(second["error"]["code"], "budget-exhausted", "{second}");
    assert!(
        second["error"]["retry_after_ms"]
            .as_u64()
            .is_some_and(|ms| ms > 0),
        "{second}"
    );
    // The default tier has no model budget.
    for _ in 0..3 {
        let r = probe(&node, "free", "/complete", call.clone()).await;
        assert!(r["ok"].is_object(), "{r}");
    }
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_drops_mid_stream_cuts_the_clients_response() {
    let fake = FakeOpenAi::start().await;
    fake.set_reply("one two three four five six seven eight");
    fake.push_fault(Fault::DropMidStream { after_chunks: 2 });
    let node = node_with_model(&fake_section(&fake, "")).await;
    node.deploy("acme", "chat", &["/chat"], &component(guests::CHAT))
        .await;

    let response = open(&node, "acme.localhost", "/chat?q=go").await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let first = first_chunk(&mut body).await;
    assert!(first.contains(r#"{"text":"one"}"#), "{first}");
    // Read on: the body must fail, not end as if the answer were whole.
    let mut rest = String::new();
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match body.frame().await {
                None => return Ok(()),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        rest.push_str(&String::from_utf8_lossy(&data));
                    }
                }
                Some(Err(e)) => return Err(e),
            }
        }
    })
    .await
    .expect("the response neither ended nor failed");
    assert!(
        ended.is_err(),
        "a clean end after the provider broke off: {rest}"
    );
    assert!(!rest.contains("event: end"), "{rest}");
    assert_eq!(fake.completed_streams(), 0);
    assert_eq!(fake.requests(CHAT_PATH), 1, "never retried after a chunk");
    node.shutdown().await;
}

/// Rate limits (hence model budgets) on the shared Redis at `url`, and a
/// default model tier of `tokens_per_minute`.
fn budget_on_redis(c: &mut warden::config::HostConfig, url: &str, tokens_per_minute: u32) {
    c.rate_limit =
        toml::from_str(&format!("type = \"redis\"\nurl = \"{url}\"")).expect("ratelimit");
    c.model = toml::from_str(&format!(
        "[tiers.default]\ntokens_per_minute = {tokens_per_minute}"
    ))
    .expect("model config");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_budget_spent_on_one_node_is_spent_on_the_other() {
    let redis = warden_plugin_testing::RedisServer::start();
    let url = redis.url();
    let a = TestNode::start_with(|c| budget_on_redis(c, &url, 120)).await;
    let b = TestNode::start_with(|c| budget_on_redis(c, &url, 120)).await;
    let probe_guest = component(guests::MODEL_PROBE);
    for node in [&a, &b] {
        node.deploy("acme", "probe", &["/complete"], &probe_guest)
            .await;
        node.deploy("other", "probe", &["/complete"], &probe_guest)
            .await;
    }
    // About 40 tokens of prompt (chars / 4) and up to 30 of answer: the
    // 120-token minute lasts a call or two. Not deterministic: no cache.
    let call =
        |i: usize| json!({"prompt": format!("{i} {}", "word ".repeat(32)), "max_tokens": 30});
    let mut served = 0;
    let mut refused = None;
    for i in 0..10 {
        let r = probe(&a, "acme", "/complete", call(i)).await;
        if r["ok"].is_object() {
            served += 1;
        } else {
            refused = Some(r);
            break;
        }
    }
    let refused = refused.expect("node a never ran out of budget");
    assert!(served >= 1, "node a served nothing: {refused}");
    assert_eq!(refused["error"]["code"], "budget-exhausted", "{refused}");

    // Node b keeps its own process state, but the budget is in Redis.
    let r = probe(&b, "acme", "/complete", call(100)).await;
    assert_eq!(r["error"]["code"], "budget-exhausted", "{r}");
    assert!(
        r["error"]["retry_after_ms"]
            .as_u64()
            .is_some_and(|ms| ms > 0),
        "{r}"
    );
    // Budgets are per tenant: another tenant on node b is served.
    let r = probe(&b, "other", "/complete", call(101)).await;
    assert!(r["ok"].is_object(), "{r}");
    a.shutdown().await;
    b.shutdown().await;
}

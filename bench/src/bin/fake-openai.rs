//! `fake-openai`: the model scenario's provider, as its own process so
//! its CPU is not the load generator's: the test suite's fake
//! OpenAI-compatible server (`warden_plugin_testing::fake_openai`: real
//! HTTP/1.1 and SSE), answering every chat completion with the same
//! eight words (eight SSE chunks when streamed), without delays or faults.
//!
//! Run with: `cargo run --release -p warden-bench --bin fake-openai`
//! It prints `listening on http://ADDR/` once bound and serves until killed.
#![forbid(unsafe_code)]

use std::io::Write as _;

use anyhow::Result;
use warden_plugin_testing::fake_openai::FakeOpenAi;

#[tokio::main]
async fn main() -> Result<()> {
    let fake = FakeOpenAi::start().await;
    fake.forget_requests();
    let base = fake.base_url();
    let root = base.trim_end_matches("/v1");
    println!("listening on {root}/");
    std::io::stdout().flush()?;
    std::future::pending::<()>().await;
    Ok(())
}

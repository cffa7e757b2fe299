//! The full scenario: the seed's hot path on one route. A `GET /todos/1` of
//! the todo example behind an EdDSA token (verified in the gateway), whose
//! tenant's tier limit is checked on every request (a rate that never
//! binds), and whose function reads the cache and kv; measured next to
//! hello on the same node, alternating, with the verified-token cache on
//! and, on a second node, off (`[auth] cache_max_entries = 0`). A fourth
//! row serves the same todo through a public route of the same tenant (the
//! same component at `/open`): the difference to it is what auth costs.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http::Method;
use http::header::{AUTHORIZATION, HeaderValue};
use warden_api::{
    AdminClient, MintToken, NewKeyRequest, PutFunction, PutTenant, RoutePolicy, TenantAuthConfig,
};

use super::admin::client;
use super::context::{Ctx, checked_component};
use super::measure::{Contestant, alternate, record};
use super::probe::{get, one_request, wait_until_ok};
use super::table::{Row, Table};
use super::warden::WardenNode;
use crate::client::RequestTemplate;
use crate::target::Target;

const TENANT: &str = "bench";

/// A node with hello and the protected todo route deployed.
struct FullNode {
    node: WardenNode,
    hello: Target,
    todo: Target,
    open: Target,
    token: String,
}

/// Runs the scenario and returns its table.
pub fn run(ctx: &mut Ctx) -> Table {
    let mut table = Table {
        title: format!(
            "full: token-protected todo read (tier check, cache, kv) next to hello ({})",
            ctx.plan_text()
        ),
        rows: Vec::new(),
    };
    if let Err(e) = measure(ctx, &mut table) {
        table.rows.push(Row::Failed {
            label: "warden full".into(),
            reason: format!("{e:#}"),
        });
    }
    table
}

fn measure(ctx: &mut Ctx, table: &mut Table) -> Result<()> {
    let todo = checked_component(
        &ctx.cfg.todo_component,
        "the todo example (--todo-component)",
    )?;
    let hello = ctx.hello_component()?;
    let mut cached = start(ctx, "warden-full", None, &hello, &todo)?;
    let mut uncached = start(ctx, "warden-full-nocache", Some(0), &hello, &todo)?;
    let request = |token: &str| -> Result<RequestTemplate> {
        Ok(RequestTemplate {
            method: Method::GET,
            headers: vec![(
                AUTHORIZATION,
                HeaderValue::from_str(&format!("Bearer {token}"))?,
            )],
            body: Bytes::new(),
        })
    };
    let contestants = [
        Contestant {
            label: "warden hello".into(),
            process: cached.node.process()?,
            targets: Arc::from(vec![cached.hello.clone()]),
            request: get(),
        },
        Contestant {
            label: "warden full (token cache on)".into(),
            process: cached.node.process()?,
            targets: Arc::from(vec![cached.todo.clone()]),
            request: request(&cached.token)?,
        },
        Contestant {
            label: "warden full, public route (no auth)".into(),
            process: cached.node.process()?,
            targets: Arc::from(vec![cached.open.clone()]),
            request: get(),
        },
        Contestant {
            label: "warden full (token cache off)".into(),
            process: uncached.node.process()?,
            targets: Arc::from(vec![uncached.todo.clone()]),
            request: request(&uncached.token)?,
        },
    ];
    let tallies = alternate(ctx.clk_tck, &ctx.plan(), &contestants);
    let figures = record(table, &contestants, tallies);
    if let [Some(hello), on, open, off] = figures[..] {
        for (label, f) in [
            ("full (cache on) / hello", on),
            ("full, public route / hello", open),
            ("full (cache off) / hello", off),
        ] {
            if let Some(f) = f {
                table.rows.push(Row::Ratio {
                    label: label.into(),
                    num: f,
                    den: hello,
                });
            }
        }
    }
    drop(contestants);
    cached.node.stop()?;
    uncached.node.stop()
}

/// Starts a node (with `token_cache` entries in the verified-token cache,
/// the default when `None`), deploys, seeds one todo and mints a token.
fn start(
    ctx: &mut Ctx,
    name: &str,
    token_cache: Option<u64>,
    hello: &std::path::Path,
    todo: &std::path::Path,
) -> Result<FullNode> {
    let config = ctx.cfg.work_dir.join(format!("{name}-host.toml"));
    let bin = ctx.warden_bin()?;
    let mut node = WardenNode::new(&ctx.cfg, &bin, name)?;
    let mut text = String::from(
        "[tiers.default]\nrate = 100000000\nburst = 100000000\nmax_concurrent = 100000\n",
    );
    if let Some(entries) = token_cache {
        text.push_str(&format!(
            "[auth]\nkek = {{ type = \"file\", dir = {:?} }}\ncache_max_entries = {entries}\n",
            node.data_dir
        ));
    }
    std::fs::write(&config, text).with_context(|| format!("writing {}", config.display()))?;
    node.set_config(config);
    node.start()?;
    let api = client(node.admin, &node.admin_token()?);
    let (hello_bytes, todo_bytes) = (std::fs::read(hello)?, std::fs::read(todo)?);
    let token = ctx
        .rt
        .block_on(deploy(&api, hello_bytes.into(), todo_bytes.into()))?;
    let hello = node.target(TENANT, "/hello")?;
    let todo = node.target(TENANT, "/todos/1")?;
    let open = node.target(TENANT, "/open/1")?;
    wait_until_ok(
        &ctx.rt,
        node.process_mut()?,
        &hello,
        Duration::from_secs(60),
    )?;
    let seed = RequestTemplate {
        method: Method::POST,
        headers: vec![(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}"))?,
        )],
        body: Bytes::from_static(br#"{"title": "benchmark"}"#),
    };
    let (answer, _) = ctx.rt.block_on(one_request(
        &node.target(TENANT, "/todos")?,
        &seed,
        Duration::from_secs(10),
    ))?;
    if answer.status != 201 {
        bail!("seeding the todo answered {}", answer.status);
    }
    Ok(FullNode {
        node,
        hello,
        todo,
        open,
        token,
    })
}

/// Tenant with `[auth]` and an EdDSA key, hello (public) and the todo
/// example (token required); returns a token good for the run.
async fn deploy(api: &AdminClient, hello: Bytes, todo: Bytes) -> Result<String> {
    let tenant = PutTenant {
        auth: Some(TenantAuthConfig {
            issuer: Some("https://bench.localhost/".into()),
            audiences: vec!["bench".into()],
            ..TenantAuthConfig::default()
        }),
        ..PutTenant::default()
    };
    api.put_tenant(TENANT, &tenant).await?;
    api.create_key(TENANT, &NewKeyRequest::default()).await?;
    let public = |route: &str| PutFunction {
        routes: vec![route.into()],
        auth: Some(RoutePolicy {
            public: true,
            ..RoutePolicy::default()
        }),
        ..PutFunction::default()
    };
    for (name, spec, bytes) in [
        ("hello", public("/hello"), hello),
        ("todos-open", public("/open"), todo.clone()),
        (
            "todos",
            PutFunction {
                routes: vec!["/todos".into()],
                ..PutFunction::default()
            },
            todo,
        ),
    ] {
        api.put_function(TENANT, name, &spec).await?;
        let uploaded = api.upload(TENANT, name, bytes).await?;
        api.activate(TENANT, name, &uploaded.version.digest).await?;
    }
    let minted = api
        .mint_token(
            TENANT,
            &MintToken {
                subject: "bench-user".into(),
                ttl_s: Some(900),
                ..MintToken::default()
            },
        )
        .await?;
    Ok(minted.token)
}

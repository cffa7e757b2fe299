//! The JSON scenario: a Warden function that does real work (the JSON
//! example, examples/quote-api: parse a cart, validate, price, serialize),
//! measured next to hello on the same node, alternating.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use http::Method;
use http::header::{CONTENT_TYPE, HeaderValue};

use super::context::{Ctx, checked_component};
use super::measure::{Contestant, alternate};
use super::probe::{get, wait_until_ok};
use super::table::{Row, Table};
use super::warden::{Function, WardenNode};
use crate::client::RequestTemplate;

/// The default request body: a cart for examples/quote-api's `POST /quote`.
const DEFAULT_CART: &[u8] = br#"{"currency":"EUR","region":"FR","discount_code":"WELCOME10","items":[{"sku":"book-1","quantity":2,"unit_price_cents":1250},{"sku":"pen-7","quantity":10,"unit_price_cents":199},{"sku":"lamp-3","quantity":1,"unit_price_cents":4590}]}"#;

/// Runs the scenario and returns its table.
pub fn run(ctx: &mut Ctx) -> Table {
    let mut table = Table {
        title: format!(
            "json: the JSON example next to hello on one Warden node ({})",
            ctx.plan_text()
        ),
        rows: Vec::new(),
    };
    let json = match checked_component(
        &ctx.cfg.json_component,
        "the JSON example (--json-component)",
    ) {
        Ok(p) => p,
        Err(e) => {
            table.rows.push(Row::Skipped {
                label: "warden json".into(),
                reason: format!("{e:#}"),
            });
            return table;
        }
    };
    if let Err(e) = measure(ctx, json, &mut table) {
        table.rows.push(Row::Failed {
            label: "warden json".into(),
            reason: format!("{e:#}"),
        });
    }
    table
}

fn measure(ctx: &mut Ctx, json: std::path::PathBuf, table: &mut Table) -> Result<()> {
    let hello = ctx.hello_component()?;
    let bin = ctx.warden_bin()?;
    let mut node = WardenNode::new(&ctx.cfg, &bin, "warden-json")?;
    node.start()?;
    let token = node.admin_token()?;
    let manifest = ctx.cfg.work_dir.join("warden-json.toml");
    let route = ctx.cfg.args.json_route.clone();
    let functions = [
        Function {
            name: "hello".into(),
            component: hello,
            route: "/hello".into(),
        },
        Function {
            name: "json".into(),
            component: json,
            route: route.clone(),
        },
    ];
    WardenNode::write_manifest(&manifest, "bench", &functions)?;
    node.deploy(&manifest, &token)?;
    let hello_t = node.target("bench", "/hello")?;
    let json_t = node.target("bench", &route)?;
    let body = match &ctx.cfg.args.json_body {
        Some(path) => {
            Bytes::from(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?)
        }
        None => Bytes::from_static(DEFAULT_CART),
    };
    let json_req = RequestTemplate {
        method: Method::POST,
        headers: vec![(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    };
    wait_until_ok(
        &ctx.rt,
        node.process_mut()?,
        &hello_t,
        Duration::from_secs(60),
    )?;
    let (answer, _) = ctx.rt.block_on(super::probe::one_request(
        &json_t,
        &json_req,
        Duration::from_secs(10),
    ))?;
    if !(200..300).contains(&answer.status) {
        anyhow::bail!(
            "the JSON function answered {} to the warm-up request",
            answer.status
        );
    }
    let p = node.process()?;
    let contestants = [
        Contestant {
            label: "warden hello".into(),
            process: p,
            targets: Arc::from(vec![hello_t]),
            request: get(),
        },
        Contestant {
            label: "warden json".into(),
            process: p,
            targets: Arc::from(vec![json_t]),
            request: json_req,
        },
    ];
    let tallies = alternate(ctx.clk_tck, &ctx.plan(), &contestants);
    let mut figs = Vec::new();
    for (c, t) in contestants.iter().zip(tallies) {
        match t {
            Ok(t) => {
                figs.push(t.figures());
                table.rows.push(Row::Measured {
                    label: c.label.clone(),
                    figures: t.figures(),
                    note: t.rounds_note(),
                });
            }
            Err(e) => table.rows.push(Row::Failed {
                label: c.label.clone(),
                reason: format!("{e:#}"),
            }),
        }
    }
    if let [hello, json] = figs[..] {
        table.rows.push(Row::Ratio {
            label: "json / hello".into(),
            num: json,
            den: hello,
        });
    }
    node.stop()
}

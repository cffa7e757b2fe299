//! `warden deploy`: make the node match a manifest, uploading only what
//! changed (a function whose active version already has the local
//! component's sha256 is left alone).

use super::{AdminClient, CliError};
use crate::manifest::Manifest;
use crate::registry::{FunctionRecord, TenantRecord, digest_of};
use bytes::Bytes;
use http::{Method, StatusCode};
use serde_json::json;
use std::path::Path;

/// What a deploy did to one function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployed {
    /// Function name.
    pub function: String,
    /// Active digest after the deploy.
    pub digest: String,
    /// Whether a new version was activated.
    pub changed: bool,
    /// Routes of the function.
    pub routes: Vec<String>,
}

/// Deploys `manifest_path`, printing one line per action.
pub async fn deploy(
    client: &AdminClient,
    manifest_path: &Path,
) -> Result<(Manifest, Vec<Deployed>), CliError> {
    let manifest = Manifest::load(manifest_path)?;
    // Read every component first: a missing file fails before any change.
    let mut components = Vec::new();
    for function in &manifest.functions {
        let path = manifest.component_path(function);
        let bytes = std::fs::read(&path).map_err(|e| {
            CliError::Other(format!(
                "function {:?}: cannot read component {}: {e} (build it first, e.g. ./scripts/build-examples)",
                function.name,
                path.display()
            ))
        })?;
        components.push(bytes);
    }

    let tenant = &manifest.tenant;
    let (status, _): (_, TenantRecord) = client
        .send_json(
            Method::PUT,
            &format!("/v1/tenants/{tenant}"),
            &json!({ "hosts": manifest.hosts, "tier": manifest.tier }),
        )
        .await?;
    println!(
        "tenant {tenant}: {}",
        if status == StatusCode::CREATED {
            "created"
        } else {
            "up to date"
        }
    );

    let mut deployed = Vec::new();
    for (function, bytes) in manifest.functions.iter().zip(components) {
        let name = &function.name;
        let base = format!("/v1/tenants/{tenant}/functions/{name}");
        let (_, record): (_, FunctionRecord) = client
            .send_json(
                Method::PUT,
                &base,
                &json!({ "routes": function.routes, "limits": function.limits }),
            )
            .await?;
        let digest = digest_of(&bytes);
        let short = &digest[..12];
        if record.active.as_deref() == Some(digest.as_str()) {
            println!(
                "  {name}: unchanged (sha256:{short}) {}",
                function.routes.join(" ")
            );
            deployed.push(Deployed {
                function: name.clone(),
                digest,
                changed: false,
                routes: function.routes.clone(),
            });
            continue;
        }
        let _: (_, serde_json::Value) = client
            .send(
                Method::POST,
                &format!("{base}/versions"),
                Some(("application/wasm", Bytes::from(bytes))),
            )
            .await?;
        let _: (_, FunctionRecord) = client
            .send_json(
                Method::POST,
                &format!("{base}/activate"),
                &json!({ "digest": digest }),
            )
            .await?;
        println!(
            "  {name}: deployed sha256:{short} {}",
            function.routes.join(" ")
        );
        deployed.push(Deployed {
            function: name.clone(),
            digest,
            changed: true,
            routes: function.routes.clone(),
        });
    }
    Ok((manifest, deployed))
}

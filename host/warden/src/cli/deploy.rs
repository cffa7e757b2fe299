//! `warden deploy`: make the node match a manifest, uploading only what
//! changed (a function whose active version already has the local
//! component's sha256 is left alone).

use super::{AdminClient, CliError};
use crate::manifest::Manifest;
use bytes::Bytes;
use std::path::Path;
use warden_api::{PutFunction, PutTenant};
use warden_registry::digest_of;

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
    let spec = PutTenant {
        hosts: manifest.hosts.clone(),
        tier: manifest.tier.clone(),
        auth: manifest.auth.clone(),
        delegations: manifest.delegations.clone(),
        model: manifest.model.clone(),
    };
    let (_, created) = client.put_tenant(tenant, &spec).await?;
    println!(
        "tenant {tenant}: {}",
        if created { "created" } else { "up to date" }
    );

    let mut deployed = Vec::new();
    for (function, bytes) in manifest.functions.iter().zip(components) {
        let name = &function.name;
        let spec = PutFunction {
            routes: function.routes.clone(),
            limits: function.limits,
            auth: function.auth.clone(),
            route_auth: function.route_auth.clone(),
        };
        let (record, _) = client.put_function(tenant, name, &spec).await?;
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
        client.upload(tenant, name, Bytes::from(bytes)).await?;
        client.activate(tenant, name, &digest).await?;
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
    print_access(&manifest);
    Ok((manifest, deployed))
}

/// Says which routes answer without a token, so nobody ships an open
/// route by accident.
fn print_access(manifest: &Manifest) {
    let tenant_has_auth = manifest.auth.is_some();
    println!("access:");
    for function in &manifest.functions {
        for (route, access) in function.route_access(tenant_has_auth) {
            println!("  {route} ({}): {access}", function.name);
        }
    }
}

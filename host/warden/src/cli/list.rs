//! `warden tenants` and `warden versions`: plain-text listings.

use super::{AdminClient, CliError};
use warden_api::FunctionRecord;

/// Prints every tenant and its hosts.
pub async fn tenants(client: &AdminClient) -> Result<(), CliError> {
    let tenants = client.tenants().await?;
    if tenants.is_empty() {
        println!("no tenants");
    }
    for t in tenants {
        if t.hosts.is_empty() {
            println!("{}", t.name);
        } else {
            println!("{}\t{}", t.name, t.hosts.join(","));
        }
    }
    Ok(())
}

/// Prints the versions of one or all functions of `tenant`, marking the
/// active one with `*`.
pub async fn versions(
    client: &AdminClient,
    tenant: &str,
    function: Option<&str>,
) -> Result<(), CliError> {
    let functions: Vec<FunctionRecord> = match function {
        Some(f) => vec![client.function(tenant, f).await?],
        None => client.functions(tenant).await?,
    };
    for f in functions {
        println!("{} ({})", f.name, f.routes.join(" "));
        let versions = client.versions(tenant, &f.name).await?;
        for v in versions {
            let marker = if f.active.as_deref() == Some(v.digest.as_str()) {
                "*"
            } else {
                " "
            };
            println!(
                "  {marker} sha256:{}  {} bytes  created {}",
                v.digest, v.size, v.created_at
            );
        }
    }
    Ok(())
}

//! `warden tenants` and `warden versions`: plain-text listings.

use super::{AdminClient, CliError};
use crate::registry::{FunctionRecord, TenantRecord, VersionRecord};
use http::Method;

/// Prints every tenant and its hosts.
pub async fn tenants(client: &AdminClient) -> Result<(), CliError> {
    let (_, tenants): (_, Vec<TenantRecord>) =
        client.send(Method::GET, "/v1/tenants", None).await?;
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
        Some(f) => {
            let (_, record) = client
                .send(
                    Method::GET,
                    &format!("/v1/tenants/{tenant}/functions/{f}"),
                    None,
                )
                .await?;
            vec![record]
        }
        None => {
            client
                .send(
                    Method::GET,
                    &format!("/v1/tenants/{tenant}/functions"),
                    None,
                )
                .await?
                .1
        }
    };
    for f in functions {
        println!("{} ({})", f.name, f.routes.join(" "));
        let (_, versions): (_, Vec<VersionRecord>) = client
            .send(
                Method::GET,
                &format!("/v1/tenants/{tenant}/functions/{}/versions", f.name),
                None,
            )
            .await?;
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

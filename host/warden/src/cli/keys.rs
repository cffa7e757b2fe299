//! `warden keys create|list|rotate|retire TENANT` and `warden token mint
//! TENANT`: a tenant's signing keys, and an access token signed with the
//! active one. Only public halves are ever printed.

use super::{AdminArgs, AdminClient, CliError, admin_client};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use warden_api::{KeyAlg, KeyInfo, MintToken, NewKeyRequest};

/// What to do with a tenant's keys.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key (active if the tenant has none, else verify-only).
    Create(NewKeyArgs),
    /// List keys: kid, algorithm, state, validity.
    List(TenantArgs),
    /// Make a new key active; the previous one verifies for the overlap.
    Rotate(NewKeyArgs),
    /// Retire a key: tokens signed with it are refused from now on.
    Retire(RetireArgs),
}

/// What to do with tokens.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Print an access token signed with the tenant's active key.
    Mint(MintArgs),
}

/// The tenant, and how to reach the admin API.
#[derive(Debug, Args)]
pub struct TenantArgs {
    /// Tenant.
    tenant: String,
    #[command(flatten)]
    admin: AdminArgs,
}

/// A key to create or rotate to.
#[derive(Debug, Args)]
pub struct NewKeyArgs {
    /// Tenant.
    tenant: String,
    /// Algorithm: EdDSA (default), ES256, RS256, HS256.
    #[arg(long, value_parser = parse_alg)]
    alg: Option<KeyAlg>,
    /// HS256 only: file holding the secret to import (raw bytes, >= 32).
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,
    /// RS256 only: modulus size in bits (default 2048).
    #[arg(long)]
    rsa_bits: Option<usize>,
    /// End of the validity window, seconds since the epoch.
    #[arg(long)]
    not_after: Option<u64>,
    #[command(flatten)]
    admin: AdminArgs,
}

/// A key to retire.
#[derive(Debug, Args)]
pub struct RetireArgs {
    /// Tenant.
    tenant: String,
    /// The key's id.
    kid: String,
    #[command(flatten)]
    admin: AdminArgs,
}

/// A token to mint.
#[derive(Debug, Args)]
pub struct MintArgs {
    /// Tenant.
    tenant: String,
    /// Subject (`sub`).
    #[arg(long)]
    sub: String,
    /// Scope to grant (repeat for several).
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// Lifetime in seconds (default: the tenant's maximum).
    #[arg(long)]
    ttl: Option<u64>,
    /// Audience (default: the tenant's first).
    #[arg(long)]
    aud: Option<String>,
    #[command(flatten)]
    admin: AdminArgs,
}

fn parse_alg(text: &str) -> Result<KeyAlg, String> {
    KeyAlg::from_jws(text)
        .ok_or_else(|| format!("unknown algorithm {text:?}: use EdDSA, ES256, RS256 or HS256"))
}

fn new_key(args: &NewKeyArgs) -> Result<NewKeyRequest, CliError> {
    use base64::Engine as _;
    let secret = args
        .secret_file
        .as_ref()
        .map(|path| {
            std::fs::read(path)
                .map(|bytes| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
                .map_err(|e| CliError::Other(format!("cannot read {}: {e}", path.display())))
        })
        .transpose()?;
    Ok(NewKeyRequest {
        alg: args.alg,
        secret,
        rsa_bits: args.rsa_bits,
        not_after: args.not_after,
    })
}

fn print_key(key: &KeyInfo) {
    let until = key
        .not_after
        .map_or_else(|| "-".to_string(), |t| t.to_string());
    println!(
        "{}\t{}\t{:?}\tfrom {}\tuntil {until}",
        key.kid,
        key.alg.as_jws(),
        key.state,
        key.not_before
    );
}

/// Runs a `warden keys` subcommand.
pub async fn keys(command: KeysCommand) -> Result<(), CliError> {
    match command {
        KeysCommand::Create(args) => {
            let client = admin_client(&args.admin)?;
            print_key(&client.create_key(&args.tenant, &new_key(&args)?).await?);
        }
        KeysCommand::List(args) => {
            let client: AdminClient = admin_client(&args.admin)?;
            let keys = client.keys(&args.tenant).await?;
            if keys.is_empty() {
                println!("no keys");
            }
            keys.iter().for_each(print_key);
        }
        KeysCommand::Rotate(args) => {
            let client = admin_client(&args.admin)?;
            print_key(&client.rotate_key(&args.tenant, &new_key(&args)?).await?);
        }
        KeysCommand::Retire(args) => {
            let client = admin_client(&args.admin)?;
            print_key(&client.retire_key(&args.tenant, &args.kid).await?);
        }
    }
    Ok(())
}

/// Runs a `warden token` subcommand: prints the token alone on stdout.
pub async fn token(command: TokenCommand) -> Result<(), CliError> {
    match command {
        TokenCommand::Mint(args) => {
            let client = admin_client(&args.admin)?;
            let request = MintToken {
                subject: args.sub,
                scopes: args.scopes,
                ttl_s: args.ttl,
                audience: args.aud,
                claims: Default::default(),
            };
            println!("{}", client.mint_token(&args.tenant, &request).await?.token);
        }
    }
    Ok(())
}

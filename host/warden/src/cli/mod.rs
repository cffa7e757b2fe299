//! The `warden` command line: `serve`, `deploy`, `up`, `tenants`,
//! `versions`, `keys` and `token`.
//!
//! Every failure prints one `error: ...` line saying what to do about it
//! and exits with status 1; usage mistakes exit with clap's status 2.

mod accounts;
mod deploy;
mod error;
mod keys;
mod list;
mod serve;

pub use deploy::{Deployed, deploy};
pub use error::CliError;
pub use warden_api::{AdminClient, ClientError};

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Warden: run tenants' WebAssembly components behind one gateway.
#[derive(Debug, Parser)]
#[command(name = "warden", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway and the admin API (embedded defaults need no config).
    Serve(ServeArgs),
    /// Upload what changed in a manifest (warden.toml) and activate it.
    Deploy(DeployArgs),
    /// Serve with embedded defaults and deploy a manifest: the first minute.
    Up(UpArgs),
    /// List tenants.
    Tenants(AdminArgs),
    /// List versions of a tenant's functions.
    Versions(VersionsArgs),
    /// Manage a tenant's signing keys.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Mint an access token with a tenant's active key.
    #[command(subcommand)]
    Token(keys::TokenCommand),
    /// Manage a tenant's users (the people of its login page).
    #[command(subcommand)]
    Users(accounts::UsersCommand),
    /// Manage a tenant's OAuth clients.
    #[command(subcommand)]
    Clients(accounts::ClientsCommand),
    /// Manage a tenant's scoped admin tokens.
    #[command(subcommand)]
    AdminTokens(accounts::AdminTokensCommand),
}

/// Where and how to serve.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Host configuration file (TOML). Defaults are used when omitted.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory (registry, components, artifacts, admin token).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Gateway address.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Admin API address.
    #[arg(long, value_name = "ADDR")]
    admin_listen: Option<SocketAddr>,
}

/// How to reach the admin API.
#[derive(Debug, Clone, Args)]
pub struct AdminArgs {
    /// Admin API URL.
    #[arg(
        long,
        env = "WARDEN_ADMIN_URL",
        default_value = "http://127.0.0.1:8081"
    )]
    admin_url: String,
    /// Admin token; defaults to the one in the local data dir.
    #[arg(long, env = "WARDEN_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Local data dir whose admin-token to fall back to.
    #[arg(long, value_name = "DIR", default_value = ".warden")]
    data_dir: PathBuf,
}

#[derive(Debug, Args)]
struct DeployArgs {
    /// Manifest to deploy.
    #[arg(default_value = "warden.toml")]
    manifest: PathBuf,
    #[command(flatten)]
    admin: AdminArgs,
}

#[derive(Debug, Args)]
struct UpArgs {
    /// Manifest to deploy.
    #[arg(default_value = "warden.toml")]
    manifest: PathBuf,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Args)]
struct VersionsArgs {
    /// Tenant.
    tenant: String,
    /// Only this function.
    function: Option<String>,
    #[command(flatten)]
    admin: AdminArgs,
}

/// A client from flags/env, falling back to the local data dir's token.
pub fn admin_client(args: &AdminArgs) -> Result<AdminClient, CliError> {
    let token = match &args.admin_token {
        Some(token) => token.clone(),
        None => crate::admin::token::read(&args.data_dir).ok_or_else(|| {
            CliError::Client(ClientError::Unauthorized(format!(
                "no admin token: pass --admin-token, set WARDEN_ADMIN_TOKEN, or run where {} holds the admin-token file",
                args.data_dir.display()
            )))
        })?,
    };
    Ok(AdminClient::new(&args.admin_url, &token))
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::serve(args).await,
            Command::Up(args) => serve::up(args.serve, &args.manifest).await,
            Command::Deploy(args) => {
                let client = admin_client(&args.admin)?;
                deploy::deploy(&client, &args.manifest).await.map(|_| ())
            }
            Command::Tenants(args) => list::tenants(&admin_client(&args)?).await,
            Command::Versions(args) => {
                let client = admin_client(&args.admin)?;
                list::versions(&client, &args.tenant, args.function.as_deref()).await
            }
            Command::Keys(command) => keys::keys(command).await,
            Command::Token(command) => keys::token(command).await,
            Command::Users(command) => accounts::users(command).await,
            Command::Clients(command) => accounts::clients(command).await,
            Command::AdminTokens(command) => accounts::admin_tokens(command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

//! `warden users ...`, `warden clients ...` and `warden admin-tokens ...`:
//! a tenant's token service from the command line. Secrets (a client
//! secret, an admin token, recovery codes) are printed by the command that
//! creates them and never again; a user's password is read from a file or
//! stdin, never from the command line (where `ps` would show it).

use super::{AdminArgs, CliError, admin_client};
use clap::{Args, Subcommand};
use std::io::BufRead as _;
use std::path::PathBuf;
use warden_api::{
    AdminScope, ClientInfo, ClientKind, GrantType, NewAdminToken, NewClient, NewUser, UserInfo,
};

/// A tenant and one of its objects (user, client, admin token).
#[derive(Debug, Args)]
pub struct ObjectArgs {
    /// Tenant.
    tenant: String,
    /// The object's id.
    id: String,
    #[command(flatten)]
    admin: AdminArgs,
}

/// Just the tenant.
#[derive(Debug, Args)]
pub struct TenantOnly {
    /// Tenant.
    tenant: String,
    #[command(flatten)]
    admin: AdminArgs,
}

/// What to do with a tenant's users.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user; the password is read from --password-file or stdin.
    Create(NewUserArgs),
    /// List users: id, name, disabled, MFA.
    List(TenantOnly),
    /// Disable a user (its sessions end).
    Disable(ObjectArgs),
    /// Enable a user again.
    Enable(ObjectArgs),
    /// Delete a user.
    Delete(ObjectArgs),
    /// Start TOTP enrolment: prints the otpauth:// URI to scan.
    Totp(ObjectArgs),
    /// Confirm TOTP with a first code: prints ten recovery codes, once.
    ConfirmTotp(ConfirmArgs),
    /// List a user's sessions.
    Sessions(ObjectArgs),
    /// Revoke all of a user's sessions.
    RevokeSessions(ObjectArgs),
}

/// A user to create.
#[derive(Debug, Args)]
pub struct NewUserArgs {
    /// Tenant.
    tenant: String,
    /// Login name.
    username: String,
    /// File whose first line is the password (default: stdin).
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
    #[command(flatten)]
    admin: AdminArgs,
}

/// A TOTP confirmation.
#[derive(Debug, Args)]
pub struct ConfirmArgs {
    /// Tenant.
    tenant: String,
    /// User id.
    id: String,
    /// The current six-digit code.
    code: String,
    #[command(flatten)]
    admin: AdminArgs,
}

/// What to do with a tenant's OAuth clients.
#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Register a client; prints its id, its secret (once) and the endpoints.
    Register(NewClientArgs),
    /// List clients.
    List(TenantOnly),
    /// Replace a confidential client's secret; prints the new one, once.
    RotateSecret(ObjectArgs),
    /// Delete a client.
    Delete(ObjectArgs),
}

/// A client to register.
#[derive(Debug, Args)]
pub struct NewClientArgs {
    /// Tenant.
    tenant: String,
    /// Display name (shown on the login page).
    #[arg(long)]
    name: String,
    /// A server that keeps a secret (default: a public app, PKCE only).
    #[arg(long)]
    confidential: bool,
    /// Exact redirect URI (repeat for several).
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Grant: authorization_code, refresh_token, client_credentials (repeat).
    #[arg(long = "grant", value_parser = parse_grant)]
    grants: Vec<GrantType>,
    /// Scope the client may ask for (repeat).
    #[arg(long = "scope")]
    scopes: Vec<String>,
    #[command(flatten)]
    admin: AdminArgs,
}

/// What to do with a tenant's scoped admin tokens.
#[derive(Debug, Subcommand)]
pub enum AdminTokensCommand {
    /// Create a token; prints it, once.
    Create(NewAdminTokenArgs),
    /// List tokens (never their secrets).
    List(TenantOnly),
    /// Revoke a token at once.
    Revoke(ObjectArgs),
}

/// An admin token to create.
#[derive(Debug, Args)]
pub struct NewAdminTokenArgs {
    /// Tenant.
    tenant: String,
    /// What it is for.
    #[arg(long)]
    name: String,
    /// Scope: deploy, read, keys, users, admin (repeat).
    #[arg(long = "scope", value_parser = parse_scope, required = true)]
    scopes: Vec<AdminScope>,
    /// Lifetime in seconds (at most a year).
    #[arg(long, default_value_t = 30 * 86_400)]
    ttl: u64,
    #[command(flatten)]
    admin: AdminArgs,
}

fn parse_grant(text: &str) -> Result<GrantType, String> {
    GrantType::parse(text).map_err(|_| {
        format!("unknown grant {text:?}: authorization_code, refresh_token or client_credentials")
    })
}

fn parse_scope(text: &str) -> Result<AdminScope, String> {
    serde_json::from_value(serde_json::Value::String(text.into()))
        .map_err(|_| format!("unknown scope {text:?}: deploy, read, keys, users or admin"))
}

fn read_password(file: Option<&PathBuf>) -> Result<String, CliError> {
    let line = match file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| CliError::Other(format!("cannot read {}: {e}", path.display())))?
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
        None => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).map_err(|e| {
                CliError::Other(format!("cannot read the password from stdin: {e}"))
            })?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    Ok(line)
}

fn print_user(user: &UserInfo) {
    let state = if user.disabled { "disabled" } else { "enabled" };
    let mfa = if user.mfa { "totp" } else { "password" };
    println!("{}\t{}\t{state}\t{mfa}", user.user_id, user.username);
}

fn print_client(client: &ClientInfo) {
    let grants: Vec<&str> = client.grant_types.iter().map(|g| g.as_str()).collect();
    println!(
        "{}\t{}\t{:?}\t{}\t{}",
        client.client_id,
        client.name,
        client.kind,
        grants.join(","),
        client.redirect_uris.join(" ")
    );
}

/// Runs a `warden users` subcommand.
pub async fn users(command: UsersCommand) -> Result<(), CliError> {
    match command {
        UsersCommand::Create(args) => {
            let password = read_password(args.password_file.as_ref())?;
            let client = admin_client(&args.admin)?;
            let user = NewUser {
                username: args.username,
                password,
            };
            print_user(&client.create_user(&args.tenant, &user).await?);
        }
        UsersCommand::List(args) => {
            let users = admin_client(&args.admin)?.users(&args.tenant).await?;
            if users.is_empty() {
                println!("no users");
            }
            users.iter().for_each(print_user);
        }
        UsersCommand::Disable(args) => {
            let client = admin_client(&args.admin)?;
            print_user(
                &client
                    .set_user_disabled(&args.tenant, &args.id, true)
                    .await?,
            );
        }
        UsersCommand::Enable(args) => {
            let client = admin_client(&args.admin)?;
            print_user(
                &client
                    .set_user_disabled(&args.tenant, &args.id, false)
                    .await?,
            );
        }
        UsersCommand::Delete(args) => {
            admin_client(&args.admin)?
                .delete_user(&args.tenant, &args.id)
                .await?;
            println!("deleted {}", args.id);
        }
        UsersCommand::Totp(args) => {
            let enrolled = admin_client(&args.admin)?
                .enroll_totp(&args.tenant, &args.id)
                .await?;
            println!("{}", enrolled.otpauth_uri);
        }
        UsersCommand::ConfirmTotp(args) => {
            let codes = admin_client(&args.admin)?
                .confirm_totp(&args.tenant, &args.id, &args.code)
                .await?;
            println!("recovery codes (shown once):");
            codes.recovery_codes.iter().for_each(|c| println!("{c}"));
        }
        UsersCommand::Sessions(args) => {
            let sessions = admin_client(&args.admin)?
                .sessions(&args.tenant, &args.id)
                .await?;
            if sessions.is_empty() {
                println!("no sessions");
            }
            for s in sessions {
                println!(
                    "{}\t{}\t{}\tauth_time {}\texpires {}",
                    s.session_id, s.client_id, s.acr, s.auth_time, s.expires_at
                );
            }
        }
        UsersCommand::RevokeSessions(args) => {
            let client = admin_client(&args.admin)?;
            let path = format!("/v1/tenants/{}/users/{}/sessions", args.tenant, args.id);
            let _: (_, serde_json::Value) = client.send(http::Method::DELETE, &path, None).await?;
            println!("revoked every session of {}", args.id);
        }
    }
    Ok(())
}

/// The tenant's token-service URLs, from its issuer's origin.
async fn print_endpoints(client: &warden_api::AdminClient, tenant: &str) -> Result<(), CliError> {
    let record = client.tenant(tenant).await?;
    let Some(issuer) = record.auth.and_then(|a| a.issuer) else {
        println!("note: tenant {tenant} has no [auth] issuer; its token service is off");
        return Ok(());
    };
    let base = issuer.trim_end_matches('/');
    println!("discovery:     {base}/.well-known/openid-configuration");
    println!("authorize:     {base}/oauth2/authorize");
    println!("token:         {base}/oauth2/token");
    println!("revoke:        {base}/oauth2/revoke");
    println!("introspect:    {base}/oauth2/introspect");
    println!("userinfo:      {base}/oauth2/userinfo");
    println!("jwks:          {base}/.well-known/jwks.json");
    Ok(())
}

/// Runs a `warden clients` subcommand.
pub async fn clients(command: ClientsCommand) -> Result<(), CliError> {
    match command {
        ClientsCommand::Register(args) => {
            let client = admin_client(&args.admin)?;
            let kind = if args.confidential {
                ClientKind::Confidential
            } else {
                ClientKind::Public
            };
            let grants = if args.grants.is_empty() {
                vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
            } else {
                args.grants
            };
            let spec = NewClient {
                name: args.name,
                kind,
                redirect_uris: args.redirect_uris,
                grant_types: grants,
                scopes: args.scopes,
            };
            let registered = client.register_client(&args.tenant, &spec).await?;
            println!("client_id:     {}", registered.client.client_id);
            if let Some(secret) = &registered.client_secret {
                println!("client_secret: {secret}  (shown once)");
            }
            print_endpoints(&client, &args.tenant).await?;
        }
        ClientsCommand::List(args) => {
            let clients = admin_client(&args.admin)?.clients(&args.tenant).await?;
            if clients.is_empty() {
                println!("no clients");
            }
            clients.iter().for_each(print_client);
        }
        ClientsCommand::RotateSecret(args) => {
            let rotated = admin_client(&args.admin)?
                .rotate_client_secret(&args.tenant, &args.id)
                .await?;
            if let Some(secret) = rotated.client_secret {
                println!("client_secret: {secret}  (shown once)");
            }
        }
        ClientsCommand::Delete(args) => {
            admin_client(&args.admin)?
                .delete_client(&args.tenant, &args.id)
                .await?;
            println!("deleted {}", args.id);
        }
    }
    Ok(())
}

/// Runs a `warden admin-tokens` subcommand.
pub async fn admin_tokens(command: AdminTokensCommand) -> Result<(), CliError> {
    match command {
        AdminTokensCommand::Create(args) => {
            let spec = NewAdminToken {
                name: args.name,
                scopes: args.scopes,
                expires_at: warden_plugin_auth::unix_now().saturating_add(args.ttl),
            };
            let created = admin_client(&args.admin)?
                .create_admin_token(&args.tenant, &spec)
                .await?;
            println!("{}", created.token);
        }
        AdminTokensCommand::List(args) => {
            let tokens = admin_client(&args.admin)?
                .admin_tokens(&args.tenant)
                .await?;
            if tokens.is_empty() {
                println!("no admin tokens");
            }
            for t in tokens {
                println!(
                    "{}\t{}\t{:?}\texpires {}",
                    t.token_id, t.name, t.scopes, t.expires_at
                );
            }
        }
        AdminTokensCommand::Revoke(args) => {
            admin_client(&args.admin)?
                .revoke_admin_token(&args.tenant, &args.id)
                .await?;
            println!("revoked {}", args.id);
        }
    }
    Ok(())
}

//! `warden serve` and `warden up`.

use super::{AdminClient, CliError, ServeArgs};
use crate::config::HostConfig;
use crate::server::Warden;
use std::path::Path;

fn config_from(args: &ServeArgs) -> Result<HostConfig, CliError> {
    let mut config = match &args.config {
        Some(path) => HostConfig::from_file(path).map_err(|e| CliError::Other(e.to_string()))?,
        None => HostConfig::default(),
    };
    if let Some(dir) = &args.data_dir {
        config.data_dir = dir.clone();
    }
    if let Some(addr) = args.listen {
        config.listen = addr;
    }
    if let Some(addr) = args.admin_listen {
        config.admin_listen = addr;
    }
    // Warden::start validates the result, overrides included.
    Ok(config)
}

async fn start(
    args: &ServeArgs,
) -> Result<(Warden, Option<tracing_appender::non_blocking::WorkerGuard>), CliError> {
    let guard = crate::telemetry::init();
    let config = config_from(args)?;
    let data_dir = config.data_dir.clone();
    let warden = Warden::start(config).await?;
    println!(
        "warden listening on http://{} (admin http://{})",
        warden.addr, warden.admin_addr
    );
    if warden.token_created {
        println!(
            "admin token (shown once; stored in {}): {}",
            data_dir.join(crate::admin::token::TOKEN_FILE).display(),
            warden.admin_token()
        );
    }
    Ok((warden, guard))
}

/// Runs until SIGTERM or Ctrl-C, then drains.
pub async fn serve(args: ServeArgs) -> Result<(), CliError> {
    // Listen for signals before announcing the addresses: a SIGTERM sent
    // right after startup must drain, not kill.
    let signal = shutdown_signal()?;
    let (warden, _guard) = start(&args).await?;
    signal.await;
    println!("shutting down: draining in-flight requests");
    warden.shutdown().await;
    Ok(())
}

/// Serves and deploys `manifest` against itself, then prints what to curl.
pub async fn up(args: ServeArgs, manifest: &Path) -> Result<(), CliError> {
    let signal = shutdown_signal()?;
    let (warden, _guard) = start(&args).await?;
    let client = AdminClient::new(
        &format!("http://{}", warden.admin_addr),
        warden.admin_token(),
    );
    let (manifest, deployed) = match super::deploy::deploy(&client, manifest).await {
        Ok(result) => result,
        Err(e) => {
            warden.shutdown().await;
            return Err(e);
        }
    };
    let base = &warden.config().base_domain;
    let port = warden.addr.port();
    println!("\ntry:");
    for d in &deployed {
        for route in &d.routes {
            println!("  curl http://{}.{base}:{port}{route}", manifest.tenant);
        }
    }
    signal.await;
    println!("shutting down: draining in-flight requests");
    warden.shutdown().await;
    Ok(())
}

/// Registers SIGTERM and Ctrl-C now; the returned future resolves on either.
fn shutdown_signal() -> Result<impl Future<Output = ()>, CliError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| CliError::Other(format!("cannot listen for SIGTERM: {e}")))?;
    let mut int = signal(SignalKind::interrupt())
        .map_err(|e| CliError::Other(format!("cannot listen for SIGINT: {e}")))?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

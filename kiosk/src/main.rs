//! `gatehouse-kiosk --config FILE`: the lobby kiosk.

use anyhow::Context;
use clap::Parser;
use gatehouse_kiosk::Application;
use gatehouse_kiosk::config::KioskConfig;
use std::path::PathBuf;

#[derive(Parser)]
#[command(version, about = "The Gatehouse lobby kiosk")]
struct Args {
    /// The TOML configuration file.
    #[arg(long, env = "GATEHOUSE_KIOSK_CONFIG")]
    config: PathBuf,
    /// Overrides `listen` (loopback only), e.g. 127.0.0.1:0.
    #[arg(long, env = "GATEHOUSE_KIOSK_LISTEN")]
    listen: Option<std::net::SocketAddr>,
    /// Overrides `server_url`.
    #[arg(long, env = "GATEHOUSE_SERVER_URL")]
    server_url: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let mut config = KioskConfig::load(&args.config)?;
    if let Some(listen) = args.listen {
        anyhow::ensure!(
            listen.ip().is_loopback(),
            "--listen {listen} is not loopback"
        );
        config.listen = listen;
    }
    if let Some(url) = args.server_url {
        config.server_url = url
            .parse()
            .with_context(|| format!("--server-url {url:?}"))?;
    }
    let app = Application::build(config).await?;
    println!("gatehouse-kiosk listening on http://{}", app.local_addr());
    if std::env::var_os("NOTIFY_SOCKET").is_some() {
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    }
    app.run(shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers; stop with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {},
        _ = int.recv() => {},
    }
    tracing::info!("shutting down");
}

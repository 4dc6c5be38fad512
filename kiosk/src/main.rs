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
    gatehouse_shell::logging::init("info");
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
    // Handlers first: a SIGTERM right after the ready line must still stop the kiosk cleanly.
    let shutdown = gatehouse_shell::signal::shutdown()?;
    let app = Application::build(config).await?;
    println!("gatehouse-kiosk listening on http://{}", app.local_addr());
    gatehouse_shell::notify::ready();
    app.run(shutdown).await?;
    Ok(())
}

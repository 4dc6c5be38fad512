//! `gatehouse-gate --config FILE`: parse the config, init tracing, run until SIGTERM/SIGINT.

use anyhow::Context;
use clap::Parser;
use gatehouse_gate::app::{Application, Env};
use gatehouse_gate::config::Config;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The Gatehouse gate controller.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The TOML config file (see gate.example.toml).
    #[arg(long, env = "GATEHOUSE_GATE_CONFIG")]
    config: PathBuf,
    /// Overrides `status_listen` from the config.
    #[arg(long, env = "GATEHOUSE_STATUS_LISTEN")]
    status_listen: Option<SocketAddr>,
    /// Overrides `data_dir` from the config.
    #[arg(long, env = "GATEHOUSE_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // A log that cannot be written (stderr on a full disk) must not panic the gate.
        .log_internal_errors(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let mut config = Config::load(&cli.config)?;
    if let Some(addr) = cli.status_listen {
        config.status_listen = addr;
    }
    if let Some(dir) = cli.data_dir {
        config.data_dir = dir;
    }
    let env = Env {
        sim_clock_offset: std::env::var(gatehouse_gate::clock::SIM_OFFSET_ENV).ok(),
        enrolment_token: std::env::var("GATEHOUSE_ENROLMENT_TOKEN").ok(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        // Handlers first: a SIGTERM right after the ready line must still lock and exit 0.
        let shutdown = shutdown_signal()?;
        let app = Application::build(config, env).await?;
        let addr = app.status_addr()?;
        println!("gatehouse-gate status on http://{addr}");
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
        app.run(shutdown).await?;
        Ok(())
    })
}

/// Installs the SIGTERM and SIGINT handlers; the future resolves on either.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM"),
            _ = int.recv() => tracing::info!("SIGINT"),
        }
    })
}

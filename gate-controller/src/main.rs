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
    gatehouse_shell::logging::init("info");
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
        let shutdown = gatehouse_shell::signal::shutdown()?;
        let app = Application::build(config, env).await?;
        let addr = app.status_addr()?;
        println!("gatehouse-gate status on http://{addr}");
        gatehouse_shell::notify::ready();
        app.run(shutdown).await?;
        Ok(())
    })
}

//! `gatehouse-server`: parse the configuration, start logging, run until SIGTERM/SIGINT.

use anyhow::Context;
use clap::Parser;
use gatehouse_server::{Application, Cli, Config, ready_line, startup};
use std::io::Write;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    let config = Config::load(Cli::parse()).context("bad configuration")?;
    let app = Application::build(config).await.context("cannot start")?;
    let addr = app.local_addr().context("reading the bound address")?;
    let mut out = std::io::stdout().lock();
    if let Some(password) = &app.initial_admin_password {
        writeln!(out, "initial admin password: {password}")?;
    }
    writeln!(out, "{}", ready_line(addr))?;
    out.flush()?;
    drop(out);
    if let Err(e) = sd_notify::notify(&[sd_notify::NotifyState::Ready]) {
        tracing::warn!(error = %e, "sd_notify failed");
    }
    app.run_until(startup::shutdown_signal())
        .await
        .context("serving")?;
    Ok(())
}

//! `gatehouse-server`: parse the configuration, start logging, run until SIGTERM/SIGINT — or run
//! one operation on the data directory (`keys …`, `backup`, `restore`) and exit.

use anyhow::Context;
use clap::Parser;
use gatehouse_server::cli::Command;
use gatehouse_server::{Application, Cli, Config, backup, cli, keys, ready_line};
use std::io::Write;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    gatehouse_shell::logging::init("info,tower_http=warn");
    let cli = Cli::parse();
    let command = cli.command;
    let config = Config::load(cli.flags).context("bad configuration")?;
    match command {
        None => serve(config).await,
        Some(command) => operate(&config, &command),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    // Handlers first: a SIGTERM right after the ready line must still stop the server cleanly.
    let shutdown = gatehouse_shell::signal::shutdown()?;
    let app = Application::build(config).await.context("cannot start")?;
    let addr = app.local_addr().context("reading the bound address")?;
    let mut out = std::io::stdout().lock();
    if let Some(password) = &app.initial_admin_password {
        writeln!(out, "initial admin password: {password}")?;
    }
    writeln!(out, "{}", ready_line(addr))?;
    out.flush()?;
    drop(out);
    gatehouse_shell::notify::ready();
    app.run_until(shutdown).await.context("serving")?;
    Ok(())
}

/// Runs one operation on the data directory and prints what it did.
fn operate(config: &Config, command: &Command) -> anyhow::Result<()> {
    let dir = &config.data_dir;
    let now = chrono::Utc::now();
    let text = match command {
        Command::Keys(keys_command) => {
            let login = std::env::var("SUDO_USER")
                .or_else(|_| std::env::var("USER"))
                .ok();
            let actor = cli::keys::console_actor(login.as_deref());
            cli::keys::run(dir, keys_command, &actor, now).context("keys")?
        }
        Command::Backup { to } => {
            let done = backup::backup(dir, to, now).context("backup")?;
            format!(
                "backed up to {} ({} bytes; integrity ok; audit chain of {} entries verifies)\n",
                done.path.display(),
                done.bytes,
                done.audit_entries
            )
        }
        Command::Restore { from } => {
            let done = backup::restore(dir, from).context("restore")?;
            let mut text = format!(
                "restored {} from {} ({} bytes; integrity ok; audit chain of {} entries verifies)\n",
                done.database.path.display(),
                from.display(),
                done.database.bytes,
                done.database.audit_entries
            );
            if let Some(previous) = &done.previous {
                text.push_str(&format!(
                    "the previous database is kept as {}\n",
                    previous.display()
                ));
            }
            for key in &done.missing_keys {
                text.push_str(&format!(
                    "warning: {key} has no key file in {}: copy the key backup there before starting the server\n",
                    dir.join(keys::file::DIR).display()
                ));
            }
            text
        }
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

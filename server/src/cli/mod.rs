//! The command line of `gatehouse-server`: the configuring [`Flags`] and, instead of serving,
//! an operation on the data directory.

pub mod keys;

use crate::config::Flags;
use clap::Parser;
use std::path::PathBuf;

/// The command line of `gatehouse-server`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "gatehouse-server",
    version,
    about = "Gatehouse server: system of record, credential signer, gate sync"
)]
pub struct Cli {
    /// The flags that configure the server.
    #[command(flatten)]
    pub flags: Flags,
    /// What to do instead of serving (the default is to serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// An operation on the data directory instead of serving.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum Command {
    /// Signing keys: list, add, activate, retire. Safe while the server runs: it picks the
    /// change up from the database and gates learn it within a second.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Copies the database with SQLite's online backup API (safe while the server runs),
    /// fsyncs it and checks it with `PRAGMA integrity_check`.
    Backup {
        /// The backup file to create, or an existing directory to create
        /// `gatehouse-<UTC time>.db` in.
        #[arg(long)]
        to: PathBuf,
    },
    /// Replaces the database with a backup, keeping the previous one as
    /// `gatehouse.db.before-restore`; refused while a server runs on the data directory.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
    },
}

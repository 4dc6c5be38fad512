//! `gatehouse-server keys …`: the key commands an operator runs on the data directory, with or
//! without the server running. They open the database as a second connection, change it in one
//! immediate transaction, and leave the running server to pick the change up (see
//! [`crate::keys`]).

use crate::auth::{Actor, Role, Staff};
use crate::domain::signing_keys;
use crate::keys::{KeyError, KeyRecord, file, records};
use chrono::{DateTime, Utc};
use gatehouse_credential::KeyId;
use rusqlite::{Connection, TransactionBehavior};
use std::fmt::Write as _;
use std::path::Path;

/// One key command.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum KeysCommand {
    /// Every key: id, state, dates, fingerprint, cards in use (never a secret).
    List,
    /// Creates the next free key id as `published`: gates receive it, nothing is signed with it.
    Add,
    /// Makes key ID the signing key; the previous one stays published.
    Activate {
        /// The key id, 0–15.
        #[arg(value_parser = clap::value_parser!(u8).range(0..=15))]
        id: u8,
    },
    /// Drops key ID from the gates and destroys its secret; refused while cards signed with it
    /// still work, unless --force.
    Retire {
        /// The key id, 0–15.
        #[arg(value_parser = clap::value_parser!(u8).range(0..=15))]
        id: u8,
        /// Retire even though unexpired, unrevoked cards were signed with it (they stop working).
        #[arg(long)]
        force: bool,
    },
}

/// Why a key command failed.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// The data directory has no database yet.
    #[error("no database at {0}: start the server once on this data directory first")]
    NoDatabase(std::path::PathBuf),
    /// Opening the database failed.
    #[error("database: {0}")]
    Db(#[from] crate::db::DbError),
    /// The key operation was refused or failed.
    #[error(transparent)]
    Key(#[from] KeyError),
}

impl From<rusqlite::Error> for ConsoleError {
    fn from(e: rusqlite::Error) -> Self {
        ConsoleError::Key(KeyError::Db(e))
    }
}

/// Who the audit log names for a console command: `manager:console:<login name>`.
pub fn console_actor(login: Option<&str>) -> Actor {
    let name: String = login
        .unwrap_or("unknown")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(32)
        .collect();
    Actor::Manager(Staff {
        id: 0,
        username: format!("console:{name}"),
        role: Role::Manager,
    })
}

/// Opens the database of `data_dir`, refusing to create one.
pub fn open(data_dir: &Path) -> Result<Connection, ConsoleError> {
    let path = data_dir.join(crate::db::DB_FILE);
    if !path.exists() {
        return Err(ConsoleError::NoDatabase(path));
    }
    Ok(crate::store::connect(&path)?)
}

/// Runs `command` on `data_dir` as `actor` and returns what to print.
pub fn run(
    data_dir: &Path,
    command: &KeysCommand,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<String, ConsoleError> {
    let mut conn = open(data_dir)?;
    let id = |id: u8| KeyId::new(id).ok_or(KeyError::NotFound(id));
    let mut out = String::new();
    match command {
        KeysCommand::List => {
            out = list(&conn, now)?;
        }
        KeysCommand::Add => {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let key = signing_keys::add(&tx, data_dir, actor, now)?;
            tx.commit()?;
            let _ = writeln!(
                out,
                "added key {} ({}), published: gates receive it now.\n\
                 Activate it once every gate has synced: gatehouse-server keys activate {}",
                key.key_id,
                key.fingerprint(),
                key.key_id
            );
        }
        KeysCommand::Activate { id: n } => {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let key = signing_keys::activate(&tx, data_dir, actor, id(*n)?, now)?;
            tx.commit()?;
            let _ = writeln!(
                out,
                "key {} ({}) is active: new credentials are signed with it; earlier keys stay published.",
                key.key_id,
                key.fingerprint()
            );
        }
        KeysCommand::Retire { id: n, force } => {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let retired = signing_keys::retire(&tx, actor, id(*n)?, *force, now)?;
            tx.commit()?;
            file::remove(data_dir, retired.key.key_id)?;
            let _ = writeln!(
                out,
                "key {} ({}) is retired: gates drop it at their next snapshot; its secret is deleted.",
                retired.key.key_id,
                retired.key.fingerprint()
            );
            if retired.cards_locked_out > 0 {
                let _ = writeln!(
                    out,
                    "{} card(s) signed with it no longer open any door: reprint them at the desk.",
                    retired.cards_locked_out
                );
            }
        }
    }
    Ok(out)
}

/// The `keys list` table.
pub fn list(conn: &Connection, now: DateTime<Utc>) -> Result<String, ConsoleError> {
    let keys = records(conn)?;
    let when = |t: Option<DateTime<Utc>>| {
        t.map_or_else(
            || "-".to_owned(),
            |t| t.format("%Y-%m-%d %H:%M").to_string(),
        )
    };
    let mut out = format!(
        "{:>2}  {:<9}  {:<16}  {:<16}  {:<16}  {:>13}  {}\n",
        "id",
        "state",
        "created (UTC)",
        "activated (UTC)",
        "retired (UTC)",
        "cards in use",
        "fingerprint"
    );
    for key in &keys {
        let in_use = if key.is_live() {
            signing_keys::cards_in_use(conn, key, now)?.to_string()
        } else {
            "-".to_owned()
        };
        out.push_str(&row(key, &in_use, &when));
    }
    Ok(out)
}

fn row(key: &KeyRecord, in_use: &str, when: &dyn Fn(Option<DateTime<Utc>>) -> String) -> String {
    format!(
        "{:>2}  {:<9}  {:<16}  {:<16}  {:<16}  {:>13}  {}\n",
        // The number, not `KeyId`'s Display, which ignores the column width.
        key.key_id.get(),
        key.state.as_str(),
        when(Some(key.created_at)),
        when(key.activated_at),
        when(key.retired_at),
        in_use,
        key.fingerprint()
    )
}

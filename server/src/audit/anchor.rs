//! The audit chain's head kept where the database alone cannot rewrite it.
//!
//! The head is the last entry's number and MAC (and where the keyed chain began). It is
//!
//! - written to `audit-head.json` in the data directory after every commit that appended to
//!   the log ([`Keeper`], run by the database thread), and logged there (target
//!   `gatehouse::audit`, message `audit chain head`), so the service log holds every head;
//! - written beside each backup as `<backup>.audit-head.json`.
//!
//! [`super::verify`] checks the database against the head file: an entry missing up to it, or
//! a different MAC at its number, means entries were cut off or an older copy of the database
//! was put in place. A head file that disagrees with the database when the server opens it is
//! left as it is (the disagreement stays visible to every verification) until `gatehouse-server
//! restore` puts a verified backup in place and writes the head anew.

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The head file's name in the data directory (not under `keys/`: the key backup is copied
/// back as a whole, and must not carry an older or newer head with it).
pub const FILE: &str = "audit-head.json";

/// The suffix of the metadata file written beside a backup.
pub const BACKUP_SUFFIX: &str = ".audit-head.json";

/// The head of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Head {
    /// The last entry's number (0: an empty log).
    pub seq: i64,
    /// The last entry's MAC.
    pub mac: String,
    /// The first entry chained with the key.
    pub keyed_from: Option<i64>,
}

/// Where the head file of `data_dir` lives.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// The head of the chain in `conn`.
pub fn current(conn: &Connection) -> rusqlite::Result<Head> {
    let (seq, mac) = last(conn)?;
    Ok(Head {
        seq,
        mac,
        keyed_from: keyed_from(conn)?,
    })
}

/// The last entry's number and MAC (0 and the genesis value for an empty log).
fn last(conn: &Connection) -> rusqlite::Result<(i64, String)> {
    Ok(conn
        .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get("seq")?, r.get("hash")?)))
        .optional()?
        .unwrap_or((0, super::GENESIS.to_owned())))
}

/// The first keyed entry's number. Keyed entries follow the plain ones, so the walk in `seq`
/// order stops at the first keyed one.
fn keyed_from(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT seq FROM audit_log WHERE keyed = 1 ORDER BY seq LIMIT 1")?
        .query_row([], |r| r.get(0))
        .optional()
}

/// Reads a head file; `None` if there is none.
pub fn read(file: &Path) -> std::io::Result<Option<Head>> {
    match std::fs::read(file) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes `head` to `file` atomically, private to the owner.
pub fn write(file: &Path, head: &Head) -> std::io::Result<()> {
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| std::io::Error::other("the head file needs a name"))?;
    let json = serde_json::to_vec_pretty(head).map_err(std::io::Error::other)?;
    crate::keys::file::write_private(dir, name, &json)
}

/// Keeps the head file of a data directory up to date; owned by the database thread.
#[derive(Debug)]
pub struct Keeper {
    file: PathBuf,
    /// The head last written (or found in the file).
    written: Option<Head>,
    /// The file disagreed with the database when it was opened: leave it as evidence.
    frozen: bool,
}

impl Keeper {
    /// A keeper for `data_dir`, checking its head file against `conn` once.
    pub fn open(data_dir: &Path, conn: &Connection) -> Keeper {
        let file = path(data_dir);
        let mut keeper = Keeper {
            written: None,
            frozen: false,
            file,
        };
        match read(&keeper.file) {
            Ok(Some(head)) => {
                let v = super::verify_head_only(conn, &head);
                if let Err(problem) = v {
                    tracing::error!(
                        target: "gatehouse::audit",
                        recorded_seq = head.seq,
                        recorded_mac = %head.mac,
                        %problem,
                        "the audit log does not reach the head recorded outside the database; \
                         the head file is kept as it is"
                    );
                    keeper.frozen = true;
                }
                keeper.written = Some(head);
            }
            Ok(None) => {
                if last(conn).is_ok_and(|(seq, _)| seq > 0) {
                    tracing::warn!(target: "gatehouse::audit", file = %keeper.file.display(), "no audit head file; writing it from the database");
                }
            }
            Err(e) => {
                tracing::error!(target: "gatehouse::audit", file = %keeper.file.display(), error = %e, "the audit head file cannot be read; it is kept as it is");
                keeper.frozen = true;
            }
        }
        keeper
    }

    /// After a commit: writes and logs the head if the log grew.
    pub fn after_commit(&mut self, conn: &Connection) {
        if self.frozen {
            return;
        }
        // One indexed read per commit; the rest only when the log grew.
        let (seq, mac) = match last(conn) {
            Ok(last) => last,
            Err(e) => return tracing::error!(error = %e, "reading the audit head failed"),
        };
        if self.written.as_ref().is_some_and(|w| w.seq >= seq) {
            return;
        }
        let keyed_from = match self.written.as_ref().and_then(|w| w.keyed_from) {
            Some(known) => Some(known),
            None => match keyed_from(conn) {
                Ok(k) => k,
                Err(e) => return tracing::error!(error = %e, "reading the audit head failed"),
            },
        };
        let head = Head {
            seq,
            mac,
            keyed_from,
        };
        tracing::info!(target: "gatehouse::audit", seq = head.seq, mac = %head.mac, "audit chain head");
        match write(&self.file, &head) {
            Ok(()) => self.written = Some(head),
            Err(e) => {
                tracing::error!(file = %self.file.display(), error = %e, "writing the audit head failed")
            }
        }
    }
}

/// The metadata file beside the backup `backup`.
pub fn backup_metadata(backup: &Path) -> PathBuf {
    let mut name = backup.file_name().unwrap_or_default().to_os_string();
    name.push(BACKUP_SUFFIX);
    backup.with_file_name(name)
}

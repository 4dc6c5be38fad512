//! Backup and restore of the database, and the lock that says a server runs on a data
//! directory.
//!
//! - [`backup`] copies the database with SQLite's online backup API from a second connection:
//!   one step under one read transaction, so the copy is a consistent snapshot while the server
//!   keeps writing (WAL readers never block the writer). The copy is a single self-contained
//!   file (rollback journal mode), fsynced, checked with `PRAGMA integrity_check` and the audit
//!   chain, and only then renamed into place.
//! - [`restore`] takes the data directory's lock (refused while a server holds it), verifies the
//!   backup the same way, copies it next to the database, keeps the previous database as
//!   `gatehouse.db.before-restore` and renames the copy into place.
//!
//! Signing key secrets are not in the database: they are files under `keys/`, backed up
//! separately (see `deploy/OPERATIONS.md`). The audit chain is verified with the data
//! directory's audit-chain key (`keys/audit-chain.key`). Each backup gets a metadata file beside
//! it, `<backup>.audit-head.json`, holding its audit chain's head ([`crate::audit::anchor`]); a
//! restore checks the backup against it and writes the data directory's head file anew.

use crate::audit::anchor::{self, Head};
use crate::db::DB_FILE;
use crate::db::migrations::MIGRATIONS;
use crate::keys::audit_chain::AuditKey;
use crate::keys::file::match_owner;
use chrono::{DateTime, Utc};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::SchemaVersion;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The lock file a running server holds (an advisory `flock`, released when the process ends,
/// even by `kill -9`).
pub const LOCK_FILE: &str = "gatehouse.lock";

/// What a restore keeps of the database it replaces.
pub const BEFORE_RESTORE: &str = "gatehouse.db.before-restore";

/// Why a backup or restore failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// A server holds the data directory.
    #[error(
        "a gatehouse-server is running on {0}: stop it first (systemctl stop gatehouse-server)"
    )]
    ServerRunning(PathBuf),
    /// There is no database to back up.
    #[error("no database at {0}")]
    NoDatabase(PathBuf),
    /// The backup file would overwrite something.
    #[error("{0} already exists: choose a new file name, or a directory")]
    Exists(PathBuf),
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// SQLite failed.
    #[error("{path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
    /// The copy or the backup is damaged.
    #[error("{path} failed the integrity check: {report}")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What `PRAGMA integrity_check` or the audit chain check said.
        report: String,
    },
    /// The file is not a Gatehouse database this version can run.
    #[error("{path} is not a Gatehouse database this server can use: {reason}")]
    NotGatehouse {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

fn sql(path: &Path) -> impl Fn(rusqlite::Error) -> BackupError + '_ {
    move |source| BackupError::Sqlite {
        path: path.to_owned(),
        source,
    }
}

/// The held lock of a data directory; released when dropped or when the process ends.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Takes the lock of `data_dir`, or says that a server holds it.
    pub fn acquire(data_dir: &Path) -> Result<Self, BackupError> {
        let path = data_dir.join(LOCK_FILE);
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(io(&path))?;
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(DataDirLock { _file: file }),
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
                Err(BackupError::ServerRunning(data_dir.to_owned()))
            }
            Err(e) => Err(io(&path)(e.into())),
        }
    }
}

/// What a finished backup or restore checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The database file written.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Audit entries whose chain was verified.
    pub audit_entries: u64,
    /// The head of that chain.
    pub audit_head: Head,
}

/// Copies the database of `data_dir` to `to` (a new file, or a directory to create
/// `gatehouse-<UTC time>.db` in). Safe while the server runs.
pub fn backup(data_dir: &Path, to: &Path, now: DateTime<Utc>) -> Result<Checked, BackupError> {
    let source = data_dir.join(DB_FILE);
    if !source.exists() {
        return Err(BackupError::NoDatabase(source));
    }
    let dest = if to.is_dir() {
        to.join(format!("gatehouse-{}.db", now.format("%Y%m%dT%H%M%SZ")))
    } else {
        to.to_owned()
    };
    if dest.exists() {
        return Err(BackupError::Exists(dest));
    }
    let src = Connection::open_with_flags(
        &source,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql(&source))?;
    src.busy_timeout(Duration::from_secs(10))
        .map_err(sql(&source))?;
    let key = audit_key(data_dir)?;
    let partial = sibling(&dest, ".partial");
    copy_verified(&src, &partial, key.as_ref(), None)?;
    std::fs::rename(&partial, &dest).map_err(io(&dest))?;
    sync_parent(&dest)?;
    let done = checked(&dest, key.as_ref())?;
    // The head in the backup's metadata, outside the database: a later rollback to an older
    // database, or entries cut off this backup, are found against it.
    let metadata = anchor::backup_metadata(&dest);
    anchor::write(&metadata, &done.audit_head).map_err(io(&metadata))?;
    tracing::info!(target: "gatehouse::audit", seq = done.audit_head.seq, mac = %done.audit_head.mac, backup = %dest.display(), "audit chain head in backup");
    Ok(done)
}

/// The audit-chain key of `data_dir`, if it has one.
fn audit_key(data_dir: &Path) -> Result<Option<AuditKey>, BackupError> {
    AuditKey::load(data_dir).map_err(|e| BackupError::Io {
        path: data_dir.join(crate::keys::file::DIR),
        source: std::io::Error::other(e.to_string()),
    })
}

/// Replaces the database of `data_dir` with the backup `from`; refused while a server runs
/// there. The previous database is kept as [`BEFORE_RESTORE`].
pub fn restore(data_dir: &Path, from: &Path) -> Result<Restored, BackupError> {
    std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    let _lock = DataDirLock::acquire(data_dir)?;
    if !from.is_file() {
        return Err(BackupError::NoDatabase(from.to_owned()));
    }
    let src = Connection::open_with_flags(
        from,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql(from))?;
    // Without the key file (restored separately, like the signing keys) the chain's MACs
    // cannot be checked here; the server will not start until the key file is back.
    let key = audit_key(data_dir)?;
    // The head written beside the backup when it was made, if it is still there.
    let metadata = anchor::backup_metadata(from);
    let recorded = anchor::read(&metadata).map_err(io(&metadata))?;
    verify(&src, from, key.as_ref(), recorded.as_ref())?;
    let target = data_dir.join(DB_FILE);
    let incoming = data_dir.join(format!("{DB_FILE}.restoring"));
    copy_verified(&src, &incoming, key.as_ref(), recorded.as_ref())?;
    drop(src);
    match_owner(&incoming, data_dir).map_err(io(&incoming))?;
    let previous = if target.exists() {
        Some(set_aside(data_dir, &target)?)
    } else {
        None
    };
    std::fs::rename(&incoming, &target).map_err(io(&target))?;
    sync_parent(&target)?;
    let conn = Connection::open(&target).map_err(sql(&target))?;
    let mut missing_keys: Vec<String> = crate::keys::records(&conn)
        .map_err(sql(&target))?
        .into_iter()
        .filter(|k| k.is_live())
        .filter(|k| crate::keys::file::load(data_dir, k.key_id, &k.public_key).is_err())
        .map(|k| format!("key {} ({})", k.key_id, k.fingerprint()))
        .collect();
    if key.is_none() {
        missing_keys.push(format!(
            "the audit-chain key {} (the audit chain's MACs were not checked)",
            crate::keys::audit_chain::FILE
        ));
    }
    let database = checked(&target, key.as_ref())?;
    // The restored database is the chain's head now: a deliberate step back, logged.
    let head_file = anchor::path(data_dir);
    let replaced = anchor::read(&head_file).ok().flatten();
    anchor::write(&head_file, &database.audit_head).map_err(io(&head_file))?;
    tracing::warn!(
        target: "gatehouse::audit",
        seq = database.audit_head.seq,
        mac = %database.audit_head.mac,
        replaced_seq = replaced.map(|h| h.seq),
        from = %from.display(),
        "audit chain head reset by a restore"
    );
    Ok(Restored {
        database,
        previous,
        missing_keys,
    })
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct Restored {
    /// The restored database.
    pub database: Checked,
    /// Where the database it replaced is kept, if there was one.
    pub previous: Option<PathBuf>,
    /// Published or active keys of the restored database whose key file is not in the data
    /// directory (the server will not start until they are put back).
    pub missing_keys: Vec<String>,
}

/// `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Copies `src` into a new file `dest` (mode 0600) in one backup step, makes it self-contained,
/// checks it and fsyncs it.
fn copy_verified(
    src: &Connection,
    dest: &Path,
    key: Option<&AuditKey>,
    recorded: Option<&Head>,
) -> Result<(), BackupError> {
    remove_if_present(dest)?;
    {
        // Personal data and password hashes: readable by the owner only.
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(dest).map_err(io(dest))?;
    }
    let mut dst = Connection::open(dest).map_err(sql(dest))?;
    {
        let copy = Backup::new(src, &mut dst).map_err(sql(dest))?;
        let mut waited = Duration::ZERO;
        loop {
            // All pages in one step: one read transaction on the source, a consistent snapshot.
            // Busy or Locked (the enum is non-exhaustive): wait and try again.
            match copy.step(-1).map_err(sql(dest))? {
                StepResult::Done => break,
                StepResult::More => {}
                _ => {
                    if waited > Duration::from_secs(30) {
                        return Err(sql(dest)(rusqlite::Error::SqliteFailure(
                            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                            Some("the database stayed locked for 30 s".into()),
                        )));
                    }
                    std::thread::sleep(Duration::from_millis(50));
                    waited += Duration::from_millis(50);
                }
            }
        }
    }
    // One file, no -wal beside it: the copy can be moved and opened anywhere.
    dst.pragma_update(None, "journal_mode", "DELETE")
        .map_err(sql(dest))?;
    verify(&dst, dest, key, recorded)?;
    dst.close().map_err(|(_, e)| sql(dest)(e))?;
    File::open(dest)
        .and_then(|f| f.sync_all())
        .map_err(io(dest))?;
    Ok(())
}

/// Checks `conn` (the database at `path`): SQLite's integrity check, a schema this version
/// knows, and an intact audit chain (reaching `recorded`, the head kept beside a backup, when
/// there is one). Returns the chain's length and head.
fn verify(
    conn: &Connection,
    path: &Path,
    key: Option<&AuditKey>,
    recorded: Option<&Head>,
) -> Result<(u64, Head), BackupError> {
    let report: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(sql(path))?;
    if report != "ok" {
        return Err(BackupError::Corrupt {
            path: path.to_owned(),
            report,
        });
    }
    let not_ours = |reason: &str| BackupError::NotGatehouse {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    match MIGRATIONS.current_version(conn) {
        Ok(SchemaVersion::Inside(_)) => {}
        Ok(SchemaVersion::NoneSet) => return Err(not_ours("it has no Gatehouse schema")),
        Ok(SchemaVersion::Outside(_)) => {
            return Err(not_ours(
                "it was written by a newer gatehouse-server; restore with that version",
            ));
        }
        Err(e) => return Err(not_ours(&e.to_string())),
    }
    let head = anchor::current(conn).map_err(sql(path))?;
    let Some(key) = key else {
        let entries = u64::try_from(head.seq).unwrap_or(0);
        return Ok((entries, head));
    };
    crate::audit::attach(conn, key.clone()).map_err(sql(path))?;
    let chain = crate::audit::verify(conn, recorded).map_err(sql(path))?;
    if !chain.ok {
        return Err(BackupError::Corrupt {
            path: path.to_owned(),
            report: format!(
                "the audit chain breaks at entry {}: {} (its entries are checked with {} of \
                 this data directory: it must be the one of the server that wrote them)",
                chain.first_bad_seq.unwrap_or_default(),
                chain.problem.unwrap_or_default(),
                crate::keys::audit_chain::FILE,
            ),
        });
    }
    Ok((chain.entries, head))
}

/// Re-opens the finished file and reports what it holds.
fn checked(path: &Path, key: Option<&AuditKey>) -> Result<Checked, BackupError> {
    let conn =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sql(path))?;
    let (audit_entries, audit_head) = verify(&conn, path, key, None)?;
    let bytes = std::fs::metadata(path).map_err(io(path))?.len();
    Ok(Checked {
        path: path.to_owned(),
        bytes,
        audit_entries,
        audit_head,
    })
}

/// Keeps the database at `target` as [`BEFORE_RESTORE`] (with its committed WAL content), so
/// `target`'s name can be replaced. The name `target` stays valid until then.
fn set_aside(data_dir: &Path, target: &Path) -> Result<PathBuf, BackupError> {
    let kept = data_dir.join(BEFORE_RESTORE);
    for old in [kept.clone(), sibling(&kept, "-wal"), sibling(&kept, "-shm")] {
        remove_if_present(&old)?;
    }
    // Fold the WAL into the file if SQLite can; a damaged database keeps its WAL beside it.
    if let Ok(conn) = Connection::open(target) {
        let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        let _ = conn.close();
    }
    let wal = sibling(target, "-wal");
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        std::fs::rename(&wal, sibling(&kept, "-wal")).map_err(io(&wal))?;
    }
    for stale in [wal, sibling(target, "-shm")] {
        remove_if_present(&stale)?;
    }
    std::fs::hard_link(target, &kept).map_err(io(&kept))?;
    Ok(kept)
}

/// Deletes `path` if it exists.
fn remove_if_present(path: &Path) -> Result<(), BackupError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(path)(e)),
    }
}

/// Makes a rename in `path`'s directory durable.
fn sync_parent(path: &Path) -> Result<(), BackupError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let held = DataDirLock::acquire(dir.path()).unwrap();
        let e = DataDirLock::acquire(dir.path()).unwrap_err();
        assert!(matches!(e, BackupError::ServerRunning(_)), "{e}");
        assert!(e.to_string().contains("stop it first"));
        drop(held);
        DataDirLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn a_file_that_is_not_a_gatehouse_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let e = restore(&dir.path().join("data"), &other).unwrap_err();
        assert!(matches!(e, BackupError::NotGatehouse { .. }), "{e}");
        let garbage = dir.path().join("garbage.db");
        std::fs::write(&garbage, vec![7u8; 8192]).unwrap();
        assert!(restore(&dir.path().join("data"), &garbage).is_err());
        assert!(!dir.path().join("data").join(DB_FILE).exists());
    }
}

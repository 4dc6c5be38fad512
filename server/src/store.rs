//! The server's database as the server opens it: SQLite configured and migrated
//! ([`crate::db`]), the audit chain's key attached to the connection, and the chain's head file
//! kept up to date after every commit ([`crate::audit::anchor`]).

use crate::audit::anchor::Keeper;
use crate::db::{Db, DbError, data_dir_of};
use crate::keys::audit_chain::{AuditKey, FILE};
use rusqlite::Connection;
use std::path::Path;

/// Opens the database at `path` and starts its thread, which keeps the audit chain's head
/// file of the data directory up to date.
pub fn open(path: &Path) -> Result<Db, DbError> {
    let conn = connect(path)?;
    let mut keeper = Keeper::open(data_dir_of(path), &conn);
    Db::start(conn, Some(Box::new(move |c| keeper.after_commit(c))))
}

/// Opens `path` (see [`crate::db::connect`]) and attaches the audit-chain key of the data
/// directory `path` lies in, created there on the first start.
pub fn connect(path: &Path) -> Result<Connection, DbError> {
    let conn = crate::db::connect(path)?;
    crate::audit::attach(&conn, audit_key(&conn, data_dir_of(path))?)?;
    Ok(conn)
}

/// An in-memory database with every migration applied and a fresh audit-chain key, for unit
/// tests of domain code.
pub fn in_memory() -> Result<Connection, DbError> {
    let conn = crate::db::connect_in_memory()?;
    crate::audit::attach(&conn, AuditKey::generate())?;
    Ok(conn)
}

/// The audit-chain key of `data_dir`, made on the first start. A missing key file is an error
/// once the log holds keyed entries: a new key would make every one of them fail to verify.
fn audit_key(conn: &Connection, data_dir: &Path) -> Result<AuditKey, DbError> {
    let boxed = |e: crate::keys::KeyError| DbError::AuditKey(Box::new(e));
    if let Some(key) = AuditKey::load(data_dir).map_err(boxed)? {
        return Ok(key);
    }
    let keyed: i64 = conn.query_row("SELECT COUNT(*) FROM audit_log WHERE keyed = 1", [], |r| {
        r.get(0)
    })?;
    if keyed > 0 {
        let path = data_dir.join(crate::keys::file::DIR).join(FILE);
        return Err(boxed(crate::keys::KeyError::Io {
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "no key file: the audit log is chained with it; copy the key backup to {}",
                    path.display()
                ),
            ),
            path,
        }));
    }
    AuditKey::load_or_create(data_dir).map_err(boxed)
}

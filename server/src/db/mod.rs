//! The database: one SQLite connection owned by one thread, reached through [`Db::call`].
//!
//! Every statement runs on the dedicated thread, so request handlers never block the async
//! runtime and there is exactly one writer. After each call the thread checks whether the gate
//! change log grew and, if so, wakes the long-polling gates (see [`crate::changes`]), so no
//! caller can forget to notify after a commit.

pub mod migrations;

use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// Something went wrong below the domain: SQLite itself, migrations or the database thread.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A SQLite error.
    #[error("database error")]
    Sqlite(#[from] rusqlite::Error),
    /// Applying migrations failed.
    #[error("database migration failed")]
    Migration(#[from] rusqlite_migration::Error),
    /// The database thread has stopped (the server is shutting down).
    #[error("the database thread has stopped")]
    Closed,
    /// A call panicked on the database thread; the transaction was rolled back.
    #[error("a database call panicked")]
    Panicked,
}

type Job = Box<dyn FnOnce(&mut Connection, &watch::Sender<u64>) + Send>;

/// A cheap, cloneable handle to the database thread.
#[derive(Clone)]
pub struct Db {
    jobs: mpsc::Sender<Job>,
    change_seq: watch::Receiver<u64>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

/// Opens `path`, sets the pragmas and applies every migration.
pub fn open_connection(path: &Path) -> Result<Connection, DbError> {
    let mut conn = Connection::open(path)?;
    configure(&mut conn)?;
    Ok(conn)
}

/// An in-memory database with every migration applied, for unit tests of domain code.
pub fn open_in_memory() -> Result<Connection, DbError> {
    let mut conn = Connection::open_in_memory()?;
    configure(&mut conn)?;
    Ok(conn)
}

fn configure(conn: &mut Connection) -> Result<(), DbError> {
    // WAL so readers never block the writer; FULL so a committed write survives a power cut.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(Duration::from_secs(5))?;
    migrations::MIGRATIONS.to_latest(conn)?;
    Ok(())
}

/// How instants are stored: UTC, fixed width, so text order is time order.
pub fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Reads an instant written by [`ts`].
pub fn parse_ts(s: &str) -> Result<chrono::DateTime<chrono::Utc>, rusqlite::Error> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
}

/// The highest sequence number ever written to the gate change log.
fn last_change_seq(conn: &Connection) -> Result<u64, rusqlite::Error> {
    let seq: Option<i64> = conn
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'gate_changes'",
            [],
            |r| r.get(0),
        )
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    Ok(seq.map_or(0, |s| u64::try_from(s).unwrap_or(0)))
}

/// Tells the long-polling gates when the change log grew.
fn publish_change_seq(conn: &Connection, change_seq: &watch::Sender<u64>) {
    match last_change_seq(conn) {
        Ok(seq) => {
            change_seq.send_if_modified(|current| {
                let grew = seq > *current;
                if grew {
                    *current = seq;
                }
                grew
            });
        }
        Err(e) => tracing::error!(error = %e, "reading the change log position failed"),
    }
}

impl Db {
    /// Opens the database at `path` and starts its thread.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        Self::start(open_connection(path)?)
    }

    fn start(mut conn: Connection) -> Result<Db, DbError> {
        let (jobs, rx) = mpsc::channel::<Job>();
        let (seq_tx, seq_rx) = watch::channel(last_change_seq(&conn)?);
        std::thread::Builder::new()
            .name("gatehouse-db".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    job(&mut conn, &seq_tx);
                }
            })
            .map_err(|_| DbError::Closed)?;
        Ok(Db {
            jobs,
            change_seq: seq_rx,
        })
    }

    /// Runs `f` on the database thread and returns its result.
    ///
    /// Use `conn.transaction()` inside `f` for anything that writes; a panic inside `f` rolls
    /// the transaction back and becomes [`DbError::Panicked`].
    pub async fn call<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn, change_seq| {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(conn)))
                .unwrap_or_else(|_| Err(E::from(DbError::Panicked)));
            // Wake waiting gates before answering, so a caller that sees the reply knows the
            // gates have been told.
            publish_change_seq(conn, change_seq);
            let _ = tx.send(result);
        });
        self.jobs.send(job).map_err(|_| E::from(DbError::Closed))?;
        rx.await.map_err(|_| E::from(DbError::Closed))?
    }

    /// A receiver of the last committed change sequence number; it changes after every commit
    /// that appended to the gate change log.
    pub fn change_seq(&self) -> watch::Receiver<u64> {
        self.change_seq.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pragmas_are_set_for_durability() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        let (mode, sync, fk): (String, i64, i64) = db
            .call(|c| {
                Ok::<_, DbError>((
                    c.pragma_query_value(None, "journal_mode", |r| r.get(0))?,
                    c.pragma_query_value(None, "synchronous", |r| r.get(0))?,
                    c.pragma_query_value(None, "foreign_keys", |r| r.get(0))?,
                ))
            })
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "synchronous=FULL");
        assert_eq!(fk, 1);
    }

    #[tokio::test]
    async fn committing_a_change_moves_the_signal_and_a_rollback_does_not() {
        let db = Db::start(open_in_memory().unwrap()).unwrap();
        let mut seq = db.change_seq();
        assert_eq!(*seq.borrow_and_update(), 0);
        let event = gatehouse_credential::api::gate::ChangeEvent::Lockdown { active: true };
        let e = event.clone();
        db.call(move |c| {
            let tx = c.transaction()?;
            crate::changes::append(&tx, &e, chrono::Utc::now())?;
            Ok::<_, DbError>(()) // dropped without commit: rolled back
        })
        .await
        .unwrap();
        assert!(
            !seq.has_changed().unwrap(),
            "nothing committed, nobody woken"
        );
        db.call(move |c| {
            let tx = c.transaction()?;
            crate::changes::append(&tx, &event, chrono::Utc::now())?;
            tx.commit()?;
            Ok::<_, DbError>(())
        })
        .await
        .unwrap();
        assert!(seq.has_changed().unwrap());
        assert_eq!(*seq.borrow_and_update(), 1);
    }

    #[tokio::test]
    async fn a_panicking_call_is_an_error_and_the_thread_survives() {
        let db = Db::start(open_in_memory().unwrap()).unwrap();
        let r: Result<(), DbError> = db.call(|_| panic!("boom")).await;
        assert!(matches!(r, Err(DbError::Panicked)));
        let one: i64 = db
            .call(|c| Ok::<_, DbError>(c.query_row("SELECT 1", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(one, 1);
    }
}

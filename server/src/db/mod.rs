//! The database: one SQLite connection owned by one thread, reached through [`Db::call`].
//!
//! Every statement runs on the dedicated thread, so request handlers never block the async
//! runtime and there is exactly one writer.
//!
//! **Group commit.** The thread takes every call waiting in its queue (up to [`MAX_BATCH`]) and
//! runs them inside one outer transaction, each in its own savepoint, then commits once: one
//! fsync for the whole batch instead of one per call. Nobody is answered before that commit, so
//! a reply still means "durable". When the queue holds a single call this is exactly one
//! transaction per call, as before. After each commit the thread checks whether the gate change
//! log grew and, if so, wakes the long-polling gates (see [`crate::changes`]), and whether a
//! gate event was stored, which wakes the desk's live monitor (see [`crate::domain::monitor`]),
//! so no caller can forget to notify after a commit.

pub mod migrations;
#[cfg(test)]
mod plans;

use rusqlite::Connection;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
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
    /// The database file could not be created or made private to its owner.
    #[error("database file: {0}")]
    File(#[from] std::io::Error),
    /// A call panicked on the database thread; the transaction was rolled back.
    #[error("a database call panicked")]
    Panicked,
    /// The call ran, but the commit of its batch failed, so none of its writes were kept.
    #[error("the database could not commit the change")]
    CommitFailed,
    /// The audit-chain key file could not be read or created.
    #[error("audit-chain key: {0}")]
    AuditKey(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The most calls committed together; bounds how long the first of them waits.
pub const MAX_BATCH: usize = 64;

/// Whether the batch a call ran in was committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Committed,
    Lost,
}

/// Delivers a call's result once its batch's fate is known.
type Reply = Box<dyn FnOnce(Outcome) + Send>;
/// A call: runs on the connection, returns how to answer the caller.
type Job = Box<dyn FnOnce(&mut Connection) -> Reply + Send>;

/// A cheap, cloneable handle to the database thread.
#[derive(Clone)]
pub struct Db {
    jobs: mpsc::Sender<Job>,
    change_seq: watch::Receiver<u64>,
    event_seq: watch::Receiver<i64>,
    batches: Arc<AtomicU64>,
    queued: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "gatehouse.db";

/// Opens `path`, made private to its owner, sets the pragmas and applies every migration.
/// The server opens it through [`crate::store`], which attaches the audit chain too.
pub fn connect(path: &Path) -> Result<Connection, DbError> {
    make_private(path)?;
    let mut conn = Connection::open(path)?;
    configure(&mut conn)?;
    Ok(conn)
}

/// An in-memory database with the pragmas set and every migration applied.
pub fn connect_in_memory() -> Result<Connection, DbError> {
    let mut conn = Connection::open_in_memory()?;
    configure(&mut conn)?;
    Ok(conn)
}

/// The directory holding the database file `path`.
pub fn data_dir_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Creates the database file readable by its owner only (0600) whatever the umask, and
/// tightens an existing one and its `-wal` and `-shm` files: they hold personal data. SQLite
/// gives the `-wal` and `-shm` files it creates the database file's mode.
fn make_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if !path.exists() {
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)?;
    }
    let mut names = vec![path.as_os_str().to_owned()];
    for suffix in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        names.push(name);
    }
    for name in names {
        let file = Path::new(&name);
        if file.exists() {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

fn configure(conn: &mut Connection) -> Result<(), DbError> {
    // WAL so readers never block the writer; FULL so a committed write survives a power cut.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // Hot paths use `prepare_cached`; room for every statement the server runs often.
    conn.set_prepared_statement_cache_capacity(256);
    migrations::MIGRATIONS.to_latest(conn)?;
    Ok(())
}

/// How instants are stored: UTC, fixed width, so text order is time order.
pub fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Serialises an instant as [`ts`] stores it, so the API gives every time of a record the
/// same fixed-width text the database holds (`#[serde(serialize_with = "crate::db::ts_json")]`).
pub fn ts_json<S: serde::Serializer>(
    t: &chrono::DateTime<chrono::Utc>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&ts(*t))
}

/// [`ts_json`] for an instant that may be missing (`null`).
pub fn opt_ts_json<S: serde::Serializer>(
    t: &Option<chrono::DateTime<chrono::Utc>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => ts_json(t, s),
        None => s.serialize_none(),
    }
}

/// Reads an instant written by [`ts`].
pub fn parse_ts(s: &str) -> Result<chrono::DateTime<chrono::Utc>, rusqlite::Error> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
}

/// The instant in column `name` of `r`, written by [`ts`].
pub fn instant(
    r: &rusqlite::Row<'_>,
    name: &str,
) -> Result<chrono::DateTime<chrono::Utc>, rusqlite::Error> {
    parse_ts(&r.get::<_, String>(name)?)
}

/// The instant in column `name` of `r`, written by [`ts`], or none where it is NULL.
pub fn opt_instant(
    r: &rusqlite::Row<'_>,
    name: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, rusqlite::Error> {
    r.get::<_, Option<String>>(name)?
        .as_deref()
        .map(parse_ts)
        .transpose()
}

/// The date (`YYYY-MM-DD`) in column `name` of `r`.
pub fn date(r: &rusqlite::Row<'_>, name: &str) -> Result<chrono::NaiveDate, rusqlite::Error> {
    let s: String = r.get(name)?;
    s.parse().map_err(|e| {
        let i = r.as_ref().column_index(name).unwrap_or_default();
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
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

/// The id of the last gate event stored (0 when there is none): the live monitors' cursor.
pub fn last_event_id(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT COALESCE(MAX(rowid), 0) FROM gate_events")?
        .query_row([], |r| r.get(0))
}

/// Moves `signal` up to `latest` (read after a commit), waking its waiters if it grew: the
/// long-polling gates for the change log, the live monitors for gate events.
fn publish<T: PartialOrd + Copy>(
    signal: &watch::Sender<T>,
    latest: rusqlite::Result<T>,
    what: &str,
) {
    match latest {
        Ok(latest) => {
            signal.send_if_modified(|current| {
                let grew = latest > *current;
                if grew {
                    *current = latest;
                }
                grew
            });
        }
        Err(e) => tracing::error!(error = %e, "reading {what} failed"),
    }
}

/// What the database thread announces after each commit.
struct Signals {
    change_seq: watch::Sender<u64>,
    event_seq: watch::Sender<i64>,
}

/// Runs `batch` in one outer transaction, commits once, then answers every caller.
fn run_batch(conn: &mut Connection, batch: Vec<Job>, signals: &Signals) {
    let mut pending: Vec<Reply> = Vec::with_capacity(batch.len());
    // If BEGIN fails, each call's savepoint still makes it its own transaction.
    let mut outer = begin(conn);
    for job in batch {
        let reply = job(conn);
        if outer && conn.is_autocommit() {
            // SQLite ended the outer transaction inside this call (it rolls back on some I/O
            // and resource errors): nothing written since BEGIN is kept.
            tracing::error!("a database call ended the batch transaction; its batch is lost");
            for r in pending.drain(..) {
                r(Outcome::Lost);
            }
            reply(Outcome::Lost);
            outer = begin(conn);
            continue;
        }
        pending.push(reply);
    }
    let outcome = if outer {
        match conn.execute_batch("COMMIT") {
            Ok(()) => Outcome::Committed,
            Err(e) => {
                tracing::error!(error = %e, "committing a batch failed; rolling it back");
                if !conn.is_autocommit() {
                    if let Err(e) = conn.execute_batch("ROLLBACK") {
                        tracing::error!(error = %e, "rolling back a failed batch failed");
                    }
                }
                Outcome::Lost
            }
        }
    } else {
        Outcome::Committed
    };
    // Wake waiting gates and monitors before answering, so a caller that sees the reply knows
    // they have been told.
    publish(
        &signals.change_seq,
        last_change_seq(conn),
        "the change log position",
    );
    publish(
        &signals.event_seq,
        last_event_id(conn),
        "the last gate event",
    );
    for r in pending {
        r(outcome);
    }
}

/// Opens a batch's outer transaction; IMMEDIATE takes the write lock now, not halfway through.
fn begin(conn: &Connection) -> bool {
    match conn.execute_batch("BEGIN IMMEDIATE") {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(error = %e, "opening a batch transaction failed; running calls one by one");
            false
        }
    }
}

/// What the database thread runs after every batch, on the same connection.
pub type AfterCommit = Box<dyn FnMut(&Connection) + Send>;

impl Db {
    /// Starts the database thread on `conn`; it runs `after_commit` after every batch.
    pub fn start(
        mut conn: Connection,
        mut after_commit: Option<AfterCommit>,
    ) -> Result<Db, DbError> {
        let (jobs, rx) = mpsc::channel::<Job>();
        let (seq_tx, seq_rx) = watch::channel(last_change_seq(&conn)?);
        let (event_tx, event_rx) = watch::channel(last_event_id(&conn)?);
        let signals = Signals {
            change_seq: seq_tx,
            event_seq: event_tx,
        };
        let batches = Arc::new(AtomicU64::new(0));
        let counted = batches.clone();
        let queued = Arc::new(AtomicUsize::new(0));
        let taken = queued.clone();
        std::thread::Builder::new()
            .name("gatehouse-db".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    taken.fetch_sub(batch.len(), Ordering::Relaxed);
                    metrics::histogram!("gatehouse_db_batch_calls").record(batch.len() as f64);
                    run_batch(&mut conn, batch, &signals);
                    if let Some(after) = after_commit.as_mut() {
                        after(&conn);
                    }
                    counted.fetch_add(1, Ordering::Relaxed);
                }
            })
            .map_err(|_| DbError::Closed)?;
        Ok(Db {
            jobs,
            change_seq: seq_rx,
            event_seq: event_rx,
            batches,
            queued,
        })
    }

    /// How many calls wait for the database thread: sent, not yet taken into a batch.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// How many batches the database thread has run (each is one commit when it wrote).
    pub fn batches(&self) -> u64 {
        self.batches.load(Ordering::Relaxed)
    }

    /// Runs `f` on the database thread and returns its result once it is durable.
    ///
    /// Use `conn.savepoint()` inside `f` for anything that writes (never `transaction()`: the
    /// call may run inside a batch's outer transaction); a savepoint dropped without `commit`,
    /// or a panic inside `f`, rolls its writes back. A panic becomes [`DbError::Panicked`].
    pub async fn call<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(conn)))
                .unwrap_or_else(|_| Err(E::from(DbError::Panicked)));
            Box::new(move |outcome| {
                let result = match outcome {
                    Outcome::Committed => result,
                    // The call's own error says more than the lost commit does.
                    Outcome::Lost => result.and_then(|_| Err(E::from(DbError::CommitFailed))),
                };
                let _ = tx.send(result);
            })
        });
        self.queued.fetch_add(1, Ordering::Relaxed);
        if self.jobs.send(job).is_err() {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            return Err(E::from(DbError::Closed));
        }
        rx.await.map_err(|_| E::from(DbError::Closed))?
    }

    /// A receiver of the last committed change sequence number; it changes after every commit
    /// that appended to the gate change log.
    pub fn change_seq(&self) -> watch::Receiver<u64> {
        self.change_seq.clone()
    }

    /// A receiver of the id of the last committed gate event; it changes after every commit
    /// that stored one (a journal upload, a guard's decision at a gate).
    pub fn event_seq(&self) -> watch::Receiver<i64> {
        self.event_seq.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pragmas_are_set_for_durability() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::open(&dir.path().join("t.db")).unwrap();
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
        let db = Db::start(connect_in_memory().unwrap(), None).unwrap();
        let mut seq = db.change_seq();
        assert_eq!(*seq.borrow_and_update(), 0);
        let event = gatehouse_credential::api::gate::ChangeEvent::Lockdown { active: true };
        let e = event.clone();
        db.call(move |c| {
            let tx = c.savepoint()?;
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
            let tx = c.savepoint()?;
            crate::changes::append(&tx, &event, chrono::Utc::now())?;
            tx.commit()?;
            Ok::<_, DbError>(())
        })
        .await
        .unwrap();
        assert!(seq.has_changed().unwrap());
        assert_eq!(*seq.borrow_and_update(), 1);
    }

    fn insert(c: &mut Connection, v: i64) -> Result<(), DbError> {
        let sp = c.savepoint()?;
        sp.execute("INSERT INTO t (v) VALUES (?1)", [v])?;
        sp.commit()?;
        Ok(())
    }

    /// Creates the table `t (v)`, then holds the database thread as [`hold`] does.
    async fn hold_with_table(
        db: &Db,
    ) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
        db.call(|c| {
            c.execute_batch("CREATE TABLE t (v INTEGER NOT NULL)")
                .map_err(DbError::from)
        })
        .await
        .unwrap();
        hold(db).await
    }

    /// Waits until `n` calls wait behind the held one.
    async fn until_queued(db: &Db, n: usize) {
        let started = std::time::Instant::now();
        while db.queued() < n {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{} of {n} calls queued",
                db.queued()
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(db.queued(), n);
    }

    /// Holds the database thread inside one call until released, so later calls queue up.
    async fn hold(db: &Db) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (entered_tx, entered) = oneshot::channel();
        let d = db.clone();
        let holder = tokio::spawn(async move {
            d.call(move |c| {
                let _ = entered_tx.send(());
                let _ = held.recv();
                insert(c, 0)
            })
            .await
            .unwrap();
        });
        entered.await.unwrap();
        (release, holder)
    }

    #[tokio::test]
    async fn queued_writes_are_committed_together_and_each_is_durable_when_answered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let db = crate::store::open(&path).unwrap();
        let (release, holder) = hold_with_table(&db).await;
        let before = db.batches();
        let calls: Vec<_> = (1..=40)
            .map(|v| {
                let d = db.clone();
                tokio::spawn(async move { d.call(move |c| insert(c, v)).await })
            })
            .collect();
        until_queued(&db, 40).await;
        release.send(()).unwrap();
        holder.await.unwrap();
        for call in calls {
            call.await.unwrap().unwrap();
        }
        // Answered means committed: a second connection (another process) sees every row.
        let other = Connection::open(&path).unwrap();
        let n: i64 = other
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 41);
        let used = db.batches() - before;
        assert!(used <= 3, "41 queued writes took {used} commits");
    }

    #[tokio::test]
    async fn a_failing_or_panicking_call_in_a_batch_loses_only_its_own_writes() {
        let db = Db::start(connect_in_memory().unwrap(), None).unwrap();
        let (release, holder) = hold_with_table(&db).await;
        let d = db.clone();
        let good = tokio::spawn(async move { d.call(|c| insert(c, 1)).await });
        let d = db.clone();
        let failing = tokio::spawn(async move {
            d.call(|c| {
                let sp = c.savepoint()?;
                sp.execute("INSERT INTO t (v) VALUES (2)", [])?;
                // A constraint error after a write: the savepoint is dropped, rolled back.
                sp.execute("INSERT INTO t (v) VALUES (NULL)", [])?;
                sp.commit()?;
                Ok::<_, DbError>(())
            })
            .await
        });
        let d = db.clone();
        let panicking = tokio::spawn(async move {
            d.call(|c| {
                let sp = c.savepoint()?;
                sp.execute("INSERT INTO t (v) VALUES (3)", [])?;
                if sp.is_autocommit() {
                    return Ok(());
                }
                panic!("boom after a write");
            })
            .await
        });
        let d = db.clone();
        let good_after = tokio::spawn(async move { d.call(|c| insert(c, 4)).await });
        until_queued(&db, 4).await;
        release.send(()).unwrap();
        holder.await.unwrap();
        good.await.unwrap().unwrap();
        assert!(failing.await.unwrap().is_err());
        assert!(matches!(panicking.await.unwrap(), Err(DbError::Panicked)));
        good_after.await.unwrap().unwrap();
        let kept: Vec<i64> = db
            .call(|c| {
                let mut st = c.prepare("SELECT v FROM t ORDER BY v")?;
                let rows = st.query_map([], |r| r.get(0))?;
                Ok::<_, DbError>(rows.collect::<Result<_, _>>()?)
            })
            .await
            .unwrap();
        assert_eq!(kept, vec![0, 1, 4]);
    }

    #[tokio::test]
    async fn a_panicking_call_is_an_error_and_the_thread_survives() {
        let db = Db::start(connect_in_memory().unwrap(), None).unwrap();
        let r: Result<(), DbError> = db.call(|_| panic!("boom")).await;
        assert!(matches!(r, Err(DbError::Panicked)));
        let one: i64 = db
            .call(|c| Ok::<_, DbError>(c.query_row("SELECT 1", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(one, 1);
    }
}

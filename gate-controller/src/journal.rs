//! The local SQLite journal: every decision and alarm, written durably before the relay moves,
//! kept until the server acknowledged it; plus the persisted sync state and clock facts.

use crate::core::{Entry, SyncedState};
use chrono::{DateTime, Utc};
use gatehouse_credential::api::gate::JournalEntry;
use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use thiserror::Error;
use uuid::Uuid;

/// Why the journal failed.
#[derive(Debug, Error)]
pub enum JournalError {
    /// SQLite refused.
    #[error("journal database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The schema could not be brought up to date.
    #[error("journal migration: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// The checkpointer thread could not be started.
    #[error("journal checkpointer thread: {0}")]
    Thread(std::io::Error),
    /// The journal file could not be created or made private to its owner.
    #[error("journal file: {0}")]
    File(std::io::Error),
    /// A stored row is not valid JSON of the expected shape.
    #[error("journal row {what} is corrupt: {source}")]
    Corrupt {
        /// Which row.
        what: String,
        /// The cause.
        source: serde_json::Error,
    },
}

const MIGRATIONS: &[M<'static>] = &[
    M::up(
        "CREATE TABLE entry (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        at TEXT NOT NULL,
        body TEXT NOT NULL,
        sent INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX entry_unsent ON entry(sent, seq);
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );",
    ),
    // A decision's commit touches only the table's last page: no AUTOINCREMENT counter, no
    // index on the random id, and the retention index only holds rows once they are sent.
    // One WAL page per scan instead of four (and a quarter of the SD card writes).
    M::up(
        "CREATE TABLE entry_v2 (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        at TEXT NOT NULL,
        body TEXT NOT NULL,
        sent INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO entry_v2 (seq, id, at, body, sent) SELECT seq, id, at, body, sent FROM entry;
    DROP TABLE entry;
    ALTER TABLE entry_v2 RENAME TO entry;
    DELETE FROM sqlite_sequence WHERE name = 'entry';
    CREATE INDEX entry_sent ON entry(seq) WHERE sent = 1;",
    ),
];

/// A connection with the journal's pragmas.
fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
    // SQLite's own busy handler sleeps 1 ms, then longer; the checkpointer holds the write
    // lock for well under that, so wait in short steps (up to about 5 s in all).
    conn.busy_handler(Some(|attempt| {
        std::thread::sleep(Duration::from_micros(50));
        attempt < 100_000
    }))?;
    Ok(conn)
}

fn migrations() -> Migrations<'static> {
    Migrations::from_slice(MIGRATIONS)
}

const SYNC_STATE: &str = "sync_state";
const LAST_TRUSTED: &str = "last_trusted_time";

/// The WAL is never truncated below this when it restarts, so that a decision's commit
/// overwrites blocks the file already has instead of growing it; and never kept above it.
pub const WAL_SIZE_LIMIT: i64 = 4 << 20;

/// The journal database (one connection: the single writer).
#[derive(Debug)]
pub struct Journal {
    conn: Connection,
    path: PathBuf,
    retain_sent: u64,
    /// Every entry below this `seq` is sent: the uploader's reads start here, so they need no
    /// index on `sent` (which every decision's commit would have to update).
    unsent_from: i64,
    activity: Arc<WalActivity>,
}

/// The first unsent entry's `seq` at or after `from`, or the `seq` the next entry will get when
/// every entry is sent. Call it inside a transaction, so both look-ups see the same entries.
fn first_unsent_from(conn: &Connection, from: i64) -> Result<i64, JournalError> {
    let first_unsent: Option<i64> = conn
        .prepare_cached("SELECT seq FROM entry WHERE seq >= ?1 AND sent = 0 ORDER BY seq LIMIT 1")?
        .query_row([from], |r| r.get(0))
        .optional()?;
    Ok(match first_unsent {
        Some(seq) => seq,
        None => conn
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM entry")?
            .query_row([], |r| r.get(0))?,
    })
}

/// An entry waiting for upload, with its place in the journal.
#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    /// Its position in the journal, for [`Journal::mark_sent`].
    pub seq: i64,
    /// The entry.
    pub entry: JournalEntry,
}

/// The journal names the card and time of every passage: its file is its owner's only (0600)
/// whatever the umask, created so before SQLite opens it (SQLite gives the `-wal` and `-shm`
/// files it creates the database file's mode).
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

impl Journal {
    /// Opens (or creates) the journal at `path`, keeping at most `retain_sent` entries that the
    /// server already has; unsent entries are always kept.
    pub fn open(path: &Path, retain_sent: u64) -> Result<Self, JournalError> {
        create_private(path).map_err(JournalError::File)?;
        let mut conn = connect(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        migrations().to_latest(&mut conn)?;
        let mut journal = Journal {
            conn,
            path: path.to_owned(),
            retain_sent,
            unsent_from: 0,
            activity: Arc::new(WalActivity::new()),
        };
        journal.advance_unsent_from()?;
        Ok(journal)
    }

    /// A second connection to the same journal, for the uploader and the status page, so that
    /// they never wait for the door's connection (nor it for them). Its commits count for the
    /// checkpointer like the door's, and it never checkpoints on commit either.
    pub fn another_connection(&self) -> Result<Self, JournalError> {
        let conn = connect(&self.path)?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let mut journal = Journal {
            conn,
            path: self.path.clone(),
            retain_sent: self.retain_sent,
            unsent_from: 0,
            activity: self.activity.clone(),
        };
        journal.advance_unsent_from()?;
        Ok(journal)
    }

    /// Moves WAL checkpoints off the decision path: the journal's own connection stops
    /// checkpointing on commit (a checkpoint writes and fsyncs the main file), and a thread
    /// with its own connection checkpoints while the gate is idle, or at once when the WAL
    /// holds [`CHECKPOINT_HARD_COMMITS`] commits, so the WAL stays bounded.
    pub fn start_checkpointer(&mut self) -> Result<Checkpointer, JournalError> {
        let conn = Connection::open(&self.path)?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(CheckpointStats::default());
        let worker = CheckpointWorker {
            conn,
            activity: self.activity.clone(),
            stop: stop.clone(),
            stats: stats.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("journal-checkpoint".into())
            .spawn(move || worker.run())
            .map_err(JournalError::Thread)?;
        let _ = self.activity.checkpointer.set(thread.thread().clone());
        Ok(Checkpointer {
            stop,
            thread: Some(thread),
            stats,
        })
    }

    /// Writes one entry durably and returns it with its new unique id.
    pub fn append(
        &mut self,
        entry: &Entry,
        at: DateTime<Utc>,
        clock_trusted: bool,
    ) -> Result<JournalEntry, JournalError> {
        let full = stamp(entry, at, clock_trusted);
        let body = serde_json::to_string(&full).map_err(|source| JournalError::Corrupt {
            what: full.id.to_string(),
            source,
        })?;
        self.conn
            .prepare_cached("INSERT INTO entry (id, at, body) VALUES (?1, ?2, ?3)")?
            .execute(params![full.id.to_string(), at.to_rfc3339(), body])?;
        self.activity.committed();
        // A journal emptied by retention hands out small rowids again.
        self.unsent_from = self.unsent_from.min(self.conn.last_insert_rowid());
        Ok(full)
    }

    /// Up to `limit` entries the server has not acknowledged, oldest first.
    pub fn unsent(&self, limit: usize) -> Result<Vec<Pending>, JournalError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, id, body FROM entry WHERE seq >= ?1 AND sent = 0 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![self.unsent_from, limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, id, body) = row?;
            out.push(Pending {
                seq,
                entry: parse_body(id, &body)?,
            });
        }
        Ok(out)
    }

    /// Marks the entries at `seqs` (from [`Journal::unsent`]) as acknowledged, then trims old
    /// sent entries beyond the retention.
    pub fn mark_sent(&mut self, seqs: &[i64]) -> Result<(), JournalError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached("UPDATE entry SET sent = 1 WHERE seq = ?1")?;
            for seq in seqs {
                stmt.execute([seq])?;
            }
        }
        match self.retain_sent {
            0 => tx
                .prepare_cached("DELETE FROM entry WHERE sent = 1")?
                .execute([])?,
            keep => tx
                .prepare_cached(
                    "DELETE FROM entry WHERE sent = 1 AND seq <
                       (SELECT seq FROM entry WHERE sent = 1 ORDER BY seq DESC LIMIT 1 OFFSET ?1)",
                )?
                .execute([i64::try_from(keep - 1).unwrap_or(i64::MAX)])?,
        };
        // Inside the write transaction: the door's writer cannot add an entry between finding
        // none unsent and reading the last `seq`, which would leave that entry behind.
        self.unsent_from = first_unsent_from(&tx, self.unsent_from)?;
        tx.commit()?;
        self.activity.committed();
        Ok(())
    }

    /// Moves [`Journal::unsent_from`] past the entries that are sent.
    fn advance_unsent_from(&mut self) -> Result<(), JournalError> {
        // One read transaction: both look-ups see the same entries.
        let tx = self.conn.transaction()?;
        self.unsent_from = first_unsent_from(&tx, self.unsent_from)?;
        tx.commit()?;
        Ok(())
    }

    /// How many entries wait for upload.
    pub fn pending(&self) -> Result<u64, JournalError> {
        Ok(self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM entry WHERE seq >= ?1 AND sent = 0")?
            .query_row([self.unsent_from], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Every entry still stored, oldest first (sent or not).
    pub fn all(&self) -> Result<Vec<JournalEntry>, JournalError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, body FROM entry ORDER BY seq")?;
        read_entries(&mut stmt, [])
    }

    /// Entries made at or after `since` by the gate's clock, oldest first (sent or not).
    pub fn since(&self, since: DateTime<Utc>) -> Result<Vec<JournalEntry>, JournalError> {
        // `at` is RFC 3339 in UTC, which sorts as text; read once at start.
        let mut stmt = self
            .conn
            .prepare("SELECT id, body FROM entry WHERE at >= ?1 ORDER BY seq")?;
        read_entries(&mut stmt, [since.to_rfc3339()])
    }

    /// The sync state last saved, or the empty state on first start.
    pub fn load_sync_state(&self) -> Result<SyncedState, JournalError> {
        match self.meta(SYNC_STATE)? {
            None => Ok(SyncedState::default()),
            Some(text) => serde_json::from_str(&text).map_err(|source| JournalError::Corrupt {
                what: SYNC_STATE.into(),
                source,
            }),
        }
    }

    /// Saves the sync state (keys, calendar, cursor, revocations…) in one transaction.
    pub fn save_sync_state(&mut self, state: &SyncedState) -> Result<(), JournalError> {
        let text = serde_json::to_string(state).map_err(|source| JournalError::Corrupt {
            what: SYNC_STATE.into(),
            source,
        })?;
        self.set_meta(SYNC_STATE, &text)
    }

    /// The last wall-clock time the gate knew to be right.
    pub fn last_trusted_time(&self) -> Result<Option<DateTime<Utc>>, JournalError> {
        Ok(self
            .meta(LAST_TRUSTED)?
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc)))
    }

    /// Records a trusted wall-clock time.
    pub fn set_last_trusted_time(&mut self, t: DateTime<Utc>) -> Result<(), JournalError> {
        self.set_meta(LAST_TRUSTED, &t.to_rfc3339())
    }

    fn meta(&self, key: &str) -> Result<Option<String>, JournalError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<(), JournalError> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        self.activity.committed();
        Ok(())
    }
}

/// Checkpoint when this many commits wait in the WAL and the gate is idle.
pub const CHECKPOINT_SOFT_COMMITS: u64 = 32;
/// Checkpoint at once, idle or not, when this many commits wait (bounds the WAL).
pub const CHECKPOINT_HARD_COMMITS: u64 = 512;
/// No commit for this long counts as idle: scans need ≈ 125 ms each on a 9600-baud line.
pub const CHECKPOINT_IDLE: Duration = Duration::from_millis(5);
/// Anything still in the WAL is checkpointed after this much quiet.
pub const CHECKPOINT_QUIET: Duration = Duration::from_secs(1);

/// Whether the checkpointer should run now, given the commits in the WAL and the time since
/// the last one.
pub fn checkpoint_due(commits: u64, idle: Duration) -> bool {
    commits >= CHECKPOINT_HARD_COMMITS
        || (commits >= CHECKPOINT_SOFT_COMMITS && idle >= CHECKPOINT_IDLE)
        || (commits > 0 && idle >= CHECKPOINT_QUIET)
}

/// Commits since the last complete checkpoint and when the last one happened (atomics only:
/// the decision path must not wait for the checkpointer).
#[derive(Debug)]
struct WalActivity {
    origin: Instant,
    commits: AtomicU64,
    last_commit_us: AtomicU64,
    /// The checkpointer, woken when the WAL reaches a bound.
    checkpointer: std::sync::OnceLock<std::thread::Thread>,
}

impl WalActivity {
    fn new() -> Self {
        WalActivity {
            origin: Instant::now(),
            commits: AtomicU64::new(0),
            last_commit_us: AtomicU64::new(0),
            checkpointer: std::sync::OnceLock::new(),
        }
    }

    fn committed(&self) {
        let us = self.origin.elapsed().as_micros() as u64;
        self.last_commit_us.store(us, Ordering::Relaxed);
        let commits = self.commits.fetch_add(1, Ordering::Relaxed) + 1;
        if commits == CHECKPOINT_SOFT_COMMITS || commits >= CHECKPOINT_HARD_COMMITS {
            if let Some(t) = self.checkpointer.get() {
                t.unpark();
            }
        }
    }

    fn idle(&self) -> Duration {
        let last = Duration::from_micros(self.last_commit_us.load(Ordering::Relaxed));
        self.origin.elapsed().saturating_sub(last)
    }
}

/// What the checkpointer has done, for tests and benchmarks.
#[derive(Debug, Default)]
pub struct CheckpointStats {
    /// Complete checkpoints (every WAL frame copied into the database file).
    pub checkpoints: AtomicU64,
    /// WAL restarts the checkpointer made itself, so that a decision does not pay for the
    /// WAL header's own fsync.
    pub restarts: AtomicU64,
    /// The most WAL frames one checkpoint found.
    pub max_frames: AtomicU64,
}

/// The background checkpointer; dropping it stops its thread.
#[derive(Debug)]
pub struct Checkpointer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// Counters.
    pub stats: Arc<CheckpointStats>,
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct CheckpointWorker {
    conn: Connection,
    activity: Arc<WalActivity>,
    stop: Arc<AtomicBool>,
    stats: Arc<CheckpointStats>,
}

impl CheckpointWorker {
    fn run(self) {
        // Storage refusing writes: said once, retried once a second.
        let mut failing = false;
        while !self.stop.load(Ordering::SeqCst) {
            let commits = self.activity.commits.load(Ordering::Relaxed);
            if checkpoint_due(commits, self.activity.idle()) {
                let result = self.checkpoint();
                if failing && result.is_ok() {
                    tracing::info!("journal checkpoints work again");
                }
                failing = match (&result, failing) {
                    (Err(e), false) => {
                        tracing::warn!(error = %e, "journal checkpoint failed; retrying every second");
                        true
                    }
                    (r, _) => r.is_err(),
                };
                // Otherwise a reader still uses the WAL's end: try again on the next round.
                if let Ok(true) = result {
                    self.activity.commits.fetch_sub(commits, Ordering::Relaxed);
                    self.stats.checkpoints.fetch_add(1, Ordering::Relaxed);
                    self.restart_if_idle();
                }
            }
            let pause = if failing {
                Duration::from_secs(1)
            } else if commits >= CHECKPOINT_SOFT_COMMITS {
                Duration::from_millis(1)
            } else {
                Duration::from_millis(50)
            };
            std::thread::park_timeout(pause);
        }
    }

    /// Copies the WAL into the database file; whether it copied every frame. Below the hard
    /// bound a passive checkpoint, which never holds up a decision. At the bound (a burst that
    /// never pauses) a restarting one, which makes the writer wait until the WAL can start
    /// over from its beginning: that bounds the WAL.
    fn checkpoint(&self) -> rusqlite::Result<bool> {
        let full = self.activity.commits.load(Ordering::Relaxed) >= CHECKPOINT_HARD_COMMITS;
        let (sql, wait) = if full {
            ("PRAGMA wal_checkpoint(RESTART)", Duration::from_secs(1))
        } else {
            ("PRAGMA wal_checkpoint(PASSIVE)", Duration::ZERO)
        };
        self.conn.busy_timeout(wait)?;
        let (busy, frames, copied): (i64, i64, i64) = self
            .conn
            .query_row(sql, [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        self.stats
            .max_frames
            .fetch_max(frames.max(0) as u64, Ordering::Relaxed);
        Ok(busy == 0 && frames == copied)
    }

    /// The first commit after a complete checkpoint restarts the WAL and fsyncs its header
    /// (two fsyncs instead of one); while idle, take that commit here instead.
    fn restart_if_idle(&self) {
        if self.activity.idle() < CHECKPOINT_IDLE {
            return;
        }
        // Never make a decision wait for this: on a busy lock, leave it to the gate.
        if let Err(e) = self.conn.busy_timeout(Duration::ZERO) {
            tracing::warn!(error = %e, "journal checkpointer");
            return;
        }
        let restarted = self.conn.execute(
            "INSERT INTO meta (key, value) VALUES ('wal_restarted', '1')
             ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
            [],
        );
        match restarted {
            Ok(_) => {
                self.stats.restarts.fetch_add(1, Ordering::Relaxed);
            }
            // The gate is writing: it restarts the WAL itself.
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy => {}
            Err(e) => tracing::warn!(error = %e, "journal WAL restart failed"),
        }
    }
}

/// Runs an `id, body` query and parses every body.
fn read_entries(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
) -> Result<Vec<JournalEntry>, JournalError> {
    let rows = stmt.query_map(params, |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, body) = row?;
        out.push(parse_body(id, &body)?);
    }
    Ok(out)
}

/// The entry as it is stored and uploaded: with a new unique id and the wall time.
fn stamp(entry: &Entry, at: DateTime<Utc>, clock_trusted: bool) -> JournalEntry {
    JournalEntry {
        id: Uuid::now_v7(),
        at,
        clock_trusted,
        card_id: entry.card_id,
        kind: entry.kind,
        event: entry.event.clone(),
        direction: entry.direction,
        area: entry.area.clone(),
    }
}

fn parse_body(id: String, body: &str) -> Result<JournalEntry, JournalError> {
    serde_json::from_str(body).map_err(|source| JournalError::Corrupt { what: id, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_credential::CardId;
    use gatehouse_credential::api::gate::{DenyReason, GateEvent};

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
    }

    fn denied(card: u32) -> Entry {
        Entry {
            card_id: Some(CardId(card)),
            kind: None,
            event: GateEvent::Denied {
                reason: DenyReason::Expired,
            },
            direction: None,
            area: None,
            unlocks: false,
        }
    }

    /// A directory for a test's journal, and the journal's path in it.
    fn scratch_journal() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite");
        (dir, path)
    }

    /// The ids of the entries waiting for upload, oldest first.
    fn unsent_ids(j: &Journal) -> Vec<Uuid> {
        j.unsent(10)
            .unwrap()
            .into_iter()
            .map(|p| p.entry.id)
            .collect()
    }

    #[test]
    fn entries_survive_reopen_until_acknowledged_and_retention_keeps_unsent() {
        let (_dir, path) = scratch_journal();
        let now = Utc::now();
        let mut ids = Vec::new();
        {
            let mut j = Journal::open(&path, 2).unwrap();
            for card in 0..5 {
                ids.push(j.append(&denied(card), now, true).unwrap().id);
            }
        }
        let mut j = Journal::open(&path, 2).unwrap();
        let mode: String = j
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = j
            .conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
        assert_eq!(j.pending().unwrap(), 5);
        let unsent = j.unsent(3).unwrap();
        assert_eq!(
            unsent.iter().map(|p| p.entry.id).collect::<Vec<_>>(),
            ids[..3].to_vec()
        );
        assert_eq!(unsent[0].entry.card_id, Some(CardId(0)));
        let seqs: Vec<i64> = j.unsent(10).unwrap().iter().map(|p| p.seq).collect();
        // Four acknowledged, retention 2: the two oldest sent ones go, the unsent one stays.
        j.mark_sent(&seqs[..4]).unwrap();
        assert_eq!(j.pending().unwrap(), 1);
        let kept: Vec<_> = j.all().unwrap().into_iter().map(|e| e.id).collect();
        assert_eq!(kept, ids[2..].to_vec());
        let unique: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
    }

    #[test]
    fn a_decision_writes_one_page_to_the_wal() {
        let (dir, path) = scratch_journal();
        let wal = dir.path().join("journal.sqlite-wal");
        let mut j = Journal::open(&path, 10).unwrap();
        j.conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        let now = Utc::now();
        j.append(&denied(0), now, true).unwrap();
        let before = std::fs::metadata(&wal).unwrap().len();
        let appends = 40;
        for card in 1..=appends {
            j.append(&denied(card), now, true).unwrap();
        }
        let frames = (std::fs::metadata(&wal).unwrap().len() - before) / (24 + 4096);
        // One page per commit, plus the odd extra page when the last leaf splits (the first
        // schema wrote four: table, id index, unsent index, AUTOINCREMENT counter).
        assert!(
            (u64::from(appends)..=u64::from(appends) + u64::from(appends) / 4).contains(&frames),
            "{appends} appends wrote {frames} WAL frames"
        );
    }

    #[test]
    fn the_journal_and_its_wal_are_private_to_the_owner() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, path) = scratch_journal();
        // A journal an older version left world-readable is tightened too.
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut journal = Journal::open(&path, 10).unwrap();
        journal.append(&denied(1), Utc::now(), true).unwrap();
        let mode = |suffix: &str| {
            let p = format!("{}{suffix}", path.display());
            std::fs::metadata(p).unwrap().permissions().mode() & 0o777
        };
        assert_eq!(mode(""), 0o600);
        assert_eq!(mode("-wal"), 0o600);
    }

    #[test]
    fn a_journal_of_the_first_schema_keeps_its_entries_and_their_order() {
        let (_dir, path) = scratch_journal();
        let now = Utc::now();
        let mut ids = Vec::new();
        {
            let mut conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "journal_mode", "WAL").unwrap();
            Migrations::from_slice(&MIGRATIONS[..1])
                .to_latest(&mut conn)
                .unwrap();
            for card in 0..4u32 {
                let e = stamp(&denied(card), now, true);
                ids.push(e.id);
                conn.execute(
                    "INSERT INTO entry (id, at, body, sent) VALUES (?1, ?2, ?3, ?4)",
                    params![
                        e.id.to_string(),
                        now.to_rfc3339(),
                        serde_json::to_string(&e).unwrap(),
                        i64::from(card == 0)
                    ],
                )
                .unwrap();
            }
        }
        let mut j = Journal::open(&path, 10).unwrap();
        assert_eq!(j.pending().unwrap(), 3, "the sent entry stays sent");
        ids.push(j.append(&denied(9), now, true).unwrap().id);
        let unsent = unsent_ids(&j);
        assert_eq!(
            unsent,
            ids[1..].to_vec(),
            "old entries first, then the new one"
        );
    }

    #[test]
    fn entries_written_after_retention_emptied_the_journal_are_still_uploaded() {
        let (_dir, path) = scratch_journal();
        let mut j = Journal::open(&path, 0).unwrap();
        let now = Utc::now();
        for card in 0..3 {
            j.append(&denied(card), now, true).unwrap();
        }
        let seqs: Vec<i64> = j.unsent(10).unwrap().iter().map(|p| p.seq).collect();
        j.mark_sent(&seqs).unwrap();
        assert!(
            j.all().unwrap().is_empty(),
            "retention 0 keeps nothing sent"
        );
        let id = j.append(&denied(7), now, true).unwrap().id;
        let unsent = unsent_ids(&j);
        assert_eq!(unsent, vec![id]);
        assert_eq!(j.pending().unwrap(), 1);
    }

    #[test]
    fn checkpoints_wait_for_idle_unless_the_wal_is_full() {
        let ms = Duration::from_millis;
        assert!(!checkpoint_due(0, ms(60_000)), "nothing to copy");
        assert!(
            !checkpoint_due(CHECKPOINT_SOFT_COMMITS, ms(1)),
            "a burst is running"
        );
        assert!(checkpoint_due(CHECKPOINT_SOFT_COMMITS, CHECKPOINT_IDLE));
        assert!(
            !checkpoint_due(3, CHECKPOINT_IDLE),
            "too little to bother while busy"
        );
        assert!(
            checkpoint_due(3, CHECKPOINT_QUIET),
            "quiet: copy what is there"
        );
        assert!(
            checkpoint_due(CHECKPOINT_HARD_COMMITS, Duration::ZERO),
            "bound reached"
        );
    }

    #[test]
    fn the_checkpointer_bounds_the_wal_during_a_burst_and_catches_up_when_quiet() {
        // tmpfs where there is one: the WAL logic is the same and fsync costs nothing.
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            tempfile::tempdir_in(shm).unwrap()
        } else {
            tempfile::tempdir().unwrap()
        };
        let path = dir.path().join("journal.sqlite");
        let wal = dir.path().join("journal.sqlite-wal");
        let mut j = Journal::open(&path, 10).unwrap();
        let checkpointer = j.start_checkpointer().unwrap();
        let now = Utc::now();
        let mut largest_wal = 0;
        // Back to back, never idle: without the checkpointer this WAL would reach ≈ 50 MB.
        for card in 0..3000 {
            j.append(&denied(card), now, true).unwrap();
            largest_wal = largest_wal.max(std::fs::metadata(&wal).unwrap().len());
        }
        let stats = &checkpointer.stats;
        assert!(
            largest_wal <= 20 << 20,
            "WAL grew to {largest_wal} bytes during the burst"
        );
        let before = stats.checkpoints.load(Ordering::SeqCst);
        let deadline = std::time::Instant::now() + CHECKPOINT_QUIET + Duration::from_secs(10);
        while stats.checkpoints.load(Ordering::SeqCst) == before
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            stats.checkpoints.load(Ordering::SeqCst) > before,
            "the rest is copied once the gate is quiet"
        );
        assert!(stats.restarts.load(Ordering::SeqCst) >= 1);
        assert!(
            std::fs::metadata(&wal).unwrap().len() <= WAL_SIZE_LIMIT as u64,
            "the WAL is cut back to the limit when it restarts"
        );
        drop(checkpointer);
        drop(j);
        assert_eq!(Journal::open(&path, 10).unwrap().pending().unwrap(), 3000);
    }

    #[test]
    fn sync_state_and_trusted_time_persist() {
        let (_dir, path) = scratch_journal();
        let t: DateTime<Utc> = "2026-11-27T01:00:00Z".parse().unwrap();
        {
            let mut j = Journal::open(&path, 10).unwrap();
            assert_eq!(j.load_sync_state().unwrap(), SyncedState::default());
            assert_eq!(j.last_trusted_time().unwrap(), None);
            let state = SyncedState {
                cursor: 42,
                lockdown: true,
                ..SyncedState::default()
            };
            j.save_sync_state(&state).unwrap();
            j.set_last_trusted_time(t).unwrap();
        }
        let j = Journal::open(&path, 10).unwrap();
        assert_eq!(j.load_sync_state().unwrap().cursor, 42);
        assert!(j.load_sync_state().unwrap().lockdown);
        assert_eq!(j.last_trusted_time().unwrap(), Some(t));
    }
}

//! The local SQLite journal: every decision and alarm, written durably before the relay moves,
//! kept until the server acknowledged it; plus the persisted sync state and clock facts.

use crate::core::{Entry, SyncedState};
use chrono::{DateTime, Utc};
use gatehouse_credential::api::gate::JournalEntry;
use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};
use std::path::Path;
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
    /// A stored row is not valid JSON of the expected shape.
    #[error("journal row {what} is corrupt: {source}")]
    Corrupt {
        /// Which row.
        what: String,
        /// The cause.
        source: serde_json::Error,
    },
}

const MIGRATIONS: &[M<'static>] = &[M::up(
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
)];

fn migrations() -> Migrations<'static> {
    Migrations::from_slice(MIGRATIONS)
}

const SYNC_STATE: &str = "sync_state";
const LAST_TRUSTED: &str = "last_trusted_time";

/// The journal database (one connection: the single writer).
#[derive(Debug)]
pub struct Journal {
    conn: Connection,
    retain_sent: u64,
}

impl Journal {
    /// Opens (or creates) the journal at `path`, keeping at most `retain_sent` entries that the
    /// server already has; unsent entries are always kept.
    pub fn open(path: &Path, retain_sent: u64) -> Result<Self, JournalError> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations().to_latest(&mut conn)?;
        Ok(Journal { conn, retain_sent })
    }

    /// Writes one entry durably and returns it with its new unique id.
    pub fn append(
        &mut self,
        entry: &Entry,
        at: DateTime<Utc>,
        clock_trusted: bool,
    ) -> Result<JournalEntry, JournalError> {
        let full = JournalEntry {
            id: Uuid::now_v7(),
            at,
            clock_trusted,
            card_id: entry.card_id,
            kind: entry.kind,
            event: entry.event.clone(),
        };
        let body = serde_json::to_string(&full).map_err(|source| JournalError::Corrupt {
            what: full.id.to_string(),
            source,
        })?;
        self.conn.execute(
            "INSERT INTO entry (id, at, body) VALUES (?1, ?2, ?3)",
            params![full.id.to_string(), at.to_rfc3339(), body],
        )?;
        Ok(full)
    }

    /// Up to `limit` entries the server has not acknowledged, oldest first.
    pub fn unsent(&self, limit: usize) -> Result<Vec<JournalEntry>, JournalError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, body FROM entry WHERE sent = 0 ORDER BY seq LIMIT ?1")?;
        read_entries(&mut stmt, [limit as i64])
    }

    /// Marks acknowledged ids as sent, then trims old sent entries beyond the retention.
    pub fn mark_sent(&mut self, ids: &[Uuid]) -> Result<(), JournalError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached("UPDATE entry SET sent = 1 WHERE id = ?1")?;
            for id in ids {
                stmt.execute([id.to_string()])?;
            }
        }
        tx.execute(
            "DELETE FROM entry WHERE sent = 1 AND seq NOT IN
               (SELECT seq FROM entry WHERE sent = 1 ORDER BY seq DESC LIMIT ?1)",
            [self.retain_sent as i64],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// How many entries wait for upload.
    pub fn pending(&self) -> Result<u64, JournalError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM entry WHERE sent = 0", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
    }

    /// Every entry still stored, oldest first (sent or not).
    pub fn all(&self) -> Result<Vec<JournalEntry>, JournalError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, body FROM entry ORDER BY seq")?;
        read_entries(&mut stmt, [])
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
        Ok(())
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
        out.push(
            serde_json::from_str(&body)
                .map_err(|source| JournalError::Corrupt { what: id, source })?,
        );
    }
    Ok(out)
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
        }
    }

    #[test]
    fn entries_survive_reopen_until_acknowledged_and_retention_keeps_unsent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite");
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
            unsent.iter().map(|e| e.id).collect::<Vec<_>>(),
            ids[..3].to_vec()
        );
        assert_eq!(unsent[0].card_id, Some(CardId(0)));
        // Four acknowledged, retention 2: the two oldest sent ones go, the unsent one stays.
        j.mark_sent(&ids[..4]).unwrap();
        assert_eq!(j.pending().unwrap(), 1);
        let kept: Vec<_> = j.all().unwrap().into_iter().map(|e| e.id).collect();
        assert_eq!(kept, ids[2..].to_vec());
        let unique: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
    }

    #[test]
    fn sync_state_and_trusted_time_persist() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite");
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

//! The append-only, hash-chained audit log.
//!
//! Each entry's hash is SHA-256 over the previous entry's hash and the entry's own fields, so
//! editing, deleting or reordering any entry breaks the chain from there on. Triggers refuse
//! UPDATE and DELETE; [`verify`] recomputes the whole chain. Call [`record`] inside the same
//! transaction as the state change it describes. Put ids in `details`, never personal data
//! (the log outlives retention purges).

use crate::auth::Actor;
use crate::db::ts;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Appends one entry and returns its sequence number.
pub fn record(
    tx: &Connection,
    actor: &Actor,
    action: &str,
    subject: &str,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> rusqlite::Result<i64> {
    let prev_hash: String = tx
        .query_row(
            "SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(GENESIS.to_owned()),
            e => Err(e),
        })?;
    let seq: i64 = tx
        .prepare_cached(
            "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'), 0) + 1",
        )?
        .query_row([], |r| r.get(0))?;
    let entry = Entry {
        seq,
        at: ts(now),
        actor: actor.audit_name(),
        action: action.to_owned(),
        subject: subject.to_owned(),
        details: details.to_string(),
    };
    let hash = entry.hash(&prev_hash);
    tx.prepare_cached(
        "INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        seq,
        entry.at,
        entry.actor,
        entry.action,
        entry.subject,
        entry.details,
        prev_hash,
        hash
    ])?;
    Ok(seq)
}

/// One audit entry as stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Entry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When (UTC).
    pub at: String,
    /// Who, e.g. `manager:admin`.
    pub actor: String,
    /// What, e.g. `device.create`.
    pub action: String,
    /// On what, e.g. `device:<id>`.
    pub subject: String,
    /// Further facts as JSON text.
    pub details: String,
}

impl Entry {
    fn hash(&self, prev_hash: &str) -> String {
        // Length-prefixed fields so no two different entries hash the same input.
        let mut h = Sha256::new();
        for field in [
            prev_hash,
            &self.seq.to_string(),
            &self.at,
            &self.actor,
            &self.action,
            &self.subject,
            &self.details,
        ] {
            h.update((field.len() as u64).to_be_bytes());
            h.update(field.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Verification {
    /// Whether every entry is intact.
    pub ok: bool,
    /// How many entries were checked.
    pub entries: u64,
    /// The first entry whose hash or link does not match, if any.
    pub first_bad_seq: Option<i64>,
    /// Why that entry is bad.
    pub problem: Option<String>,
}

/// Recomputes the chain from the first entry.
pub fn verify(conn: &Connection) -> rusqlite::Result<Verification> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut expected_prev = GENESIS.to_owned();
    let mut expected_seq = 1i64;
    let mut entries = 0u64;
    while let Some(r) = rows.next()? {
        let entry = Entry {
            seq: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            subject: r.get(4)?,
            details: r.get(5)?,
        };
        let prev_hash: String = r.get(6)?;
        let hash: String = r.get(7)?;
        entries += 1;
        let problem = if entry.seq != expected_seq {
            Some(format!(
                "expected entry {expected_seq} here; entries are missing"
            ))
        } else if prev_hash != expected_prev {
            Some("its link to the previous entry does not match".to_owned())
        } else if entry.hash(&prev_hash) != hash {
            Some("its contents do not match its hash (edited)".to_owned())
        } else {
            None
        };
        if problem.is_some() {
            return Ok(Verification {
                ok: false,
                entries,
                first_bad_seq: Some(entry.seq),
                problem,
            });
        }
        expected_prev = hash;
        expected_seq += 1;
    }
    Ok(Verification {
        ok: true,
        entries,
        first_bad_seq: None,
        problem: None,
    })
}

/// The most recent entries, newest first.
pub fn recent(conn: &Connection, limit: u32) -> rusqlite::Result<Vec<Entry>> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, subject, details FROM audit_log ORDER BY seq DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map(params![limit], entry_of_row)?;
    rows.collect()
}

/// At most `limit` entries before sequence number `before` (all if `None`), newest first.
pub fn page(conn: &Connection, before: Option<i64>, limit: u32) -> rusqlite::Result<Vec<Entry>> {
    let Some(before) = before else {
        return recent(conn, limit);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, actor, action, subject, details FROM audit_log WHERE seq < ?1
         ORDER BY seq DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![before, limit], entry_of_row)?;
    rows.collect()
}

fn entry_of_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        subject: r.get(4)?,
        details: r.get(5)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_verifies_and_an_edit_is_found_at_its_entry() {
        let mut conn = crate::db::open_in_memory().unwrap();
        let now = Utc::now();
        let tx = conn.savepoint().unwrap();
        for i in 0..5 {
            record(
                &tx,
                &Actor::Anonymous,
                "test.step",
                &format!("thing:{i}"),
                serde_json::json!({"i": i}),
                now,
            )
            .unwrap();
        }
        tx.commit().unwrap();
        assert_eq!(
            verify(&conn).unwrap(),
            Verification {
                ok: true,
                entries: 5,
                first_bad_seq: None,
                problem: None
            }
        );
        assert!(
            conn.execute("UPDATE audit_log SET action = 'x' WHERE seq = 3", [])
                .is_err(),
            "append-only"
        );
        conn.execute_batch("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET subject = 'thing:99' WHERE seq = 3;").unwrap();
        let v = verify(&conn).unwrap();
        assert!(!v.ok);
        assert_eq!(v.first_bad_seq, Some(3));
    }

    #[test]
    fn a_deleted_entry_is_found() {
        let conn = crate::db::open_in_memory().unwrap();
        for _ in 0..3 {
            record(
                &conn,
                &Actor::Anonymous,
                "a",
                "s",
                serde_json::json!({}),
                Utc::now(),
            )
            .unwrap();
        }
        conn.execute_batch(
            "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 2;",
        )
        .unwrap();
        assert_eq!(verify(&conn).unwrap().first_bad_seq, Some(3));
    }
}

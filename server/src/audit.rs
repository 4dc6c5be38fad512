//! The append-only, keyed hash chain of the audit log.
//!
//! Each entry's `hash` is an HMAC-SHA256 under the audit-chain key ([`AuditKey`], a file in the
//! data directory, never in the database) over the previous entry's hash and the entry's own
//! fields, so editing, deleting or reordering any entry breaks the chain from there on, and
//! someone holding the database but not the key file cannot compute a chain that verifies.
//! Triggers refuse UPDATE and DELETE; [`verify`] recomputes the whole chain. Call [`record`]
//! inside the same transaction as the state change it describes. Put ids in `details`, never
//! personal data (the log outlives retention purges).
//!
//! Cutting entries off the end leaves a chain that is intact as far as it goes, so it is
//! caught twice over: SQLite's sequence counter remembers the highest number ever given out
//! (deleting rows does not lower it), and the chain's head — its last number and MAC — is kept
//! outside the database ([`anchor`]: a file beside the keys, the service log, and each backup's
//! metadata). An older copy of the database put in place is found against that head.
//!
//! Databases from before the key hold entries chained with plain SHA-256 (`keyed = 0`). At the
//! first start with the key the server verifies that plain chain once and continues keyed from
//! its head ([`continue_keyed`]), recording the plain head in an `audit.chain_keyed` entry; a
//! plain entry after a keyed one is refused by [`verify`].
//!
//! The key reaches SQL as the function `gatehouse_audit_mac(prev_hash, seq, at, actor, action,
//! subject, details)`, registered on each connection by [`attach`] (done when the database is
//! opened), so the many callers of [`record`] need not carry it.

pub mod anchor;

use crate::auth::Actor;
use crate::db::ts;
use crate::keys::audit_chain::AuditKey;
use chrono::{DateTime, Utc};
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The SQL name of the keyed MAC function.
const MAC_FUNCTION: &str = "gatehouse_audit_mac";

/// Registers the audit-chain key on `conn`, so [`record`] and [`verify`] can use it there.
pub fn attach(conn: &Connection, key: AuditKey) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        MAC_FUNCTION,
        7,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        move |ctx| {
            let mut fields = Vec::with_capacity(7);
            for i in 0..7 {
                fields.push(match ctx.get_raw(i) {
                    rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                    other => other.as_str().map_err(rusqlite::Error::from)?.to_owned(),
                });
            }
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            Ok(key.mac(&fields))
        },
    )
}

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
        .prepare_cached("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| r.get(0))
        .optional()?
        .unwrap_or_else(|| GENESIS.to_owned());
    let seq: i64 = tx
        .prepare_cached(
            "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'), 0) + 1",
        )?
        .query_row([], |r| r.get(0))?;
    tx.prepare_cached(
        "INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash, keyed)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, gatehouse_audit_mac(?7, ?1, ?2, ?3, ?4, ?5, ?6), 1)",
    )?
    .execute(params![
        seq,
        ts(now),
        actor.audit_name(),
        action,
        subject,
        details.to_string(),
        prev_hash,
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
    /// An entry from a row with the columns `seq, at, actor, action, subject, details`.
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
        Ok(Entry {
            seq: r.get("seq")?,
            at: r.get("at")?,
            actor: r.get("actor")?,
            action: r.get("action")?,
            subject: r.get("subject")?,
            details: r.get("details")?,
        })
    }

    /// The plain SHA-256 link of entries written before the chain was keyed.
    fn plain_hash(&self, prev_hash: &str) -> String {
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
    /// Whether every entry is intact, none is missing, and the chain reaches the head kept
    /// outside the database.
    pub ok: bool,
    /// How many entries were checked.
    pub entries: u64,
    /// The first entry whose MAC or link does not match, or the first one missing, if any.
    pub first_bad_seq: Option<i64>,
    /// Why that entry is bad.
    pub problem: Option<String>,
    /// The last entry's number in the database.
    pub head_seq: Option<i64>,
    /// The last entry's MAC in the database.
    pub head_mac: Option<String>,
    /// The first entry chained with the key (earlier ones are plain SHA-256 from before).
    pub keyed_from: Option<i64>,
    /// The highest entry number SQLite has ever given out (never lowered by a deletion).
    pub sequence: i64,
    /// The head kept outside the database that the chain was checked against, if any.
    pub anchor: Option<anchor::Head>,
}

impl Verification {
    fn fail(mut self, seq: i64, problem: String) -> Self {
        self.ok = false;
        self.first_bad_seq = Some(seq);
        self.problem = Some(problem);
        self
    }
}

/// Recomputes the chain from the first entry and checks that nothing was cut off its end:
/// against SQLite's sequence counter, and against `anchor` (the head kept outside the
/// database) when there is one.
pub fn verify(conn: &Connection, anchor: Option<&anchor::Head>) -> rusqlite::Result<Verification> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, subject, details, prev_hash, hash, keyed,
                CASE WHEN keyed THEN gatehouse_audit_mac(prev_hash, seq, at, actor, action, subject, details) END AS mac
         FROM audit_log ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut expected_prev = GENESIS.to_owned();
    let mut expected_seq = 1i64;
    let sequence: i64 = conn
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    let mut v = Verification {
        ok: true,
        entries: 0,
        first_bad_seq: None,
        problem: None,
        head_seq: None,
        head_mac: None,
        keyed_from: None,
        sequence,
        anchor: anchor.cloned(),
    };
    let mut anchor_seen = false;
    while let Some(r) = rows.next()? {
        let entry = Entry::from_row(r)?;
        let prev_hash: String = r.get("prev_hash")?;
        let hash: String = r.get("hash")?;
        let keyed: bool = r.get("keyed")?;
        let mac: Option<String> = r.get("mac")?;
        v.entries += 1;
        let keyed_from = v.keyed_from.or(anchor.and_then(|a| a.keyed_from));
        let problem = if entry.seq != expected_seq {
            Some(format!(
                "expected entry {expected_seq} here; entries are missing"
            ))
        } else if prev_hash != expected_prev {
            Some("its link to the previous entry does not match".to_owned())
        } else if !keyed && keyed_from.is_some_and(|from| entry.seq >= from) {
            Some(
                "it is chained without the key although the chain was keyed before it                  (the keyed entries were replaced)"
                    .to_owned(),
            )
        } else if keyed && mac.as_deref() != Some(hash.as_str()) {
            Some(
                "its contents do not match its MAC (edited, or chained without the key)".to_owned(),
            )
        } else if !keyed && entry.plain_hash(&prev_hash) != hash {
            Some("its contents do not match its hash (edited)".to_owned())
        } else if anchor.is_some_and(|a| a.seq == entry.seq && a.mac != hash) {
            Some(
                "it differs from the head recorded outside the database: the log was                  rewritten, or an older copy of the database was put in place"
                    .to_owned(),
            )
        } else {
            None
        };
        if let Some(problem) = problem {
            return Ok(v.fail(entry.seq, problem));
        }
        if keyed && v.keyed_from.is_none() {
            v.keyed_from = Some(entry.seq);
        }
        anchor_seen |= anchor.is_some_and(|a| a.seq == entry.seq);
        v.head_seq = Some(entry.seq);
        v.head_mac = Some(hash.clone());
        expected_prev = hash;
        expected_seq += 1;
    }
    let last = v.head_seq.unwrap_or(0);
    if sequence > last {
        let problem = format!(
            "the log ends at entry {last} but entries up to {sequence} were written:              the last entries were deleted"
        );
        return Ok(v.fail(last + 1, problem));
    }
    if let Some(a) = anchor.filter(|a| a.seq > 0 && !anchor_seen) {
        let problem = format!(
            "the log ends at entry {last} but entry {} was recorded outside the database:              entries were removed, or an older copy of the database was put in place",
            a.seq
        );
        return Ok(v.fail(last + 1, problem));
    }
    Ok(v)
}

/// Whether the log in `conn` still holds `head` (the same MAC at its number): the quick check
/// made when the database is opened; [`verify`] does the full one.
pub fn verify_head_only(conn: &Connection, head: &anchor::Head) -> Result<(), String> {
    if head.seq == 0 {
        return Ok(());
    }
    let mac: Option<String> = conn
        .query_row(
            "SELECT hash FROM audit_log WHERE seq = ?1",
            [head.seq],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| e.to_string())?;
    match mac {
        Some(mac) if mac == head.mac => Ok(()),
        Some(_) => Err(format!("entry {} has another MAC", head.seq)),
        None => Err(format!("entry {} is missing", head.seq)),
    }
}

/// At the first start with the audit-chain key on a database whose entries are all plain
/// SHA-256: verifies that plain chain once, then records an `audit.chain_keyed` entry, keyed,
/// linked to the plain head, so every later entry is keyed. `None` when there was nothing to do.
pub fn continue_keyed(
    tx: &Connection,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<Verification>> {
    // Keyed entries follow the plain ones: the last entry says whether the switch was made.
    let last_keyed: Option<bool> = tx
        .query_row(
            "SELECT keyed FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if last_keyed != Some(false) {
        return Ok(None);
    }
    let plain = verify(tx, None)?;
    if plain.ok {
        tracing::info!(
            entries = plain.entries,
            "the plain audit chain verified; it continues keyed from its head"
        );
    } else {
        tracing::error!(
            first_bad_seq = plain.first_bad_seq,
            problem = plain.problem.as_deref(),
            "the plain audit chain does not verify; it continues keyed from its head"
        );
    }
    record(
        tx,
        &Actor::System("audit"),
        "audit.chain_keyed",
        "audit_log",
        serde_json::json!({
            "plain_entries": plain.entries,
            "plain_head": plain.head_mac,
            "plain_chain_ok": plain.ok,
            "problem": plain.problem,
        }),
        now,
    )?;
    Ok(Some(plain))
}

/// The most recent entries, newest first.
pub fn recent(conn: &Connection, limit: u32) -> rusqlite::Result<Vec<Entry>> {
    page(
        conn,
        &Filter {
            limit,
            ..Filter::default()
        },
    )
}

/// Which entries [`page`] returns.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// At most this many.
    pub limit: u32,
    /// Only entries before this position (the next page after one ending at `before`).
    pub before: Option<i64>,
    /// Only actions that start with this, e.g. `staff.` or `device.create`.
    pub action: Option<String>,
    /// Only actors whose name contains this, e.g. `admin`.
    pub actor: Option<String>,
    /// Only entries at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Only entries before this instant.
    pub until: Option<DateTime<Utc>>,
}

/// The entries `filter` selects, newest first.
pub fn page(conn: &Connection, filter: &Filter) -> rusqlite::Result<Vec<Entry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, actor, action, subject, details FROM audit_log
         WHERE seq < ?2 AND (?3 IS NULL OR substr(action, 1, length(?3)) = ?3)
           AND (?4 IS NULL OR instr(actor, ?4) > 0) AND (?5 IS NULL OR at >= ?5)
           AND (?6 IS NULL OR at < ?6)
         ORDER BY seq DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map(
        params![
            filter.limit,
            // A bound, not `?2 IS NULL OR …`, so a later page starts at its place in the log.
            filter.before.unwrap_or(i64::MAX),
            filter.action,
            filter.actor,
            filter.since.map(ts),
            filter.until.map(ts)
        ],
        Entry::from_row,
    )?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_of(n: usize) -> Connection {
        let conn = crate::store::in_memory().unwrap();
        for i in 0..n {
            record(
                &conn,
                &Actor::Anonymous,
                "test.step",
                &format!("thing:{i}"),
                serde_json::json!({"i": i}),
                Utc::now(),
            )
            .unwrap();
        }
        conn
    }

    #[test]
    fn chain_verifies_and_an_edit_is_found_at_its_entry() {
        let conn = log_of(5);
        let v = verify(&conn, None).unwrap();
        assert!(v.ok, "{v:?}");
        assert_eq!((v.entries, v.keyed_from, v.head_seq), (5, Some(1), Some(5)));
        assert!(
            conn.execute("UPDATE audit_log SET action = 'x' WHERE seq = 3", [])
                .is_err(),
            "append-only"
        );
        conn.execute_batch("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET subject = 'thing:99' WHERE seq = 3;").unwrap();
        let v = verify(&conn, None).unwrap();
        assert!(!v.ok);
        assert_eq!(v.first_bad_seq, Some(3));
    }

    #[test]
    fn a_deleted_entry_is_found() {
        let conn = log_of(3);
        conn.execute_batch(
            "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 2;",
        )
        .unwrap();
        assert_eq!(verify(&conn, None).unwrap().first_bad_seq, Some(3));
    }

    #[test]
    fn deleting_the_last_entries_is_found_by_the_sequence_and_by_the_head() {
        let conn = log_of(5);
        let head = anchor::current(&conn).unwrap();
        conn.execute_batch(
            "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq > 3;",
        )
        .unwrap();
        let v = verify(&conn, None).unwrap();
        assert_eq!(
            (v.ok, v.first_bad_seq, v.sequence),
            (false, Some(4), 5),
            "{v:?}"
        );
        assert!(v.problem.unwrap().contains("deleted"));
        // Also lowering SQLite's counter leaves the head kept outside the database.
        conn.execute(
            "UPDATE sqlite_sequence SET seq = 3 WHERE name = 'audit_log'",
            [],
        )
        .unwrap();
        assert!(
            verify(&conn, None).unwrap().ok,
            "the database alone looks whole"
        );
        let v = verify(&conn, Some(&head)).unwrap();
        assert_eq!((v.ok, v.first_bad_seq), (false, Some(4)), "{v:?}");
        assert!(verify_head_only(&conn, &head).is_err());
    }

    #[test]
    fn a_chain_recomputed_without_the_key_does_not_verify() {
        let conn = log_of(4);
        let head = anchor::current(&conn).unwrap();
        // Edit entry 2 and recompute every later link as a plain SHA-256 chain, as someone
        // with the database but without the key file could.
        conn.execute_batch("DROP TRIGGER audit_log_no_update;")
            .unwrap();
        let mut prev = GENESIS.to_owned();
        for seq in 1..=4i64 {
            let mut e: Entry = conn
                .query_row(
                    "SELECT seq, at, actor, action, subject, details FROM audit_log WHERE seq = ?1",
                    [seq],
                    Entry::from_row,
                )
                .unwrap();
            if seq == 2 {
                e.subject = "thing:forged".into();
            }
            let hash = e.plain_hash(&prev);
            conn.execute(
                "UPDATE audit_log SET subject = ?2, prev_hash = ?3, hash = ?4, keyed = 0 WHERE seq = ?1",
                params![seq, e.subject, prev, hash],
            )
            .unwrap();
            prev = hash;
        }
        // Without an anchor the whole chain looks like one from before the key...
        let plain = verify(&conn, None).unwrap();
        assert!(plain.ok && plain.keyed_from.is_none(), "{plain:?}");
        // ...the head kept outside the database says it was keyed from entry 1.
        let v = verify(&conn, Some(&head)).unwrap();
        assert_eq!((v.ok, v.first_bad_seq), (false, Some(1)), "{v:?}");
        // Marked keyed instead, the forged MACs do not match the key.
        conn.execute("UPDATE audit_log SET keyed = 1", []).unwrap();
        let v = verify(&conn, None).unwrap();
        assert_eq!((v.ok, v.first_bad_seq), (false, Some(1)), "{v:?}");
        assert!(v.problem.unwrap().contains("MAC"));
    }

    #[test]
    fn a_plain_chain_is_verified_once_and_continues_keyed_from_its_head() {
        let conn = crate::store::in_memory().unwrap();
        conn.execute_batch("DROP TRIGGER audit_log_no_update;")
            .unwrap();
        // Two entries as the server wrote them before the key.
        let mut prev = GENESIS.to_owned();
        for seq in 1..=2i64 {
            let e = Entry {
                seq,
                at: ts(Utc::now()),
                actor: "system:first_start".into(),
                action: "old".into(),
                subject: "s".into(),
                details: "{}".into(),
            };
            let hash = e.plain_hash(&prev);
            conn.execute(
                "INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash, keyed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0)",
                params![seq, e.at, e.actor, e.action, e.subject, e.details, prev, hash],
            )
            .unwrap();
            prev = hash;
        }
        let plain = continue_keyed(&conn, Utc::now()).unwrap().unwrap();
        assert!(plain.ok && plain.entries == 2);
        assert!(continue_keyed(&conn, Utc::now()).unwrap().is_none(), "once");
        record(
            &conn,
            &Actor::Anonymous,
            "new",
            "s",
            serde_json::json!({}),
            Utc::now(),
        )
        .unwrap();
        let v = verify(&conn, Some(&anchor::current(&conn).unwrap())).unwrap();
        assert_eq!((v.ok, v.entries, v.keyed_from), (true, 4, Some(3)), "{v:?}");
        let action: String = conn
            .query_row("SELECT action FROM audit_log WHERE seq = 3", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(action, "audit.chain_keyed");
    }
}

//! The gate change log: every revocation, extension, lockdown switch, remote unlock and
//! snapshot change, numbered by an autoincrement `seq` and written in the same transaction as
//! the state change. Gates read it from a cursor (`GET /api/v1/gate/changes`).
//!
//! Call [`append`] inside your transaction; nothing else is needed — the database thread sees
//! the log grow after the commit and wakes every waiting gate (see [`crate::db::Db::change_seq`]).

use crate::db::{parse_ts, ts};
use chrono::{DateTime, Utc};
use gatehouse_credential::api::gate::{Change, ChangeEvent};
use rusqlite::{Connection, params};

/// The most changes one batch carries; a gate asks again from the returned cursor.
pub const MAX_BATCH: u32 = 1000;

/// Appends `event` to the change log and returns its sequence number.
pub fn append(tx: &Connection, event: &ChangeEvent, now: DateTime<Utc>) -> rusqlite::Result<u64> {
    let card_id = match event {
        ChangeEvent::Revoked { card_id, .. } | ChangeEvent::Extended { card_id, .. } => {
            Some(card_id.0)
        }
        _ => None,
    };
    let json = serde_json::to_string(event)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    tx.execute(
        "INSERT INTO gate_changes (at, event, card_id) VALUES (?1, ?2, ?3)",
        params![ts(now), json, card_id],
    )?;
    Ok(u64::try_from(tx.last_insert_rowid()).unwrap_or(0))
}

/// The changes with `seq > since`, oldest first, at most [`MAX_BATCH`].
pub fn since(conn: &Connection, since: u64) -> rusqlite::Result<Vec<Change>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, event FROM gate_changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = stmt.query_map(
        params![i64::try_from(since).unwrap_or(i64::MAX), MAX_BATCH],
        |r| {
            let seq: i64 = r.get(0)?;
            let at: String = r.get(1)?;
            let event: String = r.get(2)?;
            let event: ChangeEvent = serde_json::from_str(&event).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    2,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })?;
            Ok(Change {
                seq: u64::try_from(seq).unwrap_or(0),
                at: parse_ts(&at)?,
                event,
            })
        },
    )?;
    rows.collect()
}

/// The highest sequence number in the log (0 when empty).
pub fn cursor(conn: &Connection) -> rusqlite::Result<u64> {
    let seq: i64 = conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM gate_changes", [], |r| {
        r.get(0)
    })?;
    Ok(u64::try_from(seq).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_credential::CardId;
    use gatehouse_credential::UtcMinute;
    use gatehouse_credential::api::gate::RevocationReason;

    #[test]
    fn changes_come_back_in_order_after_the_cursor() {
        let conn = crate::db::open_in_memory().unwrap();
        let now = Utc::now();
        let a = append(&conn, &ChangeEvent::Lockdown { active: true }, now).unwrap();
        let b = append(
            &conn,
            &ChangeEvent::Revoked {
                card_id: CardId(7),
                reason: RevocationReason::Lost,
                not_after: UtcMinute(100),
            },
            now,
        )
        .unwrap();
        assert_eq!((a, b), (1, 2));
        assert_eq!(cursor(&conn).unwrap(), 2);
        let after_a = since(&conn, a).unwrap();
        assert_eq!(after_a.len(), 1);
        assert_eq!(after_a[0].seq, 2);
        assert!(matches!(
            after_a[0].event,
            ChangeEvent::Revoked {
                card_id: CardId(7),
                ..
            }
        ));
        assert!(since(&conn, 2).unwrap().is_empty());
    }
}

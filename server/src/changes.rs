//! The gate change log: every revocation, extension, lockdown switch, remote unlock and
//! snapshot change, numbered by an autoincrement `seq` and written in the same transaction as
//! the state change. Gates read it from a cursor (`GET /api/v1/gate/changes`).
//!
//! Call [`append`] inside your transaction; nothing else is needed — the database thread sees
//! the log grow after the commit and wakes every waiting gate (see [`crate::db::Db::change_seq`]).

use crate::db::{instant, ts};
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
    tx.prepare_cached("INSERT INTO gate_changes (at, event, card_id) VALUES (?1, ?2, ?3)")?
        .execute(params![ts(now), json, card_id])?;
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
            let seq: i64 = r.get("seq")?;
            let event: String = r.get("event")?;
            let event: ChangeEvent = serde_json::from_str(&event).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    2,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })?;
            Ok(Change {
                seq: u64::try_from(seq).unwrap_or(0),
                at: instant(r, "at")?,
                event,
            })
        },
    )?;
    rows.collect()
}

/// The highest sequence number ever given (0 when none); pruning never moves it back.
pub fn cursor(conn: &Connection) -> rusqlite::Result<u64> {
    let seq: i64 = conn
        .prepare_cached(
            "SELECT COALESCE(MAX(seq), 0) FROM (
                 SELECT seq FROM sqlite_sequence WHERE name = 'gate_changes'
                 UNION ALL SELECT MAX(seq) FROM gate_changes)",
        )?
        .query_row([], |r| r.get(0))?;
    Ok(u64::try_from(seq).unwrap_or(0))
}

/// How long after a card's end its revocations and extensions are kept, for gates whose
/// clock runs behind.
pub const KEEP_AFTER_CARD_END: chrono::Duration = chrono::Duration::days(2);
/// How long a remote unlock is kept: a gate that was away longer must not open on it anyway.
pub const KEEP_REMOTE_UNLOCK: chrono::Duration = chrono::Duration::hours(1);
/// How long an anti-passback area's passage is kept: a gate remembers passages at most a day.
pub const KEEP_PASSAGE: chrono::Duration = chrono::Duration::hours(25);

/// Deletes the changes no gate needs any more, so the log does not grow for ever: revocations
/// and extensions of cards that ended (by their latest end) more than
/// [`KEEP_AFTER_CARD_END`] ago — every gate denies such a card as expired anyway — remote
/// unlocks older than [`KEEP_REMOTE_UNLOCK`], area passages older than [`KEEP_PASSAGE`], and
/// every lockdown switch and snapshot notice
/// but the newest of each. A gate reconnecting from an old cursor still gets every change
/// that matters; the sequence numbers are never reused. Returns how many were deleted.
pub fn prune(tx: &Connection, now: DateTime<Utc>) -> rusqlite::Result<usize> {
    let mut rows: Vec<(i64, DateTime<Utc>, ChangeEvent)> = Vec::new();
    {
        let mut stmt = tx.prepare("SELECT seq, at, event FROM gate_changes ORDER BY seq DESC")?;
        let mut q = stmt.query([])?;
        while let Some(r) = q.next()? {
            let event: String = r.get("event")?;
            // An entry this server cannot read is kept: pruning must never lose a change.
            if let Ok(event) = serde_json::from_str::<ChangeEvent>(&event) {
                rows.push((r.get("seq")?, instant(r, "at")?, event));
            }
        }
    }
    let mut card_end: std::collections::HashMap<u32, DateTime<Utc>> = Default::default();
    for (_, _, event) in &rows {
        if let ChangeEvent::Revoked {
            card_id, not_after, ..
        }
        | ChangeEvent::Extended { card_id, not_after } = event
        {
            let end = card_end.entry(card_id.0).or_insert(not_after.to_datetime());
            *end = (*end).max(not_after.to_datetime());
        }
    }
    let (mut newest_lockdown, mut newest_evacuation, mut newest_snapshot) = (true, true, true);
    let mut delete = tx.prepare("DELETE FROM gate_changes WHERE seq = ?1")?;
    let mut deleted = 0;
    for (seq, at, event) in &rows {
        let moot = match event {
            ChangeEvent::Revoked { card_id, .. } | ChangeEvent::Extended { card_id, .. } => {
                card_end
                    .get(&card_id.0)
                    .is_some_and(|end| *end + KEEP_AFTER_CARD_END < now)
            }
            ChangeEvent::RemoteUnlock { .. } | ChangeEvent::FireReset => {
                *at + KEEP_REMOTE_UNLOCK < now
            }
            ChangeEvent::Passage { .. } => *at + KEEP_PASSAGE < now,
            ChangeEvent::Lockdown { .. } => !std::mem::replace(&mut newest_lockdown, false),
            ChangeEvent::Evacuation { .. } => !std::mem::replace(&mut newest_evacuation, false),
            ChangeEvent::SnapshotChanged => !std::mem::replace(&mut newest_snapshot, false),
        };
        if moot {
            deleted += delete.execute([seq])?;
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_credential::CardId;
    use gatehouse_credential::UtcMinute;
    use gatehouse_credential::api::gate::RevocationReason;

    #[test]
    fn pruning_keeps_every_change_a_gate_still_needs() {
        let conn = crate::store::in_memory().unwrap();
        let now = Utc::now();
        let ago = |d: i64| now - chrono::Duration::days(d);
        let minute = |t: DateTime<Utc>| UtcMinute::floor(t).unwrap();
        let revoke = |card: u32, end: DateTime<Utc>| ChangeEvent::Revoked {
            card_id: CardId(card),
            reason: RevocationReason::Lost,
            not_after: minute(end),
        };
        let old_lockdown = append(&conn, &ChangeEvent::Lockdown { active: true }, ago(40)).unwrap();
        let ended = append(&conn, &revoke(1, ago(10)), ago(30)).unwrap();
        // Card 2 was revoked with an end long past, but later extended: still needed.
        let revoked_then_extended = append(&conn, &revoke(2, ago(10)), ago(30)).unwrap();
        let extension = append(
            &conn,
            &ChangeEvent::Extended {
                card_id: CardId(2),
                not_after: minute(now + chrono::Duration::days(30)),
            },
            ago(20),
        )
        .unwrap();
        let live = append(&conn, &revoke(3, now + chrono::Duration::days(5)), ago(1)).unwrap();
        let old_unlock = append(
            &conn,
            &ChangeEvent::RemoteUnlock {
                device_id: "g".into(),
                seconds: 5,
            },
            ago(3),
        )
        .unwrap();
        let lockdown = append(&conn, &ChangeEvent::Lockdown { active: false }, ago(2)).unwrap();
        let passage = |at: DateTime<Utc>| ChangeEvent::Passage {
            area: "lobby".to_owned().try_into().unwrap(),
            card_id: CardId(4),
            direction: None,
            passed_at: at,
            device_id: "g".into(),
            annulled: false,
        };
        let old_passage = append(&conn, &passage(ago(2)), ago(2)).unwrap();
        let hours = |h: i64| now - chrono::Duration::hours(h);
        let recent_passage = append(&conn, &passage(hours(20)), hours(20)).unwrap();
        let snapshot_old = append(&conn, &ChangeEvent::SnapshotChanged, ago(9)).unwrap();
        let snapshot = append(&conn, &ChangeEvent::SnapshotChanged, ago(1)).unwrap();
        let top = cursor(&conn).unwrap();

        assert_eq!(prune(&conn, now).unwrap(), 5);
        let kept: Vec<u64> = since(&conn, 0).unwrap().iter().map(|c| c.seq).collect();
        assert_eq!(
            kept,
            vec![
                revoked_then_extended,
                extension,
                live,
                lockdown,
                recent_passage,
                snapshot
            ]
        );
        for gone in [old_lockdown, ended, old_unlock, old_passage, snapshot_old] {
            assert!(!kept.contains(&gone));
        }
        assert_eq!(cursor(&conn).unwrap(), top, "the cursor never moves back");
        assert_eq!(
            prune(&conn, now).unwrap(),
            0,
            "pruning twice changes nothing"
        );
    }

    #[test]
    fn changes_come_back_in_order_after_the_cursor() {
        let conn = crate::store::in_memory().unwrap();
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

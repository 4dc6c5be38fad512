//! What each gate last said of itself with its long poll: the cursor it asked from, its relay,
//! door and fire input. The desk's doors page reads it to show how far behind a gate's sync is
//! (changes not yet fetched, and how long the oldest of them has waited) and its door's state.

use super::devices::DeviceError;
use crate::changes;
use crate::db::{parse_ts, ts};
use chrono::{DateTime, Utc};
use gatehouse_credential::Zone;
use gatehouse_credential::api::device::DeviceKind;
use gatehouse_credential::api::gate::{DoorState, GateReport, RelayState};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::collections::HashMap;

/// A gate not heard from for this long is offline (it polls far more often).
pub const OFFLINE_AFTER: chrono::Duration = chrono::Duration::minutes(3);

/// How far behind a gate's sync is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lag {
    /// Changes the server has that the gate has not asked for.
    pub changes: u64,
    /// How long the oldest of them has waited (none when there is none, or it was pruned).
    pub seconds: Option<i64>,
}

/// The lag of a gate at `gate_cursor` while the server is at `server_cursor`, the first change
/// it misses made at `first_missed_at`.
pub fn lag(
    gate_cursor: u64,
    server_cursor: u64,
    first_missed_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Lag {
    let changes = server_cursor.saturating_sub(gate_cursor);
    let seconds = match (changes, first_missed_at) {
        (0, _) => Some(0),
        (_, Some(at)) => Some((now - at).num_seconds().max(0)),
        (_, None) => None,
    };
    Lag { changes, seconds }
}

/// A gate's last report and its lag now.
#[derive(Clone, Debug, PartialEq)]
pub struct DoorReport {
    /// The cursor the gate last asked from.
    pub cursor: u64,
    /// Its relay, door and fire input, if it reported them.
    pub state: Option<GateReport>,
    /// When it reported.
    pub reported_at: DateTime<Utc>,
    /// How far behind it is now.
    pub lag: Lag,
}

fn relay_name(r: RelayState) -> &'static str {
    match r {
        RelayState::Locked => "locked",
        RelayState::Released => "released",
    }
}

fn door_name(d: DoorState) -> &'static str {
    match d {
        DoorState::Closed => "closed",
        DoorState::Open => "open",
        DoorState::Held => "held",
    }
}

/// Keeps gate `device_id`'s report made `now`, replacing its last one.
pub fn record(
    conn: &Connection,
    device_id: &str,
    cursor: u64,
    state: Option<GateReport>,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO gate_reports (device_id, cursor, relay, door, fire, reported_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(device_id) DO UPDATE SET cursor = excluded.cursor, relay = excluded.relay,
             door = excluded.door, fire = excluded.fire, reported_at = excluded.reported_at",
    )?
    .execute(params![
        device_id,
        i64::try_from(cursor).unwrap_or(i64::MAX),
        state.map(|s| relay_name(s.relay)),
        state.map(|s| door_name(s.door)),
        state.map(|s| s.fire),
        ts(now),
    ])?;
    Ok(())
}

fn parse_state(
    relay: Option<String>,
    door: Option<String>,
    fire: Option<bool>,
) -> Option<GateReport> {
    let relay = match relay?.as_str() {
        "locked" => RelayState::Locked,
        "released" => RelayState::Released,
        _ => return None,
    };
    let door = match door?.as_str() {
        "closed" => DoorState::Closed,
        "open" => DoorState::Open,
        "held" => DoorState::Held,
        _ => return None,
    };
    Some(GateReport {
        relay,
        door,
        fire: fire?,
    })
}

/// Every gate's last report by device id, with its lag at `now`.
pub fn all(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<HashMap<String, DoorReport>> {
    let server_cursor = changes::cursor(conn)?;
    let mut first_missed =
        conn.prepare_cached("SELECT at FROM gate_changes WHERE seq > ?1 ORDER BY seq LIMIT 1")?;
    let mut stmt = conn.prepare_cached(
        "SELECT device_id, cursor, relay, door, fire, reported_at FROM gate_reports",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<bool>>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = HashMap::with_capacity(rows.len());
    for (device_id, cursor, relay, door, fire, at) in rows {
        let cursor = u64::try_from(cursor).unwrap_or(0);
        let missed_at = first_missed
            .query_row(params![i64::try_from(cursor).unwrap_or(i64::MAX)], |r| {
                r.get::<_, String>(0)
            })
            .optional()?
            .map(|s| parse_ts(&s))
            .transpose()?;
        out.insert(
            device_id,
            DoorReport {
                cursor,
                state: parse_state(relay, door, fire),
                reported_at: parse_ts(&at)?,
                lag: lag(cursor, server_cursor, missed_at, now),
            },
        );
    }
    Ok(out)
}

/// One gate as the doors page shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Door {
    /// The gate's device id.
    pub device_id: String,
    /// Its name.
    pub name: String,
    /// The door it guards.
    pub zone: Option<Zone>,
    /// Heard from within the last three minutes.
    pub online: bool,
    /// When it last called the server.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Changes it has not fetched yet (none before its first long poll).
    pub behind_changes: Option<u64>,
    /// How long the oldest of them has waited, in seconds.
    pub behind_seconds: Option<i64>,
    /// Its relay as it last reported.
    pub relay: Option<RelayState>,
    /// Its door as it last reported.
    pub door: Option<DoorState>,
    /// Whether its fire-alarm input was in alarm when it last reported.
    pub fire: Option<bool>,
    /// When it last reported its state.
    pub reported_at: Option<DateTime<Utc>>,
}

/// When device `d` was last heard from, and whether that makes it online at `now`.
pub fn heard(d: &super::devices::DeviceInfo, now: DateTime<Utc>) -> (Option<DateTime<Utc>>, bool) {
    let seen = d.last_seen_at;
    (seen, seen.is_some_and(|t| now - t < OFFLINE_AFTER))
}

/// The estate's gates that are not retired.
pub fn gates(conn: &Connection) -> Result<Vec<super::devices::DeviceInfo>, DeviceError> {
    Ok(super::devices::list(conn)?
        .into_iter()
        .filter(|d| d.kind == DeviceKind::Gate && d.state != "revoked")
        .collect())
}

/// Every gate not retired, with its last report and its lag at `now`.
pub fn doors(conn: &Connection, now: DateTime<Utc>) -> Result<Vec<Door>, DeviceError> {
    let mut reports = all(conn, now)?;
    Ok(gates(conn)?
        .into_iter()
        .map(|g| {
            let (seen, online) = heard(&g, now);
            let report = reports.remove(&g.device_id);
            let state = report.as_ref().and_then(|r| r.state);
            Door {
                behind_changes: report.as_ref().map(|r| r.lag.changes),
                behind_seconds: report.as_ref().and_then(|r| r.lag.seconds),
                relay: state.map(|s| s.relay),
                door: state.map(|s| s.door),
                fire: state.map(|s| s.fire),
                reported_at: report.map(|r| r.reported_at),
                device_id: g.device_id,
                name: g.name,
                zone: g.zone,
                online,
                last_seen_at: seen,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_gate_level_with_the_server_is_not_behind() {
        let now = t("2026-12-03T10:00:00Z");
        assert_eq!(
            lag(7, 7, None, now),
            Lag {
                changes: 0,
                seconds: Some(0)
            }
        );
        // A server restored from an older backup is behind its gates, not the other way.
        assert_eq!(lag(9, 7, None, now).changes, 0);
    }

    #[test]
    fn a_gate_behind_counts_the_changes_and_the_wait_of_the_oldest() {
        let now = t("2026-12-03T10:00:00Z");
        assert_eq!(
            lag(4, 7, Some(t("2026-12-03T09:58:30Z")), now),
            Lag {
                changes: 3,
                seconds: Some(90)
            }
        );
        // The changes it misses were pruned: how long is unknown.
        assert_eq!(lag(4, 7, None, now).seconds, None);
    }

    #[test]
    fn the_last_report_of_each_gate_is_kept_with_its_lag() {
        let conn = crate::store::in_memory().unwrap();
        let now = t("2026-12-03T10:00:00Z");
        conn.execute(
            "INSERT INTO devices (id, kind, name, created_at, created_by)
             VALUES ('g1', 'gate', 'Lobby', '', 'test')",
            [],
        )
        .unwrap();
        let first = changes::append(
            &conn,
            &gatehouse_credential::api::gate::ChangeEvent::Lockdown { active: true },
            t("2026-12-03T09:59:00Z"),
        )
        .unwrap();
        let open = GateReport {
            relay: RelayState::Released,
            door: DoorState::Held,
            fire: true,
        };
        record(&conn, "g1", first - 1, None, now).unwrap();
        record(&conn, "g1", first - 1, Some(open), now).unwrap();
        let r = &all(&conn, now).unwrap()["g1"];
        assert_eq!(r.state, Some(open));
        assert_eq!(
            r.lag,
            Lag {
                changes: 1,
                seconds: Some(60)
            }
        );
        record(&conn, "g1", first, None, now).unwrap();
        let r = &all(&conn, now).unwrap()["g1"];
        assert_eq!((r.state, r.lag.changes), (None, 0));
    }
}

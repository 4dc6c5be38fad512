//! Device alarms the front desk must see: a kiosk's printer out of paper or offline, a gate's
//! forced or held-open door, a lost scanner, an untrusted clock.
//!
//! A device raises an alarm and clears it when the cause is gone; staff acknowledge it. There is
//! at most one uncleared alarm per device and kind, so a kiosk that reports "paper out" on every
//! flow does not flood the desk. The desk sees an alarm until it is both cleared and
//! acknowledged: a cleared but unseen alarm still tells the desk what happened.

use super::desk_error::{DeskError, DeskResult};
use super::page_size::PageSize;
use crate::audit;
use crate::auth::Actor;
use crate::db::{parse_ts, ts};
use chrono::{DateTime, Utc};
use gatehouse_credential::api::device::{AlarmReport, DeviceAlarmKind};
use gatehouse_credential::api::gate::{AlarmKind, GateEvent};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// The longest detail text a device may send.
pub const MAX_DETAIL_CHARS: usize = 200;

/// One alarm as the desk sees it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Alarm {
    /// Row id, for acknowledging.
    pub id: i64,
    /// The device that raised it.
    pub device_id: String,
    /// The device's name, e.g. "Lobby kiosk".
    pub device_name: String,
    /// What is wrong.
    pub kind: DeviceAlarmKind,
    /// What the device added, if anything.
    pub detail: Option<String>,
    /// When first raised (UTC).
    pub raised_at: DateTime<Utc>,
    /// When the device last said it still holds, or last repeated it (UTC).
    pub last_reported_at: DateTime<Utc>,
    /// How many times it was reported before the desk acknowledged it (1 for most).
    pub repeats: i64,
    /// When the device said the cause is gone.
    pub cleared_at: Option<DateTime<Utc>>,
    /// Who at the desk acknowledged it.
    pub acknowledged_by: Option<String>,
    /// When.
    pub acknowledged_at: Option<DateTime<Utc>>,
}

/// The stable text of a kind, as stored and as the API names it.
pub fn kind_name(kind: DeviceAlarmKind) -> &'static str {
    match kind {
        DeviceAlarmKind::PaperOut => "paper_out",
        DeviceAlarmKind::PaperNearEnd => "paper_near_end",
        DeviceAlarmKind::PrinterOffline => "printer_offline",
        DeviceAlarmKind::DoorHeldOpen => "door_held_open",
        DeviceAlarmKind::DoorForced => "door_forced",
        DeviceAlarmKind::UntrustedClock => "untrusted_clock",
        DeviceAlarmKind::ScannerLost => "scanner_lost",
        DeviceAlarmKind::PrinterCoverOpen => "printer_cover_open",
        DeviceAlarmKind::ScannerMisconfigured => "scanner_misconfigured",
        DeviceAlarmKind::FireAlarm => "fire_alarm",
        DeviceAlarmKind::ClockCorrected => "clock_corrected",
        DeviceAlarmKind::WorkerCardGuessing => "worker_card_guessing",
        DeviceAlarmKind::DenyListCheck => "deny_list_check",
    }
}

fn parse_kind(s: &str) -> Result<DeviceAlarmKind, rusqlite::Error> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// Records what a device reports: raises (or refreshes) an alarm, or clears it.
pub fn report(
    tx: &Connection,
    actor: &Actor,
    report: &AlarmReport,
    now: DateTime<Utc>,
) -> DeskResult<()> {
    let Some(device) = actor.device() else {
        return Err(DeskError::invalid(
            "forbidden",
            "only a device raises alarms",
        ));
    };
    if !may_report(actor, report.kind) {
        return Err(DeskError::invalid(
            "alarm_kind_not_allowed",
            format!(
                "a {} cannot have the alarm `{}`",
                actor.kind().name(),
                kind_name(report.kind)
            ),
        ));
    }
    let detail = match report.detail.as_deref().map(str::trim) {
        Some(d) if d.chars().count() > MAX_DETAIL_CHARS => {
            return Err(DeskError::invalid(
                "invalid_detail",
                format!("detail is at most {MAX_DETAIL_CHARS} characters"),
            ));
        }
        Some(d) if d.chars().any(char::is_control) => {
            return Err(DeskError::invalid(
                "invalid_detail",
                "detail may not contain control characters",
            ));
        }
        Some("") | None => None,
        Some(d) => Some(d.to_owned()),
    };
    let change = if report.active {
        Change::Raise
    } else {
        Change::Clear
    };
    Ok(set(
        tx,
        actor,
        &device.id,
        report.kind,
        change,
        detail,
        now,
    )?)
}

/// Whether `actor` (a device) can have an alarm of `kind`: a kiosk only its printer's, a gate
/// only its door's, clock's, scanner's and the fire alarm input's.
pub fn may_report(actor: &Actor, kind: DeviceAlarmKind) -> bool {
    use DeviceAlarmKind as K;
    match actor {
        Actor::Kiosk(_) => matches!(
            kind,
            K::PaperOut | K::PaperNearEnd | K::PrinterOffline | K::PrinterCoverOpen
        ),
        Actor::Gate(_) => matches!(
            kind,
            K::DoorHeldOpen
                | K::DoorForced
                | K::UntrustedClock
                | K::ScannerLost
                | K::ScannerMisconfigured
                | K::FireAlarm
                | K::ClockCorrected
        ),
        _ => false,
    }
}

/// What a report does to the alarm of its device and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The cause holds: raise, or refresh the open alarm.
    Raise,
    /// The cause is gone.
    Clear,
    /// Something happened once (a forced door): a new alarm, already cleared, that the desk
    /// sees until someone acknowledges it.
    Momentary,
}

fn set(
    tx: &Connection,
    actor: &Actor,
    device_id: &str,
    kind: DeviceAlarmKind,
    change: Change,
    detail: Option<String>,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    if change == Change::Momentary {
        // Repeats the desk has not yet acknowledged collapse into one alarm with a count, so
        // one device's flood cannot push other alarms out of the desk's list.
        let repeated = tx
            .prepare_cached(
                "UPDATE device_alarms SET repeats = repeats + 1, last_reported_at = ?3
                 WHERE device_id = ?1 AND kind = ?2 AND acknowledged_at IS NULL
                   AND cleared_at IS NOT NULL",
            )?
            .execute(params![device_id, kind_name(kind), ts(now)])?;
        if repeated == 0 {
            insert(tx, actor, device_id, kind, detail, now, Some(now))?;
        }
        return Ok(());
    }
    let active = change == Change::Raise;
    let open: Option<i64> = tx
        .prepare_cached(
            "SELECT id FROM device_alarms WHERE device_id = ?1 AND kind = ?2 AND cleared_at IS NULL",
        )?
        .query_row(params![device_id, kind_name(kind)], |r| r.get("id"))
        .optional()?;
    match (open, active) {
        (Some(id), true) => {
            tx.prepare_cached(
                "UPDATE device_alarms SET last_reported_at = ?2, detail = COALESCE(?3, detail) WHERE id = ?1",
            )?
            .execute(params![id, ts(now), detail])?;
        }
        (None, true) => insert(tx, actor, device_id, kind, detail, now, None)?,
        (Some(id), false) => {
            tx.prepare_cached("UPDATE device_alarms SET cleared_at = ?2 WHERE id = ?1")?
                .execute(params![id, ts(now)])?;
            audit::record(
                tx,
                actor,
                "alarm.clear",
                &format!("alarm:{id}"),
                serde_json::json!({ "kind": kind_name(kind) }),
                now,
            )?;
        }
        (None, false) => {}
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn insert(
    tx: &Connection,
    actor: &Actor,
    device_id: &str,
    kind: DeviceAlarmKind,
    detail: Option<String>,
    now: DateTime<Utc>,
    cleared_at: Option<DateTime<Utc>>,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO device_alarms (device_id, kind, detail, raised_at, last_reported_at, cleared_at)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
    )?
    .execute(params![device_id, kind_name(kind), detail, ts(now), cleared_at.map(ts)])?;
    let id = tx.last_insert_rowid();
    tracing::warn!(
        device = device_id,
        kind = kind_name(kind),
        "device alarm raised"
    );
    audit::record(
        tx,
        actor,
        "alarm.raise",
        &format!("alarm:{id}"),
        serde_json::json!({ "kind": kind_name(kind) }),
        now,
    )?;
    Ok(())
}

/// Records an alarm the server itself notices at `device_id`, with `detail` for the desk (no
/// device may report these kinds): shown until acknowledged, repeats collapse into one.
pub fn raise_for_desk(
    tx: &Connection,
    actor: &Actor,
    device_id: &str,
    kind: DeviceAlarmKind,
    detail: String,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    set(
        tx,
        actor,
        device_id,
        kind,
        Change::Momentary,
        Some(detail),
        now,
    )
}

/// What a gate's journal entry means for the desk's alarms, if anything. A gate reports a
/// forced or held-open door and a lost scanner once, so those are momentary; the clock has a
/// recovery entry that clears its alarm.
pub fn from_gate_event(event: &GateEvent) -> Option<(DeviceAlarmKind, Change)> {
    let GateEvent::Alarm { alarm } = event else {
        return None;
    };
    Some(match alarm {
        AlarmKind::DoorHeldOpen => (DeviceAlarmKind::DoorHeldOpen, Change::Momentary),
        AlarmKind::DoorForced => (DeviceAlarmKind::DoorForced, Change::Momentary),
        AlarmKind::ScannerLost => (DeviceAlarmKind::ScannerLost, Change::Momentary),
        AlarmKind::UntrustedClock => (DeviceAlarmKind::UntrustedClock, Change::Raise),
        AlarmKind::ClockRecovered => (DeviceAlarmKind::UntrustedClock, Change::Clear),
        AlarmKind::ScannerMisconfigured => {
            (DeviceAlarmKind::ScannerMisconfigured, Change::Momentary)
        }
        AlarmKind::FireAlarm => (DeviceAlarmKind::FireAlarm, Change::Raise),
        AlarmKind::FireAlarmCleared => (DeviceAlarmKind::FireAlarm, Change::Clear),
        AlarmKind::ClockCorrected => (DeviceAlarmKind::ClockCorrected, Change::Momentary),
    })
}

/// Raises or clears the alarm a gate journal entry carries; call it once per entry, when the
/// entry is first stored.
pub fn apply_gate_event(
    tx: &Connection,
    device_id: &str,
    event: &GateEvent,
    at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let Some((kind, change)) = from_gate_event(event) else {
        return Ok(());
    };
    if kind == DeviceAlarmKind::FireAlarm && fire_report_is_newer(tx, device_id, at)? {
        return Ok(());
    }
    let actor = Actor::Gate(crate::auth::Device {
        id: device_id.to_owned(),
        name: String::new(),
    });
    set(tx, &actor, device_id, kind, change, None, at)
}

/// Whether the gate already told the desk something newer about its fire alarm than a
/// journal entry made at `at`: a gate reports the fire alarm directly when it changes, and
/// its journal arrives later, so an uploaded "fire alarm" must not raise again an alarm the
/// gate has since cleared (nor an old "cleared" end a newer alarm).
fn fire_report_is_newer(
    tx: &Connection,
    device_id: &str,
    at: DateTime<Utc>,
) -> rusqlite::Result<bool> {
    tx.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM device_alarms WHERE device_id = ?1 AND kind = ?2
           AND (raised_at > ?3 OR cleared_at >= ?3)) AS newer",
    )?
    .query_row(
        params![device_id, kind_name(DeviceAlarmKind::FireAlarm), ts(at)],
        |r| r.get("newer"),
    )
}

const SELECT: &str =
    "SELECT a.id, a.device_id, d.name AS device_name, a.kind, a.detail, a.raised_at, a.last_reported_at,
        a.cleared_at, a.acknowledged_by, a.acknowledged_at, a.repeats
     FROM device_alarms a JOIN devices d ON d.id = a.device_id";

fn row(r: &rusqlite::Row<'_>) -> Result<Alarm, rusqlite::Error> {
    let opt_ts = |s: Option<String>| s.as_deref().map(parse_ts).transpose();
    Ok(Alarm {
        id: r.get("id")?,
        device_id: r.get("device_id")?,
        device_name: r.get("device_name")?,
        kind: parse_kind(&r.get::<_, String>("kind")?)?,
        detail: r.get("detail")?,
        raised_at: parse_ts(&r.get::<_, String>("raised_at")?)?,
        last_reported_at: parse_ts(&r.get::<_, String>("last_reported_at")?)?,
        cleared_at: opt_ts(r.get("cleared_at")?)?,
        acknowledged_by: r.get("acknowledged_by")?,
        acknowledged_at: opt_ts(r.get("acknowledged_at")?)?,
        repeats: r.get("repeats")?,
    })
}

/// Every kind of device alarm, in the order the desk's filter offers them.
pub const KINDS: [DeviceAlarmKind; 13] = [
    DeviceAlarmKind::DoorForced,
    DeviceAlarmKind::DoorHeldOpen,
    DeviceAlarmKind::FireAlarm,
    DeviceAlarmKind::ScannerLost,
    DeviceAlarmKind::ScannerMisconfigured,
    DeviceAlarmKind::UntrustedClock,
    DeviceAlarmKind::ClockCorrected,
    DeviceAlarmKind::PaperOut,
    DeviceAlarmKind::PaperNearEnd,
    DeviceAlarmKind::PrinterOffline,
    DeviceAlarmKind::PrinterCoverOpen,
    DeviceAlarmKind::WorkerCardGuessing,
    DeviceAlarmKind::DenyListCheck,
];

/// The most alarms [`open`] lists; [`unseen_counts`] counts them all.
pub const OPEN_SHOWN: u32 = 200;

/// Alarms the desk still has to see: not yet cleared, or not yet acknowledged. Newest first,
/// the newest [`OPEN_SHOWN`] of them.
pub fn open(conn: &Connection) -> DeskResult<Vec<Alarm>> {
    let mut st = conn.prepare_cached(&format!(
        "{SELECT} WHERE a.cleared_at IS NULL OR a.acknowledged_at IS NULL
         ORDER BY a.raised_at DESC, a.id DESC LIMIT ?1"
    ))?;
    let rows = st.query_map([OPEN_SHOWN], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many alarms nobody has acknowledged yet, and how many of those "acknowledge all"
/// covers (every kind but the fire alarm, which stays with the emergency bar).
pub fn unseen_counts(conn: &Connection) -> DeskResult<(usize, usize)> {
    let (unseen, coverable): (i64, i64) = conn
        .prepare_cached(
            "SELECT COUNT(*) AS unseen, COALESCE(SUM(kind <> ?1), 0) AS coverable
             FROM device_alarms WHERE acknowledged_at IS NULL",
        )?
        .query_row([kind_name(DeviceAlarmKind::FireAlarm)], |r| {
            Ok((r.get("unseen")?, r.get("coverable")?))
        })?;
    let count = |n: i64| usize::try_from(n).unwrap_or(0);
    Ok((count(unseen), count(coverable)))
}

/// Alarms of one kind the desk still has to see, newest first, with no limit: the fire alarms
/// must never be crowded out by a flood of others.
pub fn open_of_kind(conn: &Connection, kind: DeviceAlarmKind) -> rusqlite::Result<Vec<Alarm>> {
    let mut st = conn.prepare_cached(&format!(
        "{SELECT} WHERE a.kind = ?1 AND (a.cleared_at IS NULL OR a.acknowledged_at IS NULL)
         ORDER BY a.raised_at DESC, a.id DESC"
    ))?;
    let rows = st.query_map([kind_name(kind)], row)?;
    rows.collect()
}

/// Which alarms the history shows: every field optional.
#[derive(Debug, Clone, Default)]
pub struct AlarmQuery {
    /// Only this kind.
    pub kind: Option<DeviceAlarmKind>,
    /// Only this device.
    pub device: Option<String>,
    /// Raised at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Raised before this instant.
    pub until: Option<DateTime<Utc>>,
}

/// How many alarms one history look-up returns unless asked, and the most it returns.
pub const HISTORY_PAGE: PageSize = PageSize {
    default: 100,
    max: 500,
};

/// At most `limit` alarms raised in a period, cleared and acknowledged ones included, newest
/// first (by time raised, then id), from just after `before` (an alarm's time and id).
pub fn history(
    conn: &Connection,
    q: &AlarmQuery,
    before: Option<(&str, i64)>,
    limit: u32,
) -> DeskResult<Vec<Alarm>> {
    let mut st = conn.prepare_cached(&format!(
        "{SELECT} WHERE (?1 IS NULL OR a.kind = ?1) AND (?2 IS NULL OR a.device_id = ?2)
           AND a.raised_at >= ?3 AND a.raised_at < ?7 AND (a.raised_at, a.id) < (?4, ?6)
         ORDER BY a.raised_at DESC, a.id DESC LIMIT ?5"
    ))?;
    // Bounds rather than `?3 IS NULL OR …`, so the index is searched from the page's start.
    let end = q.until.map_or_else(|| "9".to_owned(), ts);
    let (until, id) = before.map_or((end.as_str(), i64::MAX), |(at, id)| (at, id));
    let rows = st.query_map(
        params![
            q.kind.map(kind_name),
            q.device,
            q.since.map(ts).unwrap_or_default(),
            until,
            limit,
            id,
            end
        ],
        row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Acknowledges every alarm the desk has not yet seen, except fire alarms, which the
/// emergency bar handles; returns how many. Each is audited like a single acknowledgement.
pub fn acknowledge_all(tx: &Connection, actor: &Actor, now: DateTime<Utc>) -> DeskResult<usize> {
    let ids: Vec<i64> = tx
        .prepare_cached(
            "SELECT id FROM device_alarms WHERE acknowledged_at IS NULL AND kind <> ?1",
        )?
        .query_map([kind_name(DeviceAlarmKind::FireAlarm)], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for &id in &ids {
        acknowledge(tx, actor, id, now)?;
    }
    Ok(ids.len())
}

/// A staff member has seen the alarm. Acknowledging twice keeps the first acknowledgement.
pub fn acknowledge(
    tx: &Connection,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> DeskResult<Alarm> {
    let Some(staff) = actor.staff() else {
        return Err(DeskError::invalid(
            "forbidden",
            "only staff acknowledge alarms",
        ));
    };
    let changed = tx
        .prepare_cached(
            "UPDATE device_alarms SET acknowledged_by = ?2, acknowledged_at = ?3
             WHERE id = ?1 AND acknowledged_at IS NULL",
        )?
        .execute(params![id, staff.username, ts(now)])?;
    let alarm = tx
        .prepare_cached(&format!("{SELECT} WHERE a.id = ?1"))?
        .query_row([id], row)
        .optional()?
        .ok_or_else(|| DeskError::NotFound(format!("no alarm with id {id}")))?;
    if changed == 1 {
        audit::record(
            tx,
            actor,
            "alarm.acknowledge",
            &format!("alarm:{id}"),
            serde_json::json!({ "kind": kind_name(alarm.kind) }),
            now,
        )?;
    }
    Ok(alarm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Device, Role, Staff};

    fn setup() -> (Connection, Actor, Actor) {
        let conn = crate::store::in_memory().unwrap();
        conn.execute(
            "INSERT INTO devices (id, kind, name, created_at, created_by) VALUES ('k1', 'kiosk', 'Lobby kiosk', '2026-01-01T00:00:00Z', 'test')",
            [],
        )
        .unwrap();
        let kiosk = Actor::Kiosk(Device {
            id: "k1".into(),
            name: "Lobby kiosk".into(),
        });
        let desk = Actor::Desk(Staff {
            id: 1,
            username: "li".into(),
            role: Role::Desk,
        });
        (conn, kiosk, desk)
    }

    fn raise(kind: DeviceAlarmKind, active: bool) -> AlarmReport {
        AlarmReport {
            kind,
            active,
            detail: None,
        }
    }

    #[test]
    fn every_unseen_alarm_is_counted_beyond_those_listed() {
        let (conn, kiosk, desk) = setup();
        let t = |m: i64| DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::minutes(29_000_000 + m);
        // A printer that runs out and is refilled all weekend: each time a new alarm.
        let shown = i64::from(OPEN_SHOWN);
        for m in 0..shown + 30 {
            report(
                &conn,
                &kiosk,
                &raise(DeviceAlarmKind::PaperOut, true),
                t(2 * m),
            )
            .unwrap();
            report(
                &conn,
                &kiosk,
                &raise(DeviceAlarmKind::PaperOut, false),
                t(2 * m + 1),
            )
            .unwrap();
        }
        assert_eq!(open(&conn).unwrap().len(), OPEN_SHOWN as usize);
        let total = usize::try_from(shown + 30).unwrap();
        assert_eq!(unseen_counts(&conn).unwrap(), (total, total));
        assert_eq!(acknowledge_all(&conn, &desk, t(10_000)).unwrap(), total);
        assert_eq!(unseen_counts(&conn).unwrap(), (0, 0));
    }

    #[test]
    fn repeated_reports_keep_one_alarm_until_cleared_and_acknowledged() {
        let (conn, kiosk, desk) = setup();
        let t = |m: i64| DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::minutes(29_000_000 + m);
        report(&conn, &kiosk, &raise(DeviceAlarmKind::PaperOut, true), t(0)).unwrap();
        report(&conn, &kiosk, &raise(DeviceAlarmKind::PaperOut, true), t(5)).unwrap();
        let open_now = open(&conn).unwrap();
        assert_eq!(open_now.len(), 1);
        assert_eq!(open_now[0].raised_at, t(0));
        assert_eq!(open_now[0].last_reported_at, t(5));
        assert_eq!(open_now[0].device_name, "Lobby kiosk");

        report(
            &conn,
            &kiosk,
            &raise(DeviceAlarmKind::PaperOut, false),
            t(9),
        )
        .unwrap();
        let cleared = open(&conn).unwrap();
        assert_eq!(cleared.len(), 1, "cleared but not yet seen by the desk");
        assert_eq!(cleared[0].cleared_at, Some(t(9)));

        let seen = acknowledge(&conn, &desk, cleared[0].id, t(10)).unwrap();
        assert_eq!(seen.acknowledged_by.as_deref(), Some("li"));
        assert!(open(&conn).unwrap().is_empty());

        // Raised again after it was cleared: a new alarm.
        report(
            &conn,
            &kiosk,
            &raise(DeviceAlarmKind::PaperOut, true),
            t(20),
        )
        .unwrap();
        assert_eq!(open(&conn).unwrap()[0].raised_at, t(20));
    }

    #[test]
    fn an_acknowledged_alarm_stays_visible_while_the_cause_lasts() {
        let (conn, kiosk, desk) = setup();
        let now = Utc::now();
        report(
            &conn,
            &kiosk,
            &raise(DeviceAlarmKind::PrinterOffline, true),
            now,
        )
        .unwrap();
        let id = open(&conn).unwrap()[0].id;
        acknowledge(&conn, &desk, id, now).unwrap();
        let still = open(&conn).unwrap();
        assert_eq!(still.len(), 1);
        assert!(still[0].acknowledged_at.is_some() && still[0].cleared_at.is_none());
    }

    #[test]
    fn bad_detail_is_refused_and_unknown_alarm_is_not_found() {
        let (conn, kiosk, desk) = setup();
        let mut r = raise(DeviceAlarmKind::PaperOut, true);
        r.detail = Some("x".repeat(MAX_DETAIL_CHARS + 1));
        assert!(report(&conn, &kiosk, &r, Utc::now()).is_err());
        r.detail = Some("line\nbreak".into());
        assert!(report(&conn, &kiosk, &r, Utc::now()).is_err());
        assert!(open(&conn).unwrap().is_empty());
        assert!(matches!(
            acknowledge(&conn, &desk, 99, Utc::now()),
            Err(DeskError::NotFound(_))
        ));
    }

    #[test]
    fn a_forced_door_is_seen_until_acknowledged_and_each_one_counts() {
        let (conn, _, desk) = setup();
        conn.execute(
            "INSERT INTO devices (id, kind, name, created_at, created_by) VALUES ('g1', 'gate', 'Entrance', '2026-01-01T00:00:00Z', 'test')",
            [],
        )
        .unwrap();
        let forced = GateEvent::Alarm {
            alarm: AlarmKind::DoorForced,
        };
        let now = Utc::now();
        apply_gate_event(&conn, "g1", &forced, now).unwrap();
        apply_gate_event(&conn, "g1", &forced, now + chrono::Duration::minutes(1)).unwrap();
        let seen = open(&conn).unwrap();
        // Repeats before the desk acknowledges collapse into one alarm that counts them.
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].repeats, 2);
        assert!(
            seen.iter()
                .all(|a| a.cleared_at.is_some() && a.device_name == "Entrance")
        );
        for a in seen {
            acknowledge(&conn, &desk, a.id, now).unwrap();
        }
        assert!(open(&conn).unwrap().is_empty());
        // Once acknowledged, the next forced door is a new alarm.
        apply_gate_event(&conn, "g1", &forced, now + chrono::Duration::minutes(2)).unwrap();
        let again = open(&conn).unwrap();
        assert_eq!((again.len(), again[0].repeats), (1, 1));
    }

    #[test]
    fn gate_alarms_map_to_desk_alarms_and_recovery_clears() {
        assert_eq!(
            from_gate_event(&GateEvent::Alarm {
                alarm: AlarmKind::DoorForced
            }),
            Some((DeviceAlarmKind::DoorForced, Change::Momentary))
        );
        assert_eq!(
            from_gate_event(&GateEvent::Alarm {
                alarm: AlarmKind::ClockRecovered
            }),
            Some((DeviceAlarmKind::UntrustedClock, Change::Clear))
        );
        assert_eq!(from_gate_event(&GateEvent::Admitted { flag: None }), None);
    }
}

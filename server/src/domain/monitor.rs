//! The desk's live event monitor: gate decisions and alarms as the gates report them, each
//! with the door, who (masked), and what happened in words in both languages.
//!
//! An event's id is the row id of its `gate_events` row. Rows are only ever appended (by the
//! one database thread, so ids become visible in increasing order) and never deleted, so "every
//! event after id N" is a complete, gap-free resume point for a client that lost its
//! connection. Anything that deletes gate events must keep the newest row, or an id could be
//! given twice.

use super::privacy;
use crate::db::instant;
use chrono::{DateTime, Utc};
use gatehouse_credential::api::gate::{AlarmKind, DenyReason, GateEvent};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// The most events one read returns; a stream reads again from the last one.
pub const BATCH: u32 = 100;
/// How many recent events a client that names no resume point gets first.
pub const BACKLOG: u32 = 50;

/// Words for the desk in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Words {
    /// Chinese.
    pub zh: String,
    /// English.
    pub en: String,
}

impl Words {
    fn new(zh: &str, en: &str) -> Words {
        Words {
            zh: zh.to_owned(),
            en: en.to_owned(),
        }
    }
}

/// One event as the monitor shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MonitorEvent {
    /// The event's id: resume a stream after it (`Last-Event-ID` or `?after=`).
    pub id: i64,
    /// When, by the gate's clock (UTC).
    pub at: DateTime<Utc>,
    /// Whether the gate trusted its clock then.
    pub clock_trusted: bool,
    /// The gate (door) device id.
    pub door_id: String,
    /// The door's name.
    pub door: String,
    /// `admitted`, `denied` or `other` (exit button, remote unlock, alarm, …).
    pub result: String,
    /// The event's type, e.g. `denied`, `exit_request`, `alarm`.
    pub event: String,
    /// The deny reason, alarm or admit flag as a stable code.
    pub reason: Option<String>,
    /// What happened, in words.
    pub words: Words,
    /// Whether this is an alarm (the desk highlights it).
    pub alarm: bool,
    /// The card (or permit) number, when the gate verified a credential.
    pub card_id: Option<u32>,
    /// `worker`, `visitor`, `staff` or `goods_release`, when verified.
    pub kind: Option<String>,
    /// The card holder's name, masked; absent when unknown or purged.
    pub who: Option<String>,
    /// `entry` or `exit` at a lane with two readers.
    pub direction: Option<String>,
}

/// What a journal entry says, in words: the deny reason, the alarm, or what opened the door.
pub fn event_words(event: &GateEvent) -> Words {
    use AlarmKind as A;
    use DenyReason as R;
    use GateEvent as E;
    let (zh, en) = match event {
        E::Admitted { flag: None } => ("放行", "admitted"),
        E::Admitted { flag: Some(_) } => ("放行（重复进入）", "admitted (passed twice)"),
        E::PassageAnnulled => ("放行后未开门", "admitted but never opened"),
        E::ExitRequest => ("出门按钮开门", "exit button"),
        E::RemoteUnlock => ("远程开门", "remote unlock"),
        E::Denied { reason } => match reason {
            R::Unreadable => ("无法识别的二维码", "not a readable card"),
            R::UnknownVersion => ("卡的格式版本不支持", "card format not supported"),
            R::UnknownKey => ("签发密钥未知", "signed with an unknown key"),
            R::BadSignature => ("伪造或损坏的卡", "forged or damaged card"),
            R::Revoked => ("卡已被注销", "card revoked"),
            R::Returned => ("卡已交还前台", "card returned at the desk"),
            R::Lost => ("卡已挂失", "card declared lost"),
            R::SignedOut => ("访客已签退", "visitor signed out"),
            R::Reissued => ("卡已补打，旧卡作废", "replaced by a reprint"),
            R::NotYetValid => ("尚未生效", "not valid yet"),
            R::Expired => ("已过期", "expired"),
            R::OutsideHours => ("不在允许的施工时段", "outside permitted hours"),
            R::Blackout => ("禁止施工日", "blackout date"),
            R::UnknownSchedule => ("门禁不认识该时段表", "schedule unknown to this gate"),
            R::WrongZone => ("无权通过此门", "not valid for this door"),
            R::AntiPassback => ("防回传：已在区域内", "anti-passback: already inside"),
            R::Lockdown => ("全区封锁中", "estate lockdown"),
            R::UntrustedClock => ("门禁时钟不可信，不能判断时段", "gate clock not trusted"),
            R::GoodsPermit => (
                "物品放行单，请门岗核对",
                "goods permit: for the guard to check",
            ),
        },
        E::Alarm { alarm } => match alarm {
            A::DoorHeldOpen => ("门长时间未关", "door held open"),
            A::DoorForced => ("门被强行打开", "door forced open"),
            A::UntrustedClock => ("门禁时钟不可信", "gate clock not trusted"),
            A::ClockRecovered => ("门禁时钟已恢复", "gate clock trusted again"),
            A::ScannerLost => ("扫码器断开", "scanner disconnected"),
            A::ScannerMisconfigured => ("扫码器设置丢失", "scanner lost its settings"),
            A::FireAlarm => ("火警：门已释放", "fire alarm: doors released"),
            A::FireAlarmCleared => ("火警解除", "fire alarm cleared"),
            A::ClockCorrected => ("门禁时钟已校正", "gate clock corrected"),
        },
    };
    Words::new(zh, en)
}

/// The words of a stored event: a journal entry, or a guard's answer to a permit read at the
/// gate (`goods_released`, `goods_stopped`).
fn stored_words(event_type: &str, event: Option<&GateEvent>) -> Words {
    match (event, event_type) {
        (Some(e), _) => event_words(e),
        (None, "goods_released") => Words::new("门岗已放行物品", "guard released the goods"),
        (None, "goods_stopped") => Words::new("门岗拦下物品", "guard stopped the goods"),
        (None, other) => Words::new(other, other),
    }
}

/// Where a client that names no resume point starts: just before the [`BACKLOG`] newest
/// events of `door` (every door when `None`).
pub fn backlog_start(conn: &Connection, door: Option<&str>) -> rusqlite::Result<i64> {
    let oldest: Option<i64> = conn
        .prepare_cached(
            "SELECT rowid FROM gate_events WHERE ?1 IS NULL OR device_id = ?1
             ORDER BY rowid DESC LIMIT 1 OFFSET ?2",
        )?
        .query_row(params![door, BACKLOG - 1], |r| r.get(0))
        .optional()?;
    Ok(oldest.map_or(0, |id| id - 1))
}

/// Whether a gate `door` exists.
pub fn is_door(conn: &Connection, door: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM devices WHERE id = ?1 AND kind = 'gate')")?
        .query_row([door], |r| r.get(0))
}

/// The events of `door` (every door when `None`) with `after < id <= upto`, oldest first, at
/// most [`BATCH`].
pub fn between(
    conn: &Connection,
    after: i64,
    upto: i64,
    door: Option<&str>,
) -> rusqlite::Result<Vec<MonitorEvent>> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.rowid AS id, e.at, e.clock_trusted, e.device_id,
                COALESCE(d.name, e.device_id) AS door, e.result, e.reason, e.event, e.card_id,
                e.kind, e.direction, COALESCE(w.name, v.name) AS holder
         FROM gate_events e
         LEFT JOIN devices d ON d.id = e.device_id
         LEFT JOIN cards c ON c.id = e.card_id AND e.kind IN ('worker', 'visitor')
         LEFT JOIN workers w ON w.id = c.worker_id
         LEFT JOIN visitors v ON v.id = c.visitor_id
         WHERE e.rowid > ?1 AND e.rowid <= ?2 AND (?3 IS NULL OR e.device_id = ?3)
         ORDER BY e.rowid LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![after, upto, door, BATCH], |r| {
        let json: String = r.get("event")?;
        let value: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        let event_type = value
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or_default()
            .to_owned();
        let event: Option<GateEvent> = serde_json::from_value(value).ok();
        let name: Option<String> = r.get("holder")?;
        Ok(MonitorEvent {
            id: r.get("id")?,
            at: instant(r, "at")?,
            clock_trusted: r.get("clock_trusted")?,
            door_id: r.get("device_id")?,
            door: r.get("door")?,
            result: r.get("result")?,
            reason: r.get("reason")?,
            words: stored_words(&event_type, event.as_ref()),
            alarm: matches!(event, Some(GateEvent::Alarm { .. })),
            event: event_type,
            card_id: r.get("card_id")?,
            kind: r.get("kind")?,
            who: name
                .filter(|n| !n.trim().is_empty())
                .map(|n| privacy::mask_name(&n)),
            direction: r.get("direction")?,
        })
    })?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_credential::api::gate::JournalEntry;
    use gatehouse_credential::{CardId, Kind};

    const EVERY_DENIAL: [DenyReason; 19] = [
        DenyReason::Unreadable,
        DenyReason::UnknownVersion,
        DenyReason::UnknownKey,
        DenyReason::BadSignature,
        DenyReason::Revoked,
        DenyReason::Returned,
        DenyReason::Lost,
        DenyReason::SignedOut,
        DenyReason::Reissued,
        DenyReason::NotYetValid,
        DenyReason::Expired,
        DenyReason::OutsideHours,
        DenyReason::Blackout,
        DenyReason::UnknownSchedule,
        DenyReason::WrongZone,
        DenyReason::AntiPassback,
        DenyReason::Lockdown,
        DenyReason::UntrustedClock,
        DenyReason::GoodsPermit,
    ];

    #[test]
    fn every_denial_has_its_own_words_in_each_language() {
        let mut zh = std::collections::HashSet::new();
        let mut en = std::collections::HashSet::new();
        for reason in EVERY_DENIAL {
            let w = event_words(&GateEvent::Denied { reason });
            assert!(
                w.zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{reason:?}: {w:?}"
            );
            assert!(w.en.is_ascii() && !w.en.contains('_'), "{reason:?}: {w:?}");
            assert!(zh.insert(w.zh.clone()), "{reason:?} shares its words");
            assert!(en.insert(w.en.clone()), "{reason:?} shares its words");
        }
    }

    fn store(conn: &Connection, device: &str, card: Option<u32>, event: GateEvent) {
        let entry = JournalEntry {
            id: uuid::Uuid::new_v4(),
            at: Utc::now(),
            clock_trusted: true,
            card_id: card.map(CardId),
            kind: card.map(|_| Kind::Worker),
            event,
            direction: None,
            area: None,
        };
        super::super::journal::store(conn, device, &[entry], Utc::now()).unwrap();
    }

    #[test]
    fn events_come_in_id_order_per_door_and_the_backlog_starts_before_the_newest() {
        let conn = crate::store::in_memory().unwrap();
        for (id, name) in [("g-a", "Lobby"), ("g-b", "Garage")] {
            conn.execute(
                "INSERT INTO devices (id, kind, name, api_key_hash, created_at, created_by)
                 VALUES (?1, 'gate', ?2, ?1, '2026-01-01T00:00:00.000000Z', 'admin')",
                params![id, name],
            )
            .unwrap();
        }
        assert_eq!(crate::db::last_event_id(&conn).unwrap(), 0);
        assert_eq!(backlog_start(&conn, None).unwrap(), 0);
        for i in 0..60 {
            let device = if i % 2 == 0 { "g-a" } else { "g-b" };
            store(
                &conn,
                device,
                Some(7),
                GateEvent::Denied {
                    reason: DenyReason::Expired,
                },
            );
        }
        store(
            &conn,
            "g-a",
            None,
            GateEvent::Alarm {
                alarm: AlarmKind::DoorForced,
            },
        );
        let top = crate::db::last_event_id(&conn).unwrap();
        assert_eq!(top, 61);
        let all = between(&conn, 0, top, None).unwrap();
        assert_eq!(all.len(), 61);
        assert!(all.windows(2).all(|w| w[0].id < w[1].id));
        let lobby = between(&conn, 0, top, Some("g-a")).unwrap();
        assert_eq!(lobby.len(), 31);
        assert!(lobby.iter().all(|e| e.door == "Lobby"));
        let last = lobby.last().unwrap();
        assert!(last.alarm);
        assert_eq!(last.words.en, "door forced open");
        assert_eq!(lobby[0].words.zh, "已过期");
        assert_eq!(lobby[0].result, "denied");
        assert_eq!(lobby[0].reason.as_deref(), Some("expired"));
        // Card 7 has no holder in this database: nobody to name.
        assert_eq!(lobby[0].who, None);
        assert_eq!(
            backlog_start(&conn, None).unwrap(),
            top - i64::from(BACKLOG)
        );
        assert_eq!(
            between(&conn, backlog_start(&conn, None).unwrap(), top, None)
                .unwrap()
                .len(),
            BACKLOG as usize
        );
        // Garage has 30 events: fewer than the backlog, so all of them.
        assert_eq!(backlog_start(&conn, Some("g-b")).unwrap(), 0);
        assert!(between(&conn, top, top, None).unwrap().is_empty());
    }
}

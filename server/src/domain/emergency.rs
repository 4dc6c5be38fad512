//! Emergencies: the evacuation the desk calls, and the fire alarms gates raise.
//!
//! An evacuation is a switch like lockdown, kept in `settings` with who started it and when,
//! audited, and pushed to gates as [`ChangeEvent::Evacuation`]. While it is on, every door
//! whose `fire_release` is set stands released, whatever lockdown says: evacuation outranks
//! lockdown. Starting an evacuation also starts a new roll call (see [`super::muster`]).

use super::alarms::{self, Alarm};
use super::settings;
use crate::audit;
use crate::auth::Actor;
use crate::changes;
use crate::db::{parse_ts, ts};
use chrono::{DateTime, Utc};
use gatehouse_credential::api::device::DeviceAlarmKind;
use gatehouse_credential::api::gate::ChangeEvent;
use rusqlite::Connection;
use serde::Serialize;

/// What a lockdown answer says while an evacuation holds the doors open.
pub const RELEASED_DOORS_STAY: &str = "an evacuation is on: every door whose fire_release is set \
     stays released; lockdown holds only the other doors until the evacuation ends";

/// The evacuation state as the desk sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Evacuation {
    /// Whether an evacuation is on.
    pub active: bool,
    /// When the current one started (absent when none is on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// Who started it, e.g. `desk:li`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_by: Option<String>,
}

/// Whether an evacuation is on.
pub fn evacuation_active(conn: &Connection) -> rusqlite::Result<bool> {
    settings::flag(conn, settings::EVACUATION)
}

/// When the last evacuation started, whether or not it is still on.
pub fn last_started(conn: &Connection) -> rusqlite::Result<Option<DateTime<Utc>>> {
    settings::get(conn, settings::EVACUATION_SINCE)?
        .as_deref()
        .map(parse_ts)
        .transpose()
}

/// The evacuation state.
pub fn evacuation(conn: &Connection) -> rusqlite::Result<Evacuation> {
    if !evacuation_active(conn)? {
        return Ok(Evacuation {
            active: false,
            since: None,
            started_by: None,
        });
    }
    Ok(Evacuation {
        active: true,
        since: last_started(conn)?,
        started_by: settings::get(conn, settings::EVACUATION_BY)?,
    })
}

/// Starts or ends the evacuation and tells the gates; audited. Returns the change's seq, or
/// none when it was already in that state (a second "start" changes nothing, so the roll call
/// it began is kept).
pub fn set_evacuation(
    tx: &Connection,
    actor: &Actor,
    active: bool,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<u64>> {
    if evacuation_active(tx)? == active {
        return Ok(None);
    }
    settings::set_flag(tx, settings::EVACUATION, active)?;
    if active {
        settings::set(tx, settings::EVACUATION_SINCE, &ts(now))?;
        settings::set(tx, settings::EVACUATION_BY, &actor.audit_name())?;
    }
    tracing::warn!(active, actor = %actor, "evacuation switched");
    audit::record(
        tx,
        actor,
        if active {
            "estate.evacuation.start"
        } else {
            "estate.evacuation.end"
        },
        "estate",
        serde_json::json!({ "active": active }),
        now,
    )?;
    changes::append(tx, &ChangeEvent::Evacuation { active }, now).map(Some)
}

/// A desk reset of latched fire releases that cannot be sent yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FireStillActive {
    /// The gates whose fire-alarm input is still in alarm, by name.
    pub gates: Vec<String>,
}

impl std::fmt::Display for FireStillActive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the fire alarm is still active at {}: reset the doors once the fire panel has              cleared it (火警未解除，火警控制器复位后才能恢复门禁)",
            self.gates.join(", ")
        )
    }
}

/// Tells every gate to end its latched fire release (a gate ends it only once its own alarm
/// input is inactive); audited. Refused while any gate reports its fire alarm active, so
/// that the desk does not relock doors during a fire. Returns the change's seq.
pub fn reset_fire_release(
    tx: &Connection,
    actor: &Actor,
    now: DateTime<Utc>,
) -> rusqlite::Result<Result<u64, FireStillActive>> {
    let gates: Vec<String> = alarms::open_of_kind(tx, DeviceAlarmKind::FireAlarm)?
        .into_iter()
        .filter(|a| a.cleared_at.is_none())
        .map(|a| a.device_name)
        .collect();
    if !gates.is_empty() {
        return Ok(Err(FireStillActive { gates }));
    }
    tracing::warn!(actor = %actor, "latched fire releases reset from the desk");
    audit::record(
        tx,
        actor,
        "estate.fire_release.reset",
        "estate",
        serde_json::json!({}),
        now,
    )?;
    changes::append(tx, &ChangeEvent::FireReset, now).map(Ok)
}

/// What the desk must see above everything else: the evacuation, and every fire alarm that
/// is active or not yet acknowledged.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EmergencyState {
    /// The evacuation.
    pub evacuation: Evacuation,
    /// Fire alarms from gates: active first, then cleared but not yet seen; newest first.
    pub fire_alarms: Vec<Alarm>,
    /// Whether the caller may end the evacuation (managers only).
    pub can_end_evacuation: bool,
}

/// The emergency state for `actor`.
pub fn state(conn: &Connection, actor: &Actor) -> rusqlite::Result<EmergencyState> {
    let mut fire_alarms = alarms::open_of_kind(conn, DeviceAlarmKind::FireAlarm)?;
    fire_alarms.sort_by_key(|a| a.cleared_at.is_some());
    Ok(EmergencyState {
        evacuation: evacuation(conn)?,
        fire_alarms,
        can_end_evacuation: matches!(actor, Actor::Manager(_)),
    })
}

/// What the muster answer tells a kiosk in its `Gatehouse-Emergency` header: `fire_alarm`
/// while a gate's fire alarm is active, else `evacuation` while one lasts, else nothing. The
/// kiosk prints its muster copy when one starts.
pub fn muster_signal(conn: &Connection) -> rusqlite::Result<Option<&'static str>> {
    let fire = alarms::open_of_kind(conn, DeviceAlarmKind::FireAlarm)?
        .iter()
        .any(|a| a.cleared_at.is_none());
    Ok(if fire {
        Some("fire_alarm")
    } else if evacuation_active(conn)? {
        Some("evacuation")
    } else {
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Role, Staff};

    #[test]
    fn evacuation_is_switched_once_remembered_and_pushed() {
        let conn = crate::store::in_memory().unwrap();
        let desk = Actor::Desk(Staff {
            id: 2,
            username: "li".into(),
            role: Role::Desk,
        });
        let now = Utc::now();
        assert!(!evacuation(&conn).unwrap().active);
        let seq = set_evacuation(&conn, &desk, true, now).unwrap();
        assert!(seq.is_some());
        assert_eq!(
            set_evacuation(&conn, &desk, true, now + chrono::Duration::minutes(1)).unwrap(),
            None,
            "a second start changes nothing"
        );
        let e = evacuation(&conn).unwrap();
        assert!(e.active);
        assert_eq!(e.since.map(ts), Some(ts(now)));
        assert_eq!(e.started_by.as_deref(), Some("desk:li"));
        let pushed = changes::since(&conn, 0).unwrap();
        assert_eq!(pushed.len(), 1);
        assert_eq!(pushed[0].event, ChangeEvent::Evacuation { active: true });

        set_evacuation(&conn, &desk, false, now).unwrap();
        assert_eq!(
            evacuation(&conn).unwrap(),
            Evacuation {
                active: false,
                since: None,
                started_by: None
            }
        );
        assert_eq!(
            last_started(&conn).unwrap().map(ts),
            Some(ts(now)),
            "the last start is kept for the roll call"
        );
    }

    #[test]
    fn a_fire_reset_is_refused_while_a_gate_is_in_alarm_and_pushed_after() {
        let conn = crate::store::in_memory().unwrap();
        conn.execute(
            "INSERT INTO devices (id, kind, name, created_at, created_by)
             VALUES ('gate-1', 'gate', 'Lobby gate', '2026-12-03T00:00:00Z', 'test')",
            [],
        )
        .unwrap();
        let desk = Actor::Desk(Staff {
            id: 2,
            username: "li".into(),
            role: Role::Desk,
        });
        let gate = Actor::Gate(crate::auth::Device {
            id: "gate-1".into(),
            name: "Lobby gate".into(),
        });
        let now = Utc::now();
        let fire = |active| gatehouse_credential::api::device::AlarmReport {
            kind: DeviceAlarmKind::FireAlarm,
            active,
            detail: None,
        };
        alarms::report(&conn, &gate, &fire(true), now).unwrap();
        let refused = reset_fire_release(&conn, &desk, now).unwrap().unwrap_err();
        assert_eq!(refused.gates, vec!["Lobby gate".to_owned()]);
        assert!(refused.to_string().contains("still active at Lobby gate"));
        assert!(
            changes::since(&conn, 0).unwrap().is_empty(),
            "nothing pushed"
        );

        alarms::report(&conn, &gate, &fire(false), now).unwrap();
        let seq = reset_fire_release(&conn, &desk, now).unwrap().unwrap();
        let pushed = changes::since(&conn, 0).unwrap();
        assert_eq!(pushed.len(), 1);
        assert_eq!(
            (pushed[0].seq, &pushed[0].event),
            (seq, &ChangeEvent::FireReset)
        );
    }
}

//! The muster list (roll call): everyone who may be inside right now, and who has been found.
//!
//! - Visitors: every pass still signed in (not signed out, whether or not it has ended: an
//!   overstaying visitor may well be inside until the overstay sweep signs them out).
//! - Workers: every worker card admitted by a door today (local day), unless its last passage
//!   today was an exit through an entrance door's exit reader, or the card was handed back at
//!   the desk after it. Where no exit reader exists, "seen today" is all there is, so the list
//!   errs on the side of counting someone who already left.
//! - Ticks: a person ticked off as found stays found for the current roll call, which begins
//!   when the current (or last) evacuation started, and otherwise at local midnight. Starting
//!   an evacuation therefore begins a fresh roll call; earlier ticks stay in the table and the
//!   audit log.

use super::desk_error::{DeskError, DeskResult};
use super::{emergency, privacy, settings};
use crate::audit;
use crate::auth::Actor;
use crate::db::{instant, opt_instant, parse_ts, ts};
use chrono::{DateTime, Utc};
use gatehouse_credential::api::gate::Direction;
use gatehouse_credential::api::muster::{MusterCount, MusterKind, MusterList, MusterPerson};
use gatehouse_credential::{Zone, ZoneClass};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::collections::BTreeMap;

/// The stored name of a muster kind.
pub const fn kind_name(kind: MusterKind) -> &'static str {
    match kind {
        MusterKind::Visitor => "visitor",
        MusterKind::Worker => "worker",
    }
}

/// A card's latest passage through a door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passage {
    /// The door's (gate device's) name.
    pub door: String,
    /// When the door admitted the card.
    pub at: DateTime<Utc>,
    /// Which reader of an entry/exit pair, if the door has two.
    pub direction: Option<Direction>,
    /// Whether the door is a building entrance.
    pub entrance: bool,
}

/// Whether a worker whose latest passage today is `last` has left the building: they went out
/// through an entrance's exit reader, or handed their card back at the desk afterwards.
pub fn has_left(last: &Passage, card_returned_at: Option<DateTime<Utc>>) -> bool {
    let exited = last.entrance && last.direction == Some(Direction::Exit);
    let returned_after = card_returned_at.is_some_and(|t| t >= last.at);
    exited || returned_after
}

/// When the current roll call began: the running evacuation's start, else the later of the
/// last evacuation's start and today's local midnight.
pub fn roll_call_start(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<DateTime<Utc>> {
    let last = emergency::last_started(conn)?;
    if emergency::evacuation_active(conn)? {
        if let Some(start) = last {
            return Ok(start);
        }
    }
    let tz = settings::time_zone(conn)?;
    let midnight = settings::local_midnight(tz, settings::local_date(tz, now));
    Ok(last.map_or(midnight, |l| l.max(midnight)))
}

fn last_passage(
    conn: &Connection,
    card_id: u32,
    from: DateTime<Utc>,
) -> rusqlite::Result<Option<Passage>> {
    conn.prepare_cached(
        "SELECT COALESCE(d.name, e.device_id) AS door, e.at, e.direction, d.zone
         FROM gate_events e LEFT JOIN devices d ON d.id = e.device_id
         WHERE e.card_id = ?1 AND e.result = 'admitted' AND e.at >= ?2
         ORDER BY e.at DESC LIMIT 1",
    )?
    .query_row(params![card_id, ts(from)], |r| {
        let direction: Option<String> = r.get("direction")?;
        let zone: Option<String> = r.get("zone")?;
        let zone: Option<Zone> = zone.and_then(|z| serde_json::from_str(&z).ok());
        Ok(Passage {
            door: r.get("door")?,
            at: instant(r, "at")?,
            direction: direction
                .and_then(|d| serde_json::from_value(serde_json::Value::String(d)).ok()),
            entrance: zone.is_some_and(|z| z.class == ZoneClass::Entrance),
        })
    })
    .optional()
}

/// Who was ticked off in a roll call: (kind, card) → (when, by whom).
type Ticks = BTreeMap<(String, u32), (DateTime<Utc>, String)>;

/// The ticks of the roll call that began at `start`, the first tick of each person.
fn ticks(conn: &Connection, start: DateTime<Utc>) -> rusqlite::Result<Ticks> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, card_id, found_at, found_by FROM muster_found
         WHERE found_at >= ?1 ORDER BY found_at DESC",
    )?;
    let mut out = BTreeMap::new();
    let rows = stmt.query_map(params![ts(start)], |r| {
        Ok((
            r.get::<_, String>("kind")?,
            r.get::<_, u32>("card_id")?,
            instant(r, "found_at")?,
            r.get::<_, String>("found_by")?,
        ))
    })?;
    for row in rows {
        let (kind, card, at, by) = row?;
        // Newest first, so the first tick wins.
        out.insert((kind, card), (at, by));
    }
    Ok(out)
}

fn opt_i32(v: Option<i64>) -> Option<i32> {
    v.and_then(|v| i32::try_from(v).ok())
}

/// A person from a row of `card_id, name, unit, building, floor, since`, with `host` as shown.
fn person(
    r: &rusqlite::Row<'_>,
    kind: MusterKind,
    host: Option<String>,
) -> rusqlite::Result<MusterPerson> {
    let name: Option<String> = r.get("name")?;
    Ok(MusterPerson {
        kind,
        card_id: r.get("card_id")?,
        name_masked: name.map(|n| privacy::mask_name(&n)).unwrap_or_default(),
        unit: Some(r.get("unit")?),
        building: r.get("building")?,
        floor: opt_i32(r.get("floor")?),
        host,
        since: instant(r, "since")?,
        last_door: None,
        last_seen_at: None,
        found_at: None,
        found_by: None,
    })
}

/// Everyone who may be inside at `now`, visitors first, each group by building and floor.
pub fn list(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<MusterList> {
    let tz = settings::time_zone(conn)?;
    let today = settings::local_midnight(tz, settings::local_date(tz, now));
    let mut people = Vec::new();

    let mut stmt = conn.prepare_cached(
        "SELECT c.id AS card_id, v.name, u.label AS unit, b.name AS building, u.floor, v.host_name,
                v.registered_at AS since
         FROM cards c JOIN visitors v ON v.id = c.visitor_id JOIN units u ON u.id = v.unit_id
         LEFT JOIN buildings b ON b.number = u.building
         WHERE c.kind = 'visitor' AND c.state = 'active'
         ORDER BY u.building, u.floor, c.id",
    )?;
    let visitors = stmt
        .query_map([], |r| {
            let host: Option<String> = r.get("host_name")?;
            person(r, MusterKind::Visitor, host.map(|h| privacy::mask_name(&h)))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for mut v in visitors {
        // A pass number belongs to one visit, so any passage of it counts (even one a gate
        // with a clock running slightly behind stamped before the registration).
        if let Some(p) = last_passage(conn, v.card_id, DateTime::UNIX_EPOCH)? {
            v.last_door = Some(p.door);
            v.last_seen_at = Some(p.at);
        }
        people.push(v);
    }

    let mut stmt = conn.prepare_cached(
        "SELECT c.id AS card_id, w.name, u.label AS unit, b.name AS building, u.floor, r.contractor,
                MIN(e.at) AS since, CASE WHEN c.state = 'returned' THEN c.ended_at END AS returned_at
         FROM gate_events e JOIN cards c ON c.id = e.card_id
         JOIN workers w ON w.id = c.worker_id JOIN renovations r ON r.id = w.renovation_id
         JOIN units u ON u.id = r.unit_id LEFT JOIN buildings b ON b.number = u.building
         WHERE e.result = 'admitted' AND e.at >= ?1 AND c.kind = 'worker'
         GROUP BY c.id ORDER BY u.building, u.floor, c.id",
    )?;
    let workers = stmt
        .query_map(params![ts(today)], |r| {
            Ok((
                person(r, MusterKind::Worker, r.get("contractor")?)?,
                opt_instant(r, "returned_at")?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (mut w, returned) in workers {
        let Some(last) = last_passage(conn, w.card_id, today)? else {
            continue;
        };
        if has_left(&last, returned) {
            continue;
        }
        w.last_door = Some(last.door);
        w.last_seen_at = Some(last.at);
        people.push(w);
    }

    let found = ticks(conn, roll_call_start(conn, now)?)?;
    let mut counts: BTreeMap<(Option<String>, Option<i32>), u32> = BTreeMap::new();
    for p in &mut people {
        if let Some((at, by)) = found.get(&(kind_name(p.kind).to_owned(), p.card_id)) {
            p.found_at = Some(*at);
            p.found_by = Some(by.clone());
        }
        *counts.entry((p.building.clone(), p.floor)).or_default() += 1;
    }
    Ok(MusterList {
        generated_at: now,
        time_zone: tz.name().to_owned(),
        people,
        counts: counts
            .into_iter()
            .map(|((building, floor), count)| MusterCount {
                building,
                floor,
                count,
            })
            .collect(),
    })
}

/// A tick: who found whom, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Tick {
    /// Visitor or worker.
    pub kind: MusterKind,
    /// The card or pass number.
    pub card_id: u32,
    /// When they were ticked off (the first tick of this roll call).
    pub found_at: DateTime<Utc>,
    /// Who ticked them off.
    pub found_by: String,
}

/// Ticks a person off as found in the current roll call; a second tick keeps the first.
pub fn found(
    tx: &Connection,
    actor: &Actor,
    kind: MusterKind,
    card_id: u32,
    now: DateTime<Utc>,
) -> DeskResult<Tick> {
    let Some(staff) = actor.staff() else {
        return Err(DeskError::invalid(
            "forbidden",
            "only staff tick people off",
        ));
    };
    let stored: Option<String> = tx
        .prepare_cached("SELECT kind FROM cards WHERE id = ?1")?
        .query_row(params![card_id], |r| r.get(0))
        .optional()?;
    if stored.as_deref() != Some(kind_name(kind)) {
        return Err(DeskError::NotFound(format!(
            "no {} card {card_id}",
            kind_name(kind)
        )));
    }
    let start = roll_call_start(tx, now)?;
    if let Some((found_at, found_by)) =
        ticks(tx, start)?.remove(&(kind_name(kind).to_owned(), card_id))
    {
        return Ok(Tick {
            kind,
            card_id,
            found_at,
            found_by,
        });
    }
    tx.prepare_cached(
        "INSERT INTO muster_found (kind, card_id, found_at, found_by) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![kind_name(kind), card_id, ts(now), staff.username])?;
    audit::record(
        tx,
        actor,
        "muster.found",
        &format!("card:{card_id}"),
        serde_json::json!({ "kind": kind_name(kind) }),
        now,
    )?;
    Ok(Tick {
        kind,
        card_id,
        found_at: parse_ts(&ts(now))?,
        found_by: staff.username.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(direction: Option<Direction>, entrance: bool) -> Passage {
        Passage {
            door: "B2 lobby".into(),
            at: "2026-12-03T01:00:00Z".parse().unwrap(),
            direction,
            entrance,
        }
    }

    #[test]
    fn only_an_exit_through_an_entrance_or_a_card_handed_back_later_means_gone() {
        let later: DateTime<Utc> = "2026-12-03T02:00:00Z".parse().unwrap();
        let earlier: DateTime<Utc> = "2026-12-03T00:30:00Z".parse().unwrap();
        assert!(has_left(&passage(Some(Direction::Exit), true), None));
        assert!(!has_left(&passage(Some(Direction::Entry), true), None));
        // A door with one reader cannot tell in from out: seen today counts as inside.
        assert!(!has_left(&passage(None, true), None));
        // Leaving a floor's lane is not leaving the building.
        assert!(!has_left(&passage(Some(Direction::Exit), false), None));
        assert!(has_left(&passage(None, false), Some(later)));
        assert!(!has_left(&passage(None, false), Some(earlier)));
    }
}

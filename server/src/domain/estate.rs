//! The estate's layout and calendar: buildings (with their floor range), units, zones,
//! schedules, blackout dates and the time zone. Calendar changes tell gates to refetch their
//! snapshot through the change log.

use super::settings;
use crate::audit;
use crate::auth::Actor;
use crate::changes;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use gatehouse_credential::api::gate::ChangeEvent;
use gatehouse_credential::{Schedule, ScheduleId, WorkCalendar, Zone};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// Why an estate change was refused.
#[derive(Debug, thiserror::Error)]
pub enum EstateError {
    /// A value is out of range or malformed.
    #[error("{0}")]
    Invalid(String),
    /// Something it refers to does not exist.
    #[error("{0}")]
    NotFound(String),
    /// It exists already.
    #[error("{0}")]
    Exists(String),
    /// A date outside its window.
    #[error(transparent)]
    OutOfRange(#[from] super::bounds::OutOfRange),
    /// What is being added names a building that does not exist.
    #[error("there is no building {0}; add it first")]
    UnknownBuilding(u8),
    /// Other records still refer to it.
    #[error("{0}")]
    InUse(String),
    /// Units, renovations, zones or gates still name the building.
    #[error(
        "building {number} still has {} unit(s), {} renovation(s), {} zone(s) and {} gate(s); move or remove them first",
        uses.units, uses.renovations, uses.zones, uses.gates
    )]
    BuildingInUse {
        /// The building.
        number: u8,
        /// What names it.
        uses: BuildingUses,
    },
    /// A new floor range would leave out floors that units, zones or gates are on.
    #[error(
        "building {number} has units, zones or gates on floors {lowest} to {highest}; the floor range must include them"
    )]
    FloorsInUse {
        /// The building.
        number: u8,
        /// The lowest floor in use.
        lowest: i8,
        /// The highest floor in use.
        highest: i8,
    },
    /// Database failure.
    #[error(transparent)]
    Db(#[from] rusqlite::Error),
}

/// A building.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Building {
    /// Estate number 0–254 (what credentials carry).
    pub number: u8,
    /// Name, e.g. "Building 2".
    pub name: String,
    /// Lowest floor (negative for basements).
    pub floor_lo: i8,
    /// Highest floor.
    pub floor_hi: i8,
}

/// A building's name and floor range as edited; its number stays (credentials carry it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BuildingEdit {
    /// Name, e.g. "Building 2".
    pub name: String,
    /// Lowest floor (negative for basements).
    pub floor_lo: i8,
    /// Highest floor.
    pub floor_hi: i8,
}

/// What still names a building.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BuildingUses {
    /// Units in it.
    pub units: u32,
    /// Renovations of its units.
    pub renovations: u32,
    /// Named zones in it.
    pub zones: u32,
    /// Gates in service whose zone is in it.
    pub gates: u32,
}

impl BuildingUses {
    /// Whether nothing names the building.
    pub fn is_none(&self) -> bool {
        *self == BuildingUses::default()
    }
}

/// A unit (flat).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Unit {
    /// Database id.
    #[serde(default)]
    pub id: i64,
    /// Label, e.g. "2-1203".
    pub label: String,
    /// Building number.
    pub building: u8,
    /// Floor.
    pub floor: i8,
}

/// A named door, gate or lift floor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NamedZone {
    /// Database id.
    #[serde(default)]
    pub id: i64,
    /// Name, e.g. "B2 lobby turnstile".
    pub name: String,
    /// What it is.
    #[serde(flatten)]
    pub zone: Zone,
}

/// A blackout date (no scheduled credential works that local day).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Blackout {
    /// The local date.
    pub date: NaiveDate,
    /// Why, e.g. "National Day".
    #[serde(default)]
    pub note: String,
}

/// Everything about the estate's layout and calendar.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Estate {
    /// IANA time zone.
    pub time_zone: String,
    /// Buildings by number.
    pub buildings: Vec<Building>,
    /// Units by label.
    pub units: Vec<Unit>,
    /// Zones by name.
    pub zones: Vec<NamedZone>,
    /// Schedules by id.
    pub schedules: Vec<Schedule>,
    /// Blackout dates in order.
    pub blackout_dates: Vec<Blackout>,
    /// Whether lockdown is on.
    pub lockdown: bool,
}

/// Schedule 1, "renovation hours": Mon–Fri 08:00–12:00 and 14:00–18:00 local.
pub fn default_schedule() -> Schedule {
    Schedule::renovation_hours()
}

/// Writes the first-start defaults (time zone, schedule 1) where nothing is set yet.
pub fn seed_defaults(tx: &Connection) -> rusqlite::Result<()> {
    if settings::get(tx, settings::TIME_ZONE)?.is_none() {
        settings::set(tx, settings::TIME_ZONE, chrono_tz::Asia::Shanghai.name())?;
    }
    let any: bool = tx.query_row("SELECT EXISTS(SELECT 1 FROM schedules)", [], |r| r.get(0))?;
    if !any {
        store_schedule(tx, &default_schedule())?;
    }
    Ok(())
}

/// The estate's time zone, read where every setting is read.
pub use super::settings::time_zone;

/// Whether lockdown is on.
pub fn lockdown(conn: &Connection) -> rusqlite::Result<bool> {
    settings::flag(conn, settings::LOCKDOWN)
}

/// Switches lockdown and tells the gates. Returns the change's seq (none if unchanged).
pub fn set_lockdown(
    tx: &Connection,
    actor: &Actor,
    active: bool,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<u64>> {
    if lockdown(tx)? == active {
        return Ok(None);
    }
    settings::set_flag(tx, settings::LOCKDOWN, active)?;
    audit::record(
        tx,
        actor,
        "estate.lockdown",
        "estate",
        serde_json::json!({ "active": active }),
        now,
    )?;
    changes::append(tx, &ChangeEvent::Lockdown { active }, now).map(Some)
}

/// Time zone, schedules and blackout dates, as gates receive them.
pub fn calendar(conn: &Connection) -> rusqlite::Result<WorkCalendar> {
    Ok(WorkCalendar {
        time_zone: time_zone(conn)?,
        schedules: schedules(conn)?,
        blackout_dates: blackouts(conn)?.into_iter().map(|b| b.date).collect(),
    })
}

fn json_err(e: serde_json::Error) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
}

fn store_schedule(tx: &Connection, s: &Schedule) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO schedules (id, name, windows) VALUES (?1, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, windows = excluded.windows",
        params![
            s.id.get(),
            s.name,
            serde_json::to_string(&s.windows).map_err(json_err)?
        ],
    )?;
    Ok(())
}

/// Every schedule by id.
pub fn schedules(conn: &Connection) -> rusqlite::Result<Vec<Schedule>> {
    let mut stmt = conn.prepare_cached("SELECT id, name, windows FROM schedules ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        let id: u8 = r.get("id")?;
        let windows: String = r.get("windows")?;
        Ok(Schedule {
            id: ScheduleId::new(id)
                .ok_or(rusqlite::Error::IntegralValueOutOfRange(0, i64::from(id)))?,
            name: r.get("name")?,
            windows: serde_json::from_str(&windows).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    2,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })?,
        })
    })?;
    rows.collect()
}

/// Every blackout date in order.
pub fn blackouts(conn: &Connection) -> rusqlite::Result<Vec<Blackout>> {
    let mut stmt = conn.prepare_cached("SELECT date, note FROM blackout_dates ORDER BY date")?;
    let rows = stmt.query_map([], |r| {
        Ok(Blackout {
            date: crate::db::date(r, "date")?,
            note: r.get("note")?,
        })
    })?;
    rows.collect()
}

fn snapshot_changed(tx: &Connection, now: DateTime<Utc>) -> rusqlite::Result<u64> {
    changes::append(tx, &ChangeEvent::SnapshotChanged, now)
}

/// Creates or replaces a schedule.
pub fn put_schedule(
    tx: &Connection,
    actor: &Actor,
    s: &Schedule,
    now: DateTime<Utc>,
) -> Result<(), EstateError> {
    s.validate().map_err(EstateError::Invalid)?;
    if s.name.trim().is_empty() {
        return Err(EstateError::Invalid("a schedule needs a name".into()));
    }
    store_schedule(tx, s)?;
    audit::record(
        tx,
        actor,
        "schedule.put",
        &format!("schedule:{}", s.id),
        serde_json::json!({ "name": s.name }),
        now,
    )?;
    snapshot_changed(tx, now)?;
    Ok(())
}

/// Adds a blackout date.
pub fn add_blackout(
    tx: &Connection,
    actor: &Actor,
    b: &Blackout,
    now: DateTime<Utc>,
) -> Result<(), EstateError> {
    // Past dates are kept for the record; the far past and far future are typing mistakes.
    let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN);
    let latest = super::bounds::days_after(now.date_naive(), 5 * 366);
    super::bounds::date("date", b.date, earliest, latest, "")?;
    let n = tx.execute(
        "INSERT OR IGNORE INTO blackout_dates (date, note) VALUES (?1, ?2)",
        params![b.date.to_string(), b.note],
    )?;
    if n == 0 {
        return Err(EstateError::Exists(format!(
            "{} is already a blackout date",
            b.date
        )));
    }
    audit::record(
        tx,
        actor,
        "blackout.add",
        &format!("date:{}", b.date),
        serde_json::json!({ "note": b.note }),
        now,
    )?;
    snapshot_changed(tx, now)?;
    Ok(())
}

/// Removes a blackout date.
pub fn remove_blackout(
    tx: &Connection,
    actor: &Actor,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), EstateError> {
    let n = tx.execute(
        "DELETE FROM blackout_dates WHERE date = ?1",
        params![date.to_string()],
    )?;
    if n == 0 {
        return Err(EstateError::NotFound(format!(
            "{date} is not a blackout date"
        )));
    }
    audit::record(
        tx,
        actor,
        "blackout.remove",
        &format!("date:{date}"),
        serde_json::json!({}),
        now,
    )?;
    snapshot_changed(tx, now)?;
    Ok(())
}

/// Sets the estate's time zone (an IANA name such as "Asia/Shanghai").
pub fn set_time_zone(
    tx: &Connection,
    actor: &Actor,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Tz, EstateError> {
    let tz: Tz = name.parse().map_err(|_| {
        EstateError::Invalid(format!(
            "`{name}` is not an IANA time zone such as Asia/Shanghai"
        ))
    })?;
    settings::set(tx, settings::TIME_ZONE, tz.name())?;
    audit::record(
        tx,
        actor,
        "estate.time_zone",
        "estate",
        serde_json::json!({ "time_zone": tz.name() }),
        now,
    )?;
    snapshot_changed(tx, now)?;
    Ok(tz)
}

/// Adds a building.
pub fn add_building(
    tx: &Connection,
    actor: &Actor,
    b: &Building,
    now: DateTime<Utc>,
) -> Result<(), EstateError> {
    if b.number == 255 {
        return Err(EstateError::Invalid(
            "building numbers are 0–254 (255 means every building)".into(),
        ));
    }
    check_building(&b.name, b.floor_lo, b.floor_hi)?;
    let n = tx.execute(
        "INSERT OR IGNORE INTO buildings (number, name, floor_lo, floor_hi) VALUES (?1, ?2, ?3, ?4)",
        params![b.number, b.name.trim(), b.floor_lo, b.floor_hi],
    )?;
    if n == 0 {
        return Err(EstateError::Exists(format!(
            "building {} exists already",
            b.number
        )));
    }
    audit::record(
        tx,
        actor,
        "building.add",
        &format!("building:{}", b.number),
        serde_json::json!(b),
        now,
    )?;
    Ok(())
}

/// A building from a row of `number, name, floor_lo, floor_hi`.
fn building_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Building> {
    Ok(Building {
        number: r.get("number")?,
        name: r.get("name")?,
        floor_lo: r.get("floor_lo")?,
        floor_hi: r.get("floor_hi")?,
    })
}

fn building(conn: &Connection, number: u8) -> Result<Building, EstateError> {
    conn.query_row(
        "SELECT number, name, floor_lo, floor_hi FROM buildings WHERE number = ?1",
        params![number],
        building_from_row,
    )
    .optional()?
    .ok_or_else(|| EstateError::NotFound(format!("there is no building {number}; add it first")))
}

/// Building `number`, which something being added names: 422 if there is none.
fn existing_building(conn: &Connection, number: u8) -> Result<Building, EstateError> {
    match building(conn, number) {
        Err(EstateError::NotFound(_)) => Err(EstateError::UnknownBuilding(number)),
        other => other,
    }
}

/// Whether any building is recorded.
pub fn has_buildings(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row("SELECT EXISTS(SELECT 1 FROM buildings)", [], |r| r.get(0))
}

/// Whether building `number` exists.
pub fn building_exists(conn: &Connection, number: u8) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM buildings WHERE number = ?1)",
        [number],
        |r| r.get(0),
    )
}

/// Adds a unit on an existing building's floor; returns its id.
pub fn add_unit(
    tx: &Connection,
    actor: &Actor,
    u: &Unit,
    now: DateTime<Utc>,
) -> Result<i64, EstateError> {
    let label = u.label.trim();
    if label.is_empty() || label.chars().count() > 32 {
        return Err(EstateError::Invalid(
            "a unit label is 1–32 characters, e.g. 2-1203".into(),
        ));
    }
    let b = building(tx, u.building)?;
    if !(b.floor_lo..=b.floor_hi).contains(&u.floor) {
        return Err(EstateError::Invalid(format!(
            "building {} has floors {} to {}; {} is not one of them",
            b.number, b.floor_lo, b.floor_hi, u.floor
        )));
    }
    let n = tx.execute(
        "INSERT OR IGNORE INTO units (label, building, floor) VALUES (?1, ?2, ?3)",
        params![label, u.building, u.floor],
    )?;
    if n == 0 {
        return Err(EstateError::Exists(format!("unit {label} exists already")));
    }
    let id = tx.last_insert_rowid();
    audit::record(
        tx,
        actor,
        "unit.add",
        &format!("unit:{id}"),
        serde_json::json!({ "label": label }),
        now,
    )?;
    Ok(id)
}

/// Adds a named zone in an existing building; returns its id.
pub fn add_zone(
    tx: &Connection,
    actor: &Actor,
    z: &NamedZone,
    now: DateTime<Utc>,
) -> Result<i64, EstateError> {
    let b = existing_building(tx, z.zone.building)?;
    match (z.zone.class.is_per_floor(), z.zone.floor) {
        (true, None) => return Err(EstateError::Invalid("a `floor` zone needs a floor".into())),
        (false, Some(_)) => {
            return Err(EstateError::Invalid(
                "only `floor` zones have a floor".into(),
            ));
        }
        (true, Some(f)) if !(b.floor_lo..=b.floor_hi).contains(&f) => {
            return Err(EstateError::Invalid(format!(
                "building {} has no floor {f}",
                b.number
            )));
        }
        _ => {}
    }
    tx.execute(
        "INSERT INTO zones (name, building, class, floor) VALUES (?1, ?2, ?3, ?4)",
        params![
            z.name.trim(),
            z.zone.building,
            z.zone.class.name(),
            z.zone.floor
        ],
    )?;
    let id = tx.last_insert_rowid();
    audit::record(
        tx,
        actor,
        "zone.add",
        &format!("zone:{id}"),
        serde_json::json!({ "name": z.name }),
        now,
    )?;
    Ok(id)
}

/// Removes unit `id`, unless a renovation, visitor or permit refers to it.
pub fn remove_unit(
    tx: &Connection,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), EstateError> {
    let label: String = tx
        .query_row("SELECT label FROM units WHERE id = ?1", params![id], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or_else(|| EstateError::NotFound(format!("there is no unit {id}")))?;
    match tx.execute("DELETE FROM units WHERE id = ?1", params![id]) {
        Ok(_) => {}
        // The foreign keys of renovations, visitors and permits keep the unit.
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            return Err(EstateError::InUse(format!(
                "unit {label} has renovations or visitors on record and stays"
            )));
        }
        Err(e) => return Err(e.into()),
    }
    audit::record(
        tx,
        actor,
        "unit.remove",
        &format!("unit:{id}"),
        serde_json::json!({ "label": label }),
        now,
    )?;
    Ok(())
}

/// Removes the named zone `id` (only its name: gates keep the door they are configured for).
pub fn remove_zone(
    tx: &Connection,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), EstateError> {
    let name: String = tx
        .query_row("SELECT name FROM zones WHERE id = ?1", params![id], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or_else(|| EstateError::NotFound(format!("there is no zone {id}")))?;
    tx.execute("DELETE FROM zones WHERE id = ?1", params![id])?;
    audit::record(
        tx,
        actor,
        "zone.remove",
        &format!("zone:{id}"),
        serde_json::json!({ "name": name }),
        now,
    )?;
    Ok(())
}

/// Checks a building's name and floor range.
fn check_building(name: &str, floor_lo: i8, floor_hi: i8) -> Result<(), EstateError> {
    if floor_lo > floor_hi {
        return Err(EstateError::Invalid(
            "floor_lo must not be above floor_hi".into(),
        ));
    }
    if name.trim().is_empty() {
        return Err(EstateError::Invalid("a building needs a name".into()));
    }
    Ok(())
}

/// Gates in service whose zone is in building `number`, as SQL over `devices`.
const GATES_IN: &str = "FROM devices WHERE kind = 'gate' AND revoked_at IS NULL
     AND zone IS NOT NULL AND json_extract(zone, '$.building') = ?1";

/// Renames building `number` and sets its floor range, which must still include every floor
/// its units, zones and gates are on.
pub fn edit_building(
    tx: &Connection,
    actor: &Actor,
    number: u8,
    edit: &BuildingEdit,
    now: DateTime<Utc>,
) -> Result<Building, EstateError> {
    check_building(&edit.name, edit.floor_lo, edit.floor_hi)?;
    let before = building(tx, number)?;
    let (lowest, highest): (Option<i8>, Option<i8>) = tx.query_row(
        &format!(
            "SELECT MIN(floor) AS lowest, MAX(floor) AS highest FROM (
                 SELECT floor FROM units WHERE building = ?1
                 UNION ALL SELECT floor FROM zones WHERE building = ?1 AND floor IS NOT NULL
                 UNION ALL SELECT json_extract(zone, '$.floor') AS floor {GATES_IN}
                     AND json_extract(zone, '$.floor') IS NOT NULL)"
        ),
        params![number],
        |r| Ok((r.get("lowest")?, r.get("highest")?)),
    )?;
    if let (Some(lowest), Some(highest)) = (lowest, highest)
        && (lowest < edit.floor_lo || highest > edit.floor_hi)
    {
        return Err(EstateError::FloorsInUse {
            number,
            lowest,
            highest,
        });
    }
    tx.execute(
        "UPDATE buildings SET name = ?2, floor_lo = ?3, floor_hi = ?4 WHERE number = ?1",
        params![number, edit.name.trim(), edit.floor_lo, edit.floor_hi],
    )?;
    let after = Building {
        number,
        name: edit.name.trim().to_owned(),
        floor_lo: edit.floor_lo,
        floor_hi: edit.floor_hi,
    };
    audit::record(
        tx,
        actor,
        "building.edit",
        &format!("building:{number}"),
        serde_json::json!({ "before": before, "after": after }),
        now,
    )?;
    Ok(after)
}

/// What still names building `number`.
pub fn building_uses(conn: &Connection, number: u8) -> rusqlite::Result<BuildingUses> {
    let count = |sql: &str| conn.query_row(sql, params![number], |r| r.get::<_, u32>(0));
    Ok(BuildingUses {
        units: count("SELECT COUNT(*) FROM units WHERE building = ?1")?,
        renovations: count(
            "SELECT COUNT(*) FROM renovations JOIN units ON units.id = renovations.unit_id
             WHERE units.building = ?1",
        )?,
        zones: count("SELECT COUNT(*) FROM zones WHERE building = ?1")?,
        gates: count(&format!("SELECT COUNT(*) {GATES_IN}"))?,
    })
}

/// Removes building `number`, unless units, renovations, zones or gates still name it.
pub fn remove_building(
    tx: &Connection,
    actor: &Actor,
    number: u8,
    now: DateTime<Utc>,
) -> Result<(), EstateError> {
    let b = building(tx, number)?;
    let uses = building_uses(tx, number)?;
    if !uses.is_none() {
        return Err(EstateError::BuildingInUse { number, uses });
    }
    tx.execute("DELETE FROM buildings WHERE number = ?1", params![number])?;
    audit::record(
        tx,
        actor,
        "building.remove",
        &format!("building:{number}"),
        serde_json::json!(b),
        now,
    )?;
    Ok(())
}

/// The whole layout and calendar.
pub fn estate(conn: &Connection) -> rusqlite::Result<Estate> {
    let mut stmt =
        conn.prepare("SELECT number, name, floor_lo, floor_hi FROM buildings ORDER BY number")?;
    let buildings = stmt
        .query_map([], building_from_row)?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare("SELECT id, label, building, floor FROM units ORDER BY label")?;
    let units = stmt
        .query_map([], |r| {
            Ok(Unit {
                id: r.get("id")?,
                label: r.get("label")?,
                building: r.get("building")?,
                floor: r.get("floor")?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt =
        conn.prepare("SELECT id, name, building, class, floor FROM zones ORDER BY name")?;
    let zones = stmt
        .query_map([], |r| {
            let class: String = r.get("class")?;
            let class = serde_json::from_value(serde_json::Value::String(class)).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    3,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })?;
            Ok(NamedZone {
                id: r.get("id")?,
                name: r.get("name")?,
                zone: Zone {
                    building: r.get("building")?,
                    class,
                    floor: r.get("floor")?,
                },
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Estate {
        time_zone: time_zone(conn)?.name().to_owned(),
        buildings,
        units,
        zones,
        schedules: schedules(conn)?,
        blackout_dates: blackouts(conn)?,
        lockdown: lockdown(conn)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_shanghai_and_renovation_hours() {
        let conn = crate::store::in_memory().unwrap();
        seed_defaults(&conn).unwrap();
        let cal = calendar(&conn).unwrap();
        assert_eq!(cal.time_zone, chrono_tz::Asia::Shanghai);
        assert_eq!(cal.schedules, vec![default_schedule()]);
        // Friday 09:00 Shanghai is allowed, 12:30 is not.
        let check = |t: &str| cal.check(ScheduleId::new(1), t.parse().unwrap());
        assert_eq!(
            check("2026-11-27T01:00:00Z"),
            gatehouse_credential::schedule::ScheduleCheck::Allowed
        );
        assert_eq!(
            check("2026-11-27T04:30:00Z"),
            gatehouse_credential::schedule::ScheduleCheck::OutsideHours
        );
    }

    #[test]
    fn units_must_be_on_a_floor_of_an_existing_building() {
        let conn = crate::store::in_memory().unwrap();
        let now = Utc::now();
        let a = Actor::Anonymous;
        let unit = Unit {
            id: 0,
            label: "2-1203".into(),
            building: 2,
            floor: 12,
        };
        assert!(matches!(
            add_unit(&conn, &a, &unit, now),
            Err(EstateError::NotFound(_))
        ));
        add_building(
            &conn,
            &a,
            &Building {
                number: 2,
                name: "B2".into(),
                floor_lo: -1,
                floor_hi: 30,
            },
            now,
        )
        .unwrap();
        add_unit(&conn, &a, &unit, now).unwrap();
        assert!(matches!(
            add_unit(&conn, &a, &unit, now),
            Err(EstateError::Exists(_))
        ));
        let high = Unit {
            label: "2-3101".into(),
            floor: 31,
            ..unit
        };
        assert!(
            matches!(add_unit(&conn, &a, &high, now), Err(EstateError::Invalid(m)) if m.contains("-1 to 30"))
        );
    }
}

//! What the front desk reads from the estate: its time zone, units, and the desk's own
//! settings (visitor pass length, retention period), kept in the
//! `settings` table so a manager can change them without a restart.

use super::desk_error::{DeskError, DeskResult};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// Settings key: the estate's IANA time zone (default Asia/Shanghai).
pub const TIME_ZONE: &str = "time_zone";
/// Settings key: minutes a visitor pass lasts; absent means "until the end of the local day".
pub const VISITOR_PASS_MINUTES: &str = "visitor_pass_minutes";
/// Settings key: days after which personal data is purged (default 180).
pub const RETENTION_DAYS: &str = "retention_days";

/// The default retention period.
pub const DEFAULT_RETENTION_DAYS: i64 = 180;

/// The value of `key`, if set.
pub fn get(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    setting(conn, key)
}

fn setting(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row(params![key], |r| r.get(0))
        .optional()
}

/// Sets `key` to `value`.
pub fn set(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value")?.execute(params![key, value],
    )?;
    Ok(())
}

/// The estate's time zone.
pub fn time_zone(conn: &Connection) -> rusqlite::Result<Tz> {
    Ok(setting(conn, TIME_ZONE)?
        .and_then(|s| s.parse().ok())
        .unwrap_or(chrono_tz::Asia::Shanghai))
}

/// How long a visitor pass lasts, if configured (otherwise: to the end of the local day).
pub fn visitor_pass_minutes(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    Ok(setting(conn, VISITOR_PASS_MINUTES)?
        .and_then(|s| s.parse().ok())
        .filter(|m| *m > 0))
}

/// The retention period in days.
pub fn retention_days(conn: &Connection) -> rusqlite::Result<i64> {
    Ok(setting(conn, RETENTION_DAYS)?
        .and_then(|s| s.parse().ok())
        .filter(|d| *d > 0)
        .unwrap_or(DEFAULT_RETENTION_DAYS))
}

/// The UTC instant a local date starts in `tz` (the earliest, across a DST change).
pub fn local_midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        // A zone that skips midnight: an hour later is always a real local time.
        .unwrap_or_else(|| Utc.from_utc_datetime(&naive) + Duration::hours(1))
}

/// The local date of `now` in `tz`.
pub fn local_date(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// A unit of the estate, as a card's scope needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = UnitOfCard)]
pub struct Unit {
    /// Database id.
    pub id: i64,
    /// e.g. "2-1203".
    pub label: String,
    /// Building number.
    pub building: u8,
    /// Floor.
    pub floor: i8,
}

fn unit_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Unit> {
    let building: i64 = r.get(2)?;
    let floor: i64 = r.get(3)?;
    Ok(Unit {
        id: r.get(0)?,
        label: r.get(1)?,
        building: u8::try_from(building).unwrap_or(0),
        floor: i8::try_from(floor).unwrap_or(0),
    })
}

/// The unit `id`, or a 422 naming it.
pub fn unit(conn: &Connection, id: i64) -> DeskResult<Unit> {
    conn.prepare_cached("SELECT id, label, building, floor FROM units WHERE id = ?1")?
        .query_row(params![id], unit_from_row)
        .optional()?
        .ok_or_else(|| DeskError::invalid("unknown_unit", format!("there is no unit with id {id}")))
}

/// Every unit, by label.
pub fn units(conn: &Connection) -> rusqlite::Result<Vec<Unit>> {
    let mut stmt = conn.prepare("SELECT id, label, building, floor FROM units ORDER BY label")?;
    let rows = stmt.query_map([], unit_from_row)?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_midnight_is_16_utc_the_day_before_and_settings_default() {
        let t = local_midnight(chrono_tz::Asia::Shanghai, "2026-03-01".parse().unwrap());
        assert_eq!(t.to_rfc3339(), "2026-02-28T16:00:00+00:00");
        let conn = crate::db::open_in_memory().unwrap();
        assert_eq!(time_zone(&conn).unwrap(), chrono_tz::Asia::Shanghai);
        assert_eq!(retention_days(&conn).unwrap(), 180);
        assert_eq!(visitor_pass_minutes(&conn).unwrap(), None);
        set(&conn, RETENTION_DAYS, "30").unwrap();
        assert_eq!(retention_days(&conn).unwrap(), 30);
    }
}

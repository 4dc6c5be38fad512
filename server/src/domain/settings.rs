//! The estate's settings, kept in the `settings` table so a manager can change them without a
//! restart. Every key is named here, and nothing else reads or writes the table: a setting's
//! reader gives its typed value (with its default), a writer takes the value to store.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use rusqlite::{Connection, OptionalExtension, params};

/// The estate's IANA time zone (default Asia/Shanghai).
pub const TIME_ZONE: &str = "time_zone";
/// Minutes a visitor pass lasts; absent means "until the end of the local day".
pub const VISITOR_PASS_MINUTES: &str = "visitor_pass_minutes";
/// Days after which personal data is purged (default 180).
pub const RETENTION_DAYS: &str = "retention_days";
/// The replacement fee of a lost card in cents (default 5000, i.e. 50 yuan).
pub const LOST_CARD_FEE: &str = "lost_card_fee_cents";
/// Who approves a deposit refund: `manager` (default), `second_person` or `none`.
pub const REFUND_APPROVAL: &str = "refund_approval";
/// Whether a kiosk walk-in waits for the host: `none` (default) or `host`.
pub const WALK_IN_APPROVAL: &str = "walk_in_approval";
/// Whether the desk may approve goods-release permits (`true`/`false`, default false).
pub const GOODS_DESK_APPROVES: &str = "goods_desk_approves";
/// The lockdown switch (`true`/`false`).
pub const LOCKDOWN: &str = "lockdown";
/// The evacuation switch (`true`/`false`).
pub const EVACUATION: &str = "evacuation";
/// When the current (or last) evacuation started (UTC).
pub const EVACUATION_SINCE: &str = "evacuation_since";
/// Who started it (audit name).
pub const EVACUATION_BY: &str = "evacuation_by";

/// The default retention period.
pub const DEFAULT_RETENTION_DAYS: i64 = 180;

/// The value of `key`, if set.
pub fn get(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row(params![key], |r| r.get("value"))
        .optional()
}

/// Sets `key` to `value`.
pub fn set(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// Whether the switch `key` is on (stored as `true`; anything else, or nothing, is off).
pub fn flag(conn: &Connection, key: &str) -> rusqlite::Result<bool> {
    Ok(get(conn, key)?.as_deref() == Some("true"))
}

/// Turns the switch `key` on or off.
pub fn set_flag(conn: &Connection, key: &str, on: bool) -> rusqlite::Result<()> {
    set(conn, key, if on { "true" } else { "false" })
}

/// The estate's time zone.
pub fn time_zone(conn: &Connection) -> rusqlite::Result<Tz> {
    Ok(get(conn, TIME_ZONE)?
        .and_then(|s| s.parse().ok())
        .unwrap_or(chrono_tz::Asia::Shanghai))
}

/// How long a visitor pass lasts, if configured (otherwise: to the end of the local day).
pub fn visitor_pass_minutes(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    Ok(get(conn, VISITOR_PASS_MINUTES)?
        .and_then(|s| s.parse().ok())
        .filter(|m| *m > 0))
}

/// The retention period in days.
pub fn retention_days(conn: &Connection) -> rusqlite::Result<i64> {
    Ok(get(conn, RETENTION_DAYS)?
        .and_then(|s| s.parse().ok())
        .filter(|d| *d > 0)
        .unwrap_or(DEFAULT_RETENTION_DAYS))
}

/// The replacement fee of a lost card in cents.
pub fn lost_card_fee_cents(conn: &Connection) -> rusqlite::Result<i64> {
    Ok(get(conn, LOST_CARD_FEE)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_midnight_is_16_utc_the_day_before_and_settings_default() {
        let t = local_midnight(chrono_tz::Asia::Shanghai, "2026-03-01".parse().unwrap());
        assert_eq!(t.to_rfc3339(), "2026-02-28T16:00:00+00:00");
        let conn = crate::store::in_memory().unwrap();
        assert_eq!(time_zone(&conn).unwrap(), chrono_tz::Asia::Shanghai);
        assert_eq!(retention_days(&conn).unwrap(), 180);
        assert_eq!(visitor_pass_minutes(&conn).unwrap(), None);
        set(&conn, RETENTION_DAYS, "30").unwrap();
        assert_eq!(retention_days(&conn).unwrap(), 30);
    }
}

//! Past records the desk looks up and exports: visitors who came, the invites it made, and the
//! CSV exports of visitors, cards and deposit ledger lines, each over a range of the estate's
//! local dates. Names are masked here too: an export leaves the building on a USB stick.

use super::desk_error::{DeskError, DeskResult};
use super::page_size::PageSize;
use super::privacy;
use crate::csv::field;
use crate::db::{date, instant, opt_instant, ts};
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use gatehouse_credential::UtcMinute;
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

/// The longest range one look-up or export covers.
pub const MAX_DAYS: u64 = 366;

/// A value of a query, where an empty field (a form's blank date input or "any" choice)
/// means none; anything else must parse as `T` (a date as `YYYY-MM-DD`).
pub fn blank_as_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let text: Option<String> = Option::deserialize(d)?;
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => {
            T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(s))
                .map(Some)
                .map_err(|e| serde::de::Error::custom(format!("`{s}`: {e}")))
        }
    }
}

/// `?from=&to=`: local dates, both included; `to` defaults to today and `from` to 30 days
/// before `to`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DateRange {
    /// First local date (inclusive), `YYYY-MM-DD`; blank means none.
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(value_type = Option<String>, pattern = r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$")]
    pub from: Option<NaiveDate>,
    /// Last local date (inclusive), `YYYY-MM-DD`; blank means none.
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(value_type = Option<String>, pattern = r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$")]
    pub to: Option<NaiveDate>,
}

/// A checked range of local dates and the instants that bound it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First local date.
    pub from: NaiveDate,
    /// Last local date.
    pub to: NaiveDate,
    /// The start of `from` in the estate's time zone.
    pub start: DateTime<Utc>,
    /// The start of the day after `to`.
    pub end: DateTime<Utc>,
}

/// The first instant of local date `d` in `tz` (after a gap at midnight, its end).
fn start_of(tz: Tz, d: NaiveDate) -> DateTime<Utc> {
    let midnight = d.and_time(chrono::NaiveTime::MIN);
    // A clock change skips at most an hour or two; the day starts when the clock resumes.
    (0..=180)
        .find_map(|m| {
            tz.from_local_datetime(&(midnight + chrono::Duration::minutes(m)))
                .earliest()
        })
        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

impl DateRange {
    /// The period these dates name in `tz`, with today's date for the defaults; refused when
    /// it ends before it starts, is longer than [`MAX_DAYS`], or lies outside 2000–2100.
    pub fn period(&self, tz: Tz, today: NaiveDate) -> DeskResult<Period> {
        let to = self.to.unwrap_or(today);
        let from = self.from.unwrap_or(to - Days::new(30));
        let bad = |message: String| Err(DeskError::invalid("invalid_range", message));
        let sane = |d: NaiveDate| (2000..=2100).contains(&chrono::Datelike::year(&d));
        if !sane(from) || !sane(to) {
            return bad("dates lie between the years 2000 and 2100".into());
        }
        if to < from {
            return bad(format!("the range ends ({to}) before it starts ({from})"));
        }
        if (to - from).num_days() >= MAX_DAYS as i64 {
            return bad(format!("a range covers at most {MAX_DAYS} days"));
        }
        Ok(Period {
            from,
            to,
            start: start_of(tz, from),
            end: start_of(tz, to + Days::new(1)),
        })
    }
}

/// `YYYY-MM-DD HH:MM` in `tz`, the form a spreadsheet reads as a date and time.
fn local(tz: Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// [`local`], or empty where there is no instant.
fn local_opt(tz: Tz, t: Option<DateTime<Utc>>) -> String {
    t.map(|t| local(tz, t)).unwrap_or_default()
}

/// A masked name, or empty once purged.
fn masked(name: Option<String>) -> String {
    name.map(|n| privacy::mask_name(&n)).unwrap_or_default()
}

/// The header line then one line per row, every field through [`field`].
fn csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = header.join(",");
    out.push('\n');
    for row in rows {
        out.push_str(&row.iter().map(|f| field(f)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// The rows `sql` finds between `period`'s bounding instants (`?1`, `?2`), one CSV line each
/// as `row` writes it, under `header`.
fn period_csv(
    conn: &Connection,
    sql: &str,
    period: &Period,
    header: &[&str],
    row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<Vec<String>>,
) -> DeskResult<String> {
    let mut st = conn.prepare_cached(sql)?;
    let rows = st
        .query_map(params![ts(period.start), ts(period.end)], row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(csv(header, &rows))
}

/// `?q=&from=&to=&limit=&before=` for the visitor history.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VisitorSearch {
    /// Part of the name, unit, host or purpose (any case).
    pub q: Option<String>,
    /// Its local dates: `from` and `to`, the parameters [`DateRange`] declares.
    #[serde(flatten)]
    #[param(ignore)]
    pub range: DateRange,
    /// How many (1 to 500, default 100), newest first.
    #[param(format = Int64, minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The page after the one whose `Link: <…>; rel="next"` header gave this cursor.
    pub before: Option<String>,
}

/// One past visit as staff see it, masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VisitRecord {
    /// The visitor's id.
    pub visitor_id: i64,
    /// The pass, if one was issued.
    pub card_id: Option<u32>,
    /// Who, where, why.
    #[serde(flatten)]
    pub visit: super::visitor::Visit,
    /// When signed out (UTC), if they were.
    pub signed_out_at: Option<DateTime<Utc>>,
    /// Who registered them (`kiosk:…` or `desk:…`).
    pub registered_by: String,
}

/// How many visits one look-up returns unless asked, and the most it returns.
pub const VISITS_PAGE: PageSize = PageSize {
    default: 100,
    max: 500,
};

const VISITS: &str =
    "SELECT v.id, (SELECT MAX(c.id) FROM cards c WHERE c.visitor_id = v.id) AS card_id, v.name, u.label,
        v.host_name, v.purpose, v.party_size, v.registered_at, v.signed_out_at, v.registered_by
     FROM visitors v JOIN units u ON u.id = v.unit_id
     WHERE v.registered_at >= ?1 AND v.registered_at < ?2";

fn visit(r: &rusqlite::Row<'_>) -> rusqlite::Result<VisitRecord> {
    Ok(VisitRecord {
        visitor_id: r.get("id")?,
        card_id: r.get("card_id")?,
        visit: super::visitor::Visit::from_row(r)?,
        signed_out_at: opt_instant(r, "signed_out_at")?,
        registered_by: r.get("registered_by")?,
    })
}

/// At most `limit` visitors registered in `period` whose name, unit, host or purpose
/// contains `q`, newest first (by registration, then id), from just after `before` (a
/// visitor's registration time and id) if given.
pub fn visits(
    conn: &Connection,
    period: &Period,
    q: Option<&str>,
    before: Option<(&str, i64)>,
    limit: u32,
) -> DeskResult<Vec<VisitRecord>> {
    let q = q.map(str::trim).filter(|q| !q.is_empty());
    if q.is_some_and(|q| q.chars().count() > 64) {
        return Err(DeskError::invalid(
            "invalid",
            "a search is at most 64 characters",
        ));
    }
    // LIKE with the wildcards of the search itself escaped.
    let pattern = q.map(|q| {
        format!(
            "%{}%",
            q.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    let mut st = conn.prepare_cached(&format!(
        "{VISITS} AND (?3 IS NULL OR v.name LIKE ?3 ESCAPE '\\' OR u.label LIKE ?3 ESCAPE '\\'
                 OR v.host_name LIKE ?3 ESCAPE '\\' OR v.purpose LIKE ?3 ESCAPE '\\')
           AND (v.registered_at, v.id) < (?5, ?6)
         ORDER BY v.registered_at DESC, v.id DESC LIMIT ?4"
    ))?;
    let end = ts(period.end);
    let (at, id) = before.unwrap_or((&end, i64::MAX));
    let rows = st.query_map(
        params![ts(period.start), end, pattern, limit, at, id],
        visit,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Visitors registered in `period` as CSV, local times.
pub fn visitors_csv(conn: &Connection, tz: Tz, period: &Period) -> DeskResult<String> {
    let sql = format!("{VISITS} ORDER BY v.registered_at, v.id");
    let header = [
        "registered",
        "pass",
        "name",
        "unit",
        "host",
        "purpose",
        "party",
        "signed_out",
        "registered_by",
    ];
    period_csv(conn, &sql, period, &header, |r| {
        let v = visit(r)?;
        Ok(vec![
            local(tz, v.visit.registered_at),
            v.card_id.map(|c| c.to_string()).unwrap_or_default(),
            v.visit.name_masked,
            v.visit.unit_label,
            v.visit.host_masked.unwrap_or_default(),
            v.visit.purpose,
            v.visit.party_size.to_string(),
            v.signed_out_at.map(|t| local(tz, t)).unwrap_or_default(),
            v.registered_by,
        ])
    })
}

/// An invite as the desk sees it afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InviteRecord {
    /// The code to read out or type at the kiosk.
    pub code: String,
    /// The day it is valid.
    pub valid_on: NaiveDate,
    /// Masked visitor name.
    pub name_masked: String,
    /// The unit to be visited.
    pub unit_label: String,
    /// When made (UTC).
    pub created_at: DateTime<Utc>,
    /// Who made it.
    pub created_by: String,
    /// When redeemed at the kiosk (UTC), if it was.
    pub redeemed_at: Option<DateTime<Utc>>,
}

/// At most `limit` invites valid on `since` or later, and any made since then, newest first
/// (by when made, then code), from just after `before` (an invite's time made and code).
pub fn invites(
    conn: &Connection,
    since: NaiveDate,
    before: Option<(&str, &str)>,
    limit: u32,
) -> DeskResult<Vec<InviteRecord>> {
    let mut st = conn.prepare_cached(
        "SELECT i.code, i.valid_on, json_extract(i.visitor, '$.name') AS name, u.label, i.created_at,
                i.created_by, i.redeemed_at
         FROM invites i LEFT JOIN units u ON u.id = json_extract(i.visitor, '$.unit_id')
         WHERE i.purged_at IS NULL AND (i.valid_on >= ?1 OR i.created_at >= ?1)
           AND (i.created_at, i.code) < (?2, ?3)
         ORDER BY i.created_at DESC, i.code DESC LIMIT ?4",
    )?;
    // "9" sorts after every stored time: no cursor starts from the newest.
    let (at, code) = before.unwrap_or(("9", ""));
    let rows = st.query_map(params![since.to_string(), at, code, limit], |r| {
        Ok(InviteRecord {
            code: r.get("code")?,
            valid_on: date(r, "valid_on")?,
            name_masked: masked(r.get("name")?),
            unit_label: r.get::<_, Option<String>>("label")?.unwrap_or_default(),
            created_at: instant(r, "created_at")?,
            created_by: r.get("created_by")?,
            redeemed_at: opt_instant(r, "redeemed_at")?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Cards issued in `period` as CSV: number, kind, state, holder (masked), what it is for,
/// times local.
pub fn cards_csv(conn: &Connection, tz: Tz, period: &Period) -> DeskResult<String> {
    let sql = "SELECT c.id, c.kind, c.state, COALESCE(w.name, v.name) AS holder,
                COALESCE(r.code, '') AS renovation, COALESCE(ru.label, vu.label, '') AS unit,
                c.issued_at, c.not_after, c.ended_at,
                c.ended_by, c.issued_by
         FROM cards c
         LEFT JOIN workers w ON w.id = c.worker_id
         LEFT JOIN renovations r ON r.id = w.renovation_id
         LEFT JOIN units ru ON ru.id = r.unit_id
         LEFT JOIN visitors v ON v.id = c.visitor_id
         LEFT JOIN units vu ON vu.id = v.unit_id
         WHERE c.issued_at >= ?1 AND c.issued_at < ?2
         ORDER BY c.issued_at, c.id";
    let header = [
        "card",
        "kind",
        "state",
        "holder",
        "renovation",
        "unit",
        "issued",
        "valid_until",
        "ended",
        "ended_by",
        "issued_by",
    ];
    period_csv(conn, sql, period, &header, |r| {
        let until = UtcMinute(r.get("not_after")?).to_datetime();
        Ok(vec![
            r.get::<_, u32>("id")?.to_string(),
            r.get("kind")?,
            r.get("state")?,
            masked(r.get("holder")?),
            r.get("renovation")?,
            r.get("unit")?,
            local(tz, instant(r, "issued_at")?),
            local(tz, until),
            local_opt(tz, opt_instant(r, "ended_at")?),
            r.get::<_, Option<String>>("ended_by")?.unwrap_or_default(),
            r.get("issued_by")?,
        ])
    })
}

/// Deposit ledger lines recorded in `period` as CSV: amounts in yuan with two decimals.
pub fn deposits_csv(conn: &Connection, tz: Tz, period: &Period) -> DeskResult<String> {
    let sql = "SELECT l.at, r.code, u.label, l.kind, COALESCE(l.category, '') AS category, l.amount_cents,
                COALESCE(l.receipt_no, '') AS receipt_no, l.card_id, l.note, l.by,
                COALESCE(l.approved_by, '') AS approved_by
         FROM ledger l JOIN renovations r ON r.id = l.renovation_id JOIN units u ON u.id = r.unit_id
         WHERE l.at >= ?1 AND l.at < ?2
         ORDER BY l.at, l.id";
    let header = [
        "at",
        "renovation",
        "unit",
        "kind",
        "category",
        "amount_yuan",
        "receipt_no",
        "card",
        "note",
        "by",
        "approved_by",
    ];
    period_csv(conn, sql, period, &header, |r| {
        let cents: i64 = r.get("amount_cents")?;
        Ok(vec![
            local(tz, instant(r, "at")?),
            r.get("code")?,
            r.get("label")?,
            r.get("kind")?,
            r.get("category")?,
            format!("{}.{:02}", cents / 100, cents % 100),
            r.get("receipt_no")?,
            r.get::<_, Option<u32>>("card_id")?
                .map(|c| c.to_string())
                .unwrap_or_default(),
            r.get("note")?,
            r.get("by")?,
            r.get("approved_by")?,
        ])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_range_of_local_dates_bounds_whole_local_days() {
        let tz = chrono_tz::Asia::Shanghai;
        let p = DateRange {
            from: Some(day("2026-12-01")),
            to: Some(day("2026-12-03")),
        }
        .period(tz, day("2026-12-10"))
        .unwrap();
        assert_eq!(ts(p.start), "2026-11-30T16:00:00.000000Z");
        assert_eq!(ts(p.end), "2026-12-03T16:00:00.000000Z");
        let default = DateRange::default().period(tz, day("2026-12-10")).unwrap();
        assert_eq!(
            (default.from, default.to),
            (day("2026-11-10"), day("2026-12-10"))
        );
    }

    #[test]
    fn a_reversed_long_or_absurd_range_is_refused_with_its_code() {
        let tz = chrono_tz::Asia::Shanghai;
        for (from, to) in [
            ("2026-12-03", "2026-12-01"),
            ("2025-01-01", "2026-12-01"),
            ("1970-01-01", "1970-01-02"),
        ] {
            let r = DateRange {
                from: Some(day(from)),
                to: Some(day(to)),
            }
            .period(tz, day("2026-12-10"));
            assert!(
                matches!(
                    r,
                    Err(DeskError::Invalid {
                        code: "invalid_range",
                        ..
                    })
                ),
                "{from}..{to}: {r:?}"
            );
        }
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_starts_when_the_clock_resumes() {
        // Santiago skipped 00:00–01:00 on 2026-09-06 (clocks went forward at midnight).
        let tz = chrono_tz::America::Santiago;
        let start = start_of(tz, day("2026-09-06"));
        assert_eq!(
            start.with_timezone(&tz).format("%H:%M").to_string(),
            "01:00"
        );
    }
}

//! Gate journal entries: stored exactly once by entry id, listed and exported for staff.

use super::page_size::PageSize;
use crate::db::{instant, parse_ts, ts};
use chrono::{DateTime, Utc};
use gatehouse_credential::Kind;
use gatehouse_credential::api::gate::{ChangeEvent, GateEvent, JournalEntry};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The most entries one upload may carry.
pub const MAX_UPLOAD: usize = 500;

/// `admitted`, `denied` or `other` (exit requests, alarms, …): the filter staff use.
pub fn result_of(event: &GateEvent) -> &'static str {
    match event {
        GateEvent::Admitted { .. } => "admitted",
        GateEvent::Denied { .. } => "denied",
        _ => "other",
    }
}

fn snake(value: impl Serialize) -> Option<String> {
    match serde_json::to_value(value).ok()? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Object(o) => o.get("type").and_then(|t| t.as_str()).map(str::to_owned),
        _ => None,
    }
}

/// Stores `entries` from gate `device_id`; ids stored before are skipped. Returns every id now
/// stored (new or old), which is what the gate may mark as sent.
pub fn store(
    tx: &Connection,
    device_id: &str,
    entries: &[JournalEntry],
    now: DateTime<Utc>,
) -> rusqlite::Result<Vec<Uuid>> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO gate_events
         (id, device_id, at, clock_trusted, card_id, kind, result, reason, event, received_at, direction)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let mut inserted = 0u64;
    for e in entries {
        let reason = match &e.event {
            GateEvent::Denied { reason } => snake(reason),
            GateEvent::Alarm { alarm } => snake(alarm),
            GateEvent::Admitted { flag } => flag.clone(),
            _ => None,
        };
        let event = serde_json::to_string(&e.event)
            .map_err(|err| rusqlite::Error::ToSqlConversionFailure(Box::new(err)))?;
        let new = stmt.execute(params![
            e.id.to_string(),
            device_id,
            ts(e.at),
            e.clock_trusted,
            e.card_id.map(|c| c.0),
            e.kind.and_then(snake),
            result_of(&e.event),
            reason,
            event,
            ts(now),
            e.direction.and_then(snake),
        ])? as u64;
        // Only a first upload raises the desk alarm or tells the area; a retried batch must
        // not do either again.
        if new == 1 {
            super::alarms::apply_gate_event(tx, device_id, &e.event, e.at)?;
            tell_area(tx, device_id, e, now)?;
            if let (Some(Kind::GoodsRelease), Some(card)) = (e.kind, e.card_id) {
                super::goods::record_gate_scan(
                    tx,
                    device_id,
                    card.0,
                    reason.as_deref(),
                    e.at,
                    now,
                )?;
            }
        }
        inserted += new;
    }
    metrics::counter!("gate_journal_entries_stored_total").increment(inserted);
    Ok(entries.iter().map(|e| e.id).collect())
}

/// Tells the other doors of an anti-passback area of a passage (or its annulment) at
/// `device_id`, if that gate is one of the area's members. Passages made under an untrusted
/// clock are not told: their time is unknown.
fn tell_area(
    tx: &Connection,
    device_id: &str,
    e: &JournalEntry,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let (Some(area), Some(card_id), true) = (&e.area, e.card_id, e.clock_trusted) else {
        return Ok(());
    };
    if !super::areas::is_member(tx, area, device_id)? {
        // Kept in the journal as the gate reported it, but never passed on: only the area's
        // own gates may make its doors count a passage.
        tracing::warn!(device = device_id, area = %area, "passage from a gate outside its area not passed on");
        metrics::counter!("area_passages_refused_total").increment(1);
        return Ok(());
    }
    let (at, annulled) = match e.event {
        // As stored (to the microsecond), so that an annulment names the very same time.
        GateEvent::Admitted { .. } => (parse_ts(&ts(e.at))?, false),
        // The other doors know the passage by the time it was admitted.
        GateEvent::PassageAnnulled => {
            let admitted: Option<String> = tx
                .prepare_cached(
                    "SELECT at FROM gate_events WHERE device_id = ?1 AND card_id = ?2
                       AND result = 'admitted' AND at <= ?3 ORDER BY at DESC LIMIT 1",
                )?
                .query_row(params![device_id, card_id.0, ts(e.at)], |r| r.get(0))
                .optional()?;
            match admitted {
                Some(at) => (parse_ts(&at)?, true),
                None => return Ok(()),
            }
        }
        _ => return Ok(()),
    };
    let passage = ChangeEvent::Passage {
        area: area.clone(),
        card_id,
        direction: e.direction,
        passed_at: at,
        device_id: device_id.to_owned(),
        annulled,
    };
    crate::changes::append(tx, &passage, now).map(|_| ())
}

/// Filters for the events list; every field optional.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventFilter {
    /// Card number.
    #[param(format = Int64, maximum = 4_294_967_295.0)]
    pub card: Option<u32>,
    /// Gate device id.
    pub device: Option<String>,
    /// `admitted`, `denied` or `other`.
    pub result: Option<String>,
    /// From this instant (inclusive, RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Until this instant (exclusive, RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// At most this many, newest first (default 200, at most 10 000); the CSV export has no
    /// limit and no cursor: it holds every event of its range.
    #[param(format = Int64, minimum = 1, maximum = 10_000)]
    pub limit: Option<u32>,
    /// The page after the one whose `Link: <…>; rel="next"` header gave this cursor.
    pub before: Option<String>,
}

/// The events list's page size.
pub const EVENTS_PAGE: PageSize = PageSize {
    default: 200,
    max: 10_000,
};

/// One stored event as staff see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventRow {
    /// Entry id from the gate.
    pub id: String,
    /// Gate device id.
    pub device_id: String,
    /// Gate device name.
    pub device_name: String,
    /// When, by the gate's clock (UTC).
    #[serde(serialize_with = "crate::db::ts_json")]
    pub at: DateTime<Utc>,
    /// Whether the gate trusted its clock.
    pub clock_trusted: bool,
    /// Card number, if verified.
    pub card_id: Option<u32>,
    /// `worker` or `visitor`, if verified.
    pub kind: Option<String>,
    /// `admitted`, `denied` or `other`.
    pub result: String,
    /// Deny reason, alarm or admit flag.
    pub reason: Option<String>,
    /// The event's type, e.g. `denied`, `exit_request`, `alarm`.
    pub event: String,
    /// `entry` or `exit` at a lane with two readers; absent at a one-reader door.
    pub direction: Option<String>,
}

/// The name the events list gives the guard page's handheld scanner or typed number.
pub const HANDHELD: &str = "门岗手持 guard handheld";

/// The guard's releases and stops made without a gate (a handheld wedge scan or a typed
/// permit number) as event rows matching `f`, newest first: the gate's own rows are in its
/// journal, these have no gate to journal them. A filter by gate matches none of them.
pub fn hand_events(
    conn: &Connection,
    f: &EventFilter,
    before: Option<(&str, &str)>,
    limit: u32,
) -> rusqlite::Result<Vec<EventRow>> {
    if f.device.is_some() || f.result.as_deref().is_some_and(|r| r != "other") {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(
        "SELECT id, closed_at, state, closed_by, decision_note FROM goods_permits
         WHERE closed_device IS NULL AND closed_at IS NOT NULL AND state IN ('released', 'stopped')
           AND (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR closed_at >= ?2) AND (?3 IS NULL OR closed_at < ?3)
           AND (?5 IS NULL OR (closed_at, 'goods-' || id) < (?5, ?6))
         ORDER BY closed_at DESC, 'goods-' || id DESC LIMIT ?4",
    )?;
    let rows = stmt.query_map(
        params![
            f.card,
            f.from.map(ts),
            f.to.map(ts),
            limit,
            before.map(|b| b.0),
            before.map(|b| b.1)
        ],
        |r| {
            let id: u32 = r.get("id")?;
            let state: String = r.get("state")?;
            let by: Option<String> = r.get("closed_by")?;
            let note: Option<String> = r.get("decision_note")?;
            let released = state == "released";
            let reason = if released {
                by.unwrap_or_default()
            } else {
                format!("{} {}", by.unwrap_or_default(), note.unwrap_or_default())
            };
            Ok(EventRow {
                id: format!("goods-{id}"),
                device_id: String::new(),
                device_name: HANDHELD.to_owned(),
                at: instant(r, "closed_at")?,
                clock_trusted: true,
                card_id: Some(id),
                kind: Some("goods_release".into()),
                result: "other".into(),
                reason: Some(reason.trim().to_owned()),
                event: if released {
                    "goods_released"
                } else {
                    "goods_stopped"
                }
                .into(),
                direction: None,
            })
        },
    )?;
    rows.collect()
}

/// The events matching `f`, newest first (at most `f.limit`, 200 unless given, 10,000 at most).
pub fn list(conn: &Connection, f: &EventFilter) -> rusqlite::Result<Vec<EventRow>> {
    let size = EVENTS_PAGE;
    page(conn, f, None, f.limit.unwrap_or(size.default).min(size.max))
}

/// At most `limit` events matching `f` (its `limit` and `before` aside), newest first (by
/// time, then id), from just after `before` (an event's time and id) if given.
pub fn page(
    conn: &Connection,
    f: &EventFilter,
    before: Option<(&str, &str)>,
    limit: u32,
) -> rusqlite::Result<Vec<EventRow>> {
    let mut sql = String::from(
        "SELECT e.id, e.device_id, COALESCE(d.name, '') AS device_name, e.at, e.clock_trusted, e.card_id, e.kind, e.result, e.reason, e.event,
                e.direction
         FROM gate_events e LEFT JOIN devices d ON d.id = e.device_id WHERE 1 = 1",
    );
    let mut args: Vec<Value> = Vec::new();
    if let Some(card) = f.card {
        sql.push_str(" AND e.card_id = ?");
        args.push(Value::Integer(i64::from(card)));
    }
    if let Some(device) = &f.device {
        sql.push_str(" AND e.device_id = ?");
        args.push(Value::Text(device.clone()));
    }
    if let Some(result) = &f.result {
        sql.push_str(" AND e.result = ?");
        args.push(Value::Text(result.clone()));
    }
    if let Some(from) = f.from {
        sql.push_str(" AND e.at >= ?");
        args.push(Value::Text(ts(from)));
    }
    if let Some(to) = f.to {
        sql.push_str(" AND e.at < ?");
        args.push(Value::Text(ts(to)));
    }
    if let Some((at, id)) = before {
        sql.push_str(" AND (e.at, e.id) < (?, ?)");
        args.push(Value::Text(at.to_owned()));
        args.push(Value::Text(id.to_owned()));
    }
    sql.push_str(" ORDER BY e.at DESC, e.id DESC LIMIT ?");
    args.push(Value::Integer(i64::from(limit)));
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| {
        let event: String = r.get("event")?;
        Ok(EventRow {
            id: r.get("id")?,
            device_id: r.get("device_id")?,
            device_name: r.get("device_name")?,
            at: crate::db::instant(r, "at")?,
            clock_trusted: r.get("clock_trusted")?,
            card_id: r.get("card_id")?,
            kind: r.get("kind")?,
            result: r.get("result")?,
            reason: r.get("reason")?,
            event: serde_json::from_str::<serde_json::Value>(&event)
                .ok()
                .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
                .unwrap_or_default(),
            direction: r.get("direction")?,
        })
    })?;
    rows.collect()
}

/// The rows as CSV with a header line.
pub fn to_csv(rows: &[EventRow]) -> String {
    let mut out = String::from(
        "at,device_id,device_name,card_id,kind,result,reason,event,direction,clock_trusted,id\n",
    );
    for r in rows {
        let fields = [
            ts(r.at),
            r.device_id.clone(),
            r.device_name.clone(),
            r.card_id.map(|c| c.to_string()).unwrap_or_default(),
            r.kind.clone().unwrap_or_default(),
            r.result.clone(),
            r.reason.clone().unwrap_or_default(),
            r.event.clone(),
            r.direction.clone().unwrap_or_default(),
            r.clock_trusted.to_string(),
            r.id.clone(),
        ];
        out.push_str(
            &fields
                .iter()
                .map(|f| crate::csv::field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}

/// The longest free-text flag a gate may put on an admission.
pub const MAX_FLAG_CHARS: usize = 64;

/// The earliest time a journal entry made with a trusted clock may carry.
pub fn earliest_trusted() -> DateTime<Utc> {
    DateTime::from_timestamp(1_577_836_800, 0).unwrap_or(DateTime::<Utc>::MIN_UTC) // 2020-01-01
}

/// Why an upload was refused, naming the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// A flag too long or with control characters.
    #[error(
        "entry {entry}: a flag is at most {MAX_FLAG_CHARS} characters without control characters"
    )]
    Flag {
        /// The entry.
        entry: Uuid,
    },
    /// A time outside the window.
    #[error("entry {entry}: {range}")]
    Time {
        /// The entry.
        entry: Uuid,
        /// The time and its window (boxed: it is large and rare).
        range: Box<super::bounds::OutOfRange>,
    },
}

impl Refused {
    /// The values for the error body's `details` and the audit entry.
    pub fn details(&self) -> serde_json::Value {
        match self {
            Refused::Flag { entry } => {
                serde_json::json!({"entry": entry, "field": "flag", "max_chars": MAX_FLAG_CHARS})
            }
            Refused::Time { entry, range } => {
                let mut d = range.details();
                d["entry"] = serde_json::json!(entry);
                d
            }
        }
    }
}

/// How far a gate's trusted clock may run ahead of the server's, or an entry precede the
/// gate's enrolment (a clock set a little behind).
pub const CLOCK_SLACK: chrono::Duration = chrono::Duration::days(1);

/// Checks an upload's entries before anything is stored: a flag is short and has no control
/// characters; a time is not in the future by more than [`CLOCK_SLACK`], and when the gate's
/// clock was trusted not before 2020 nor before the gate was enrolled (`enrolled_at`, less the
/// slack) — an untrusted clock may be as early as 1970, where a Pi without a real-time clock
/// starts. The error names the entry.
pub fn check(
    entries: &[JournalEntry],
    enrolled_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), Refused> {
    let latest = now + CLOCK_SLACK;
    let trusted_from = enrolled_at
        .map(|t| t - CLOCK_SLACK)
        .filter(|t| *t > earliest_trusted())
        .unwrap_or_else(earliest_trusted);
    for e in entries {
        if let GateEvent::Admitted { flag: Some(flag) } = &e.event {
            if flag.chars().count() > MAX_FLAG_CHARS || flag.chars().any(char::is_control) {
                return Err(Refused::Flag { entry: e.id });
            }
        }
        let (earliest, why) = if e.clock_trusted {
            (
                trusted_from,
                " (not before 2020 or the gate's enrolment, nor more than a day ahead)",
            )
        } else {
            (
                DateTime::UNIX_EPOCH,
                " (an untrusted clock: not more than a day ahead)",
            )
        };
        super::bounds::time("at", e.at, earliest, latest, why).map_err(|range| Refused::Time {
            entry: e.id,
            range: Box::new(range),
        })?;
    }
    Ok(())
}

/// When gate `device_id` was enrolled, if it was.
pub fn enrolled_at(conn: &Connection, device_id: &str) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let at: Option<String> = conn
        .query_row(
            "SELECT enrolled_at FROM devices WHERE id = ?1",
            [device_id],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    at.as_deref().map(parse_ts).transpose()
}

//! Worker cards collected at the lobby kiosk, a public terminal.
//!
//! A worker types the renovation's code, the last 4 characters of their ID number and the
//! one-time collection code (8 digits) the desk gave their contractor. The desk sees a
//! worker's code once, when the worker is registered or when it asks for a new one; the server
//! keeps only its HMAC under the personal-data key. Wrong attempts are counted: after
//! [`RENOVATION_FAILURES`] for one renovation its kiosk collection is locked until the desk
//! releases it (audited), and the desk is alarmed; a kiosk that made [`KIOSK_FAILURES`] wrong
//! attempts within [`KIOSK_WINDOW_MINUTES`] is refused (429) until they age out.

use super::card::{self, Issued};
use super::desk_error::{DeskError, DeskResult, Refusable};
use super::{alarms, privacy, renovation};
use crate::audit;
use crate::auth::Actor;
use crate::db::{parse_ts, ts};
use crate::keys::SigningKeys;
use crate::keys::personal::PersonalKey;
use chrono::{DateTime, Duration, Utc};
use gatehouse_credential::api::device::DeviceAlarmKind;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// Wrong attempts for one renovation before its kiosk collection is locked.
pub const RENOVATION_FAILURES: i64 = 5;
/// Wrong attempts one kiosk may make within [`KIOSK_WINDOW_MINUTES`].
pub const KIOSK_FAILURES: i64 = 10;
/// The window of a kiosk's wrong attempts.
pub const KIOSK_WINDOW_MINUTES: i64 = 15;
/// Digits of a collection code.
pub const CODE_DIGITS: usize = 8;

const PURPOSE: &str = "collection_code";

/// A fresh collection code for the desk to give out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CollectionCode {
    /// The worker.
    pub worker_id: i64,
    /// The code: shown once, kept only as a keyed hash.
    pub collection_code: String,
}

fn code_hash(key: &PersonalKey, worker_id: i64, code: &str) -> String {
    key.tag(PURPOSE, &[&worker_id.to_string(), code])
}

fn random_digits(n: usize) -> String {
    let mut bytes = vec![0u8; n * 2];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    // Two bytes per digit keep the bias of `% 10` below 0.01 %.
    bytes
        .chunks(2)
        .map(|b| char::from(b'0' + (u16::from_be_bytes([b[0], b[1]]) % 10) as u8))
        .collect()
}

/// Gives worker `worker_id` a new collection code (the old one stops working) and audits it.
pub fn new_code(
    tx: &Connection,
    key: &PersonalKey,
    actor: &Actor,
    worker_id: i64,
    now: DateTime<Utc>,
) -> DeskResult<CollectionCode> {
    let code = random_digits(CODE_DIGITS);
    let changed = tx
        .prepare_cached(
            "UPDATE workers SET collection_code_hash = ?2 WHERE id = ?1 AND purged_at IS NULL",
        )?
        .execute(params![worker_id, code_hash(key, worker_id, &code)])?;
    if changed == 0 {
        return Err(DeskError::NotFound(format!("no worker {worker_id}")));
    }
    audit::record(
        tx,
        actor,
        "worker.collection_code",
        &format!("worker:{worker_id}"),
        serde_json::json!({}),
        now,
    )?;
    Ok(CollectionCode {
        worker_id,
        collection_code: code,
    })
}

/// What the kiosk typed, checked for shape.
fn well_formed(code: Option<&str>) -> DeskResult<String> {
    let code: String = code
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if code.is_empty() {
        return Err(DeskError::invalid(
            "collection_code_required",
            "collection_code is required: the front desk gives it to your contractor",
        ));
    }
    if !(6..=12).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(DeskError::invalid(
            "invalid",
            "collection_code is 6 to 12 digits",
        ));
    }
    Ok(code)
}

fn kiosk_wait(tx: &Connection, device: &str, now: DateTime<Utc>) -> DeskResult<Option<u64>> {
    let since = now - Duration::minutes(KIOSK_WINDOW_MINUTES);
    let (count, oldest): (i64, Option<String>) = tx
        .prepare_cached(
            "SELECT COUNT(*) AS count, MIN(at) AS oldest FROM kiosk_collect_failures WHERE device_id = ?1 AND at > ?2",
        )?
        .query_row(params![device, ts(since)], |r| {
            Ok((r.get("count")?, r.get("oldest")?))
        })?;
    if count < KIOSK_FAILURES {
        return Ok(None);
    }
    let oldest = oldest.as_deref().map(parse_ts).transpose()?.unwrap_or(now);
    let free_at = oldest + Duration::minutes(KIOSK_WINDOW_MINUTES);
    Ok(Some((free_at - now).num_seconds().max(1).unsigned_abs()))
}

fn not_found() -> DeskError {
    DeskError::NotFound(
        "no worker matches this renovation code, ID number and collection code; see the front desk"
            .into(),
    )
}

fn locked() -> DeskError {
    DeskError::conflict(
        "collection_locked",
        "too many wrong attempts for this renovation: the front desk must release it",
    )
}

/// The refusal for a worker whose card was printed before: collected at a kiosk, or handed out
/// by the desk at `issued_at` (the kiosk says when, so the worker knows it is theirs to find).
fn earlier_card(issued_by: &str, issued_at: &str) -> DeskError {
    match parse_ts(issued_at) {
        Ok(issued_at) if !issued_by.starts_with("kiosk:") => DeskError::IssuedAtDesk { issued_at },
        _ => DeskError::conflict(
            "already_collected",
            "this card was printed before; a reprint needs the front desk",
        ),
    }
}

/// Counts a wrong attempt against the kiosk and, if known, the renovation; locks the
/// renovation (audited, desk alarmed) at the limit. Returns the refusal to give.
fn fail(
    tx: &Connection,
    actor: &Actor,
    device: &str,
    renovation: Option<&renovation::Renovation>,
    now: DateTime<Utc>,
) -> DeskResult<DeskError> {
    tx.prepare_cached("INSERT INTO kiosk_collect_failures (device_id, at) VALUES (?1, ?2)")?
        .execute(params![device, ts(now)])?;
    let Some(r) = renovation else {
        return Ok(not_found());
    };
    let failures: i64 = tx
        .prepare_cached(
            "UPDATE renovations SET collect_failures = collect_failures + 1 WHERE id = ?1
             RETURNING collect_failures",
        )?
        .query_row(params![r.id], |row| row.get(0))?;
    if failures < RENOVATION_FAILURES {
        return Ok(not_found());
    }
    tx.prepare_cached("UPDATE renovations SET collect_locked_at = ?2 WHERE id = ?1")?
        .execute(params![r.id, ts(now)])?;
    audit::record(
        tx,
        actor,
        "renovation.collection_locked",
        &format!("renovation:{}", r.id),
        serde_json::json!({ "failures": failures }),
        now,
    )?;
    alarms::raise_for_desk(
        tx,
        actor,
        device,
        DeviceAlarmKind::WorkerCardGuessing,
        format!(
            "worker-card collection for renovation {} ({}) locked after {failures} wrong attempts",
            r.code, r.unit.label
        ),
        now,
    )?;
    tracing::warn!(renovation = r.id, device, "worker-card collection locked");
    Ok(locked())
}

/// When renovation `id`'s kiosk collection was locked, if it is.
pub fn locked_at(conn: &Connection, renovation_id: i64) -> DeskResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT collect_locked_at FROM renovations WHERE id = ?1")?
        .query_row(params![renovation_id], |r| r.get(0))
        .optional()?
        .flatten())
}

/// The desk releases renovation `id`'s kiosk collection: the count starts again (audited).
pub fn release(
    tx: &Connection,
    actor: &Actor,
    renovation_id: i64,
    now: DateTime<Utc>,
) -> DeskResult<()> {
    let r = renovation::get(tx, renovation_id)?;
    let was = locked_at(tx, r.id)?;
    tx.prepare_cached(
        "UPDATE renovations SET collect_failures = 0, collect_locked_at = NULL WHERE id = ?1",
    )?
    .execute(params![r.id])?;
    audit::record(
        tx,
        actor,
        "renovation.collection_release",
        &format!("renovation:{}", r.id),
        serde_json::json!({ "was_locked": was.is_some() }),
        now,
    )?;
    Ok(())
}

/// What a kiosk's collection attempt asks for.
#[derive(Debug)]
pub struct Attempt<'a> {
    /// The renovation's kiosk code.
    pub renovation_code: &'a str,
    /// The last 4 characters of the worker's ID number.
    pub id_last4: &'a str,
    /// The one-time collection code.
    pub collection_code: Option<&'a str>,
}

/// A worker's card collected at the kiosk, with the masked name and the unit.
pub type Collected = (Issued, String, String);

/// A worker collecting their card at the kiosk; a refusal is committed with the wrong attempt
/// it counted. Refused with 409 `already_collected` once a kiosk printed the worker's card, and
/// 409 `issued_at_desk` (with the time) once the desk did.
pub fn collect(
    tx: &Connection,
    signer: &SigningKeys,
    key: &PersonalKey,
    actor: &Actor,
    attempt: &Attempt<'_>,
    now: DateTime<Utc>,
) -> Refusable<Collected> {
    let Some(device) = actor.device().map(|d| d.id.clone()) else {
        return Ok(Err(DeskError::invalid(
            "forbidden",
            "only a kiosk collects cards",
        )));
    };
    let code = match well_formed(attempt.collection_code) {
        Ok(code) => code,
        Err(e) => return Ok(Err(e)),
    };
    if let Some(retry_after_secs) = kiosk_wait(tx, &device, now)? {
        return Ok(Err(DeskError::Throttled { retry_after_secs }));
    }
    let Some(r) = renovation::by_code(tx, attempt.renovation_code)? else {
        return Ok(Err(fail(tx, actor, &device, None, now)?));
    };
    if locked_at(tx, r.id)?.is_some() {
        return Ok(Err(locked()));
    }
    let last4 = privacy::normalise_id(attempt.id_last4);
    let candidates: Vec<(i64, String, Option<String>)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id, name, collection_code_hash FROM workers
             WHERE renovation_id = ?1 AND id_last4 = ?2 AND purged_at IS NULL",
        )?;
        let rows = stmt.query_map(params![r.id, last4], |row| {
            Ok((
                row.get("id")?,
                row.get::<_, Option<String>>("name")?.unwrap_or_default(),
                row.get("collection_code_hash")?,
            ))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let matching = candidates
        .iter()
        .find(|(id, _, hash)| hash.as_deref() == Some(code_hash(key, *id, &code).as_str()));
    let Some((worker_id, name, _)) = matching else {
        return Ok(Err(fail(tx, actor, &device, Some(&r), now)?));
    };
    tx.prepare_cached("UPDATE renovations SET collect_failures = 0 WHERE id = ?1")?
        .execute(params![r.id])?;
    // The latest card says who printed it: a worker who already holds one from the desk is told
    // so, not that they collected it themselves.
    let latest: Option<(String, String)> = tx
        .prepare_cached(
            "SELECT issued_by, issued_at FROM cards WHERE worker_id = ?1 ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![worker_id], |row| {
            Ok((row.get("issued_by")?, row.get("issued_at")?))
        })
        .optional()?;
    if let Some((issued_by, issued_at)) = latest {
        return Ok(Err(earlier_card(&issued_by, &issued_at)));
    }
    let issued = card::issue_worker_card(tx, signer, actor, *worker_id, None, now)?;
    Ok(Ok((issued, privacy::mask_name(name), r.unit.label)))
}

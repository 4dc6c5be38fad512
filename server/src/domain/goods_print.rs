//! Goods-release permits on a kiosk's receipt printer: the desk sends an approved permit to a
//! kiosk of its choice (usually the one beside the desk), the kiosk takes each job once and
//! prints it with the same encoder as its passes, and reports what became of the slip.
//! Sending is audited; the result shows on the permit's page.

use super::desk_error::{DeskError, DeskResult};
use super::goods::{self, Applicant, PermitState};
use crate::audit;
use crate::auth::Actor;
use crate::db::{instant, opt_instant, ts};
use chrono::{DateTime, Utc};
use gatehouse_credential::api::print::{PermitLine, PermitSlip};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// A permit sent to a kiosk's printer, and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PrintJob {
    /// Its number.
    pub id: i64,
    /// The permit.
    pub permit_id: u32,
    /// The kiosk's device id.
    pub device_id: String,
    /// The kiosk's name.
    pub kiosk: String,
    /// When the desk sent it (UTC).
    #[serde(serialize_with = "crate::db::ts_json")]
    pub requested_at: DateTime<Utc>,
    /// Who sent it.
    pub requested_by: String,
    /// When the kiosk took it.
    #[serde(serialize_with = "crate::db::opt_ts_json")]
    pub taken_at: Option<DateTime<Utc>>,
    /// When the kiosk reported the result.
    #[serde(serialize_with = "crate::db::opt_ts_json")]
    pub done_at: Option<DateTime<Utc>>,
    /// Whether the slip came out (none before the kiosk reports).
    pub printed: Option<bool>,
    /// The printer's paper state the kiosk reported.
    pub paper: Option<String>,
}

/// The paper states a kiosk may report (its printer's words).
pub const PAPER_STATES: [&str; 6] = [
    "ok",
    "near_end",
    "out",
    "cover_open",
    "offline",
    "unchecked",
];

/// A kiosk the desk can print on: enrolled and not revoked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Kiosk {
    /// Its device id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// The kiosks a permit can be printed on, by name.
pub fn kiosks(conn: &Connection) -> DeskResult<Vec<Kiosk>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name FROM devices WHERE kind = 'kiosk' AND enrolled_at IS NOT NULL AND revoked_at IS NULL ORDER BY name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Kiosk {
            id: r.get("id")?,
            name: r.get("name")?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

const JOB_COLUMNS: &str = "j.id, j.permit_id, j.device_id, d.name AS kiosk, j.requested_at, j.requested_by, j.taken_at, j.done_at, j.printed, j.paper";

fn job_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PrintJob> {
    Ok(PrintJob {
        id: r.get("id")?,
        permit_id: r.get("permit_id")?,
        device_id: r.get("device_id")?,
        kiosk: r.get("kiosk")?,
        requested_at: instant(r, "requested_at")?,
        requested_by: r.get("requested_by")?,
        taken_at: opt_instant(r, "taken_at")?,
        done_at: opt_instant(r, "done_at")?,
        printed: r.get("printed")?,
        paper: r.get("paper")?,
    })
}

/// The print jobs of permit `permit_id`, newest first.
pub fn jobs_of(conn: &Connection, permit_id: u32) -> DeskResult<Vec<PrintJob>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {JOB_COLUMNS} FROM kiosk_print_jobs j JOIN devices d ON d.id = j.device_id
         WHERE j.permit_id = ?1 ORDER BY j.id DESC LIMIT 20"
    ))?;
    let rows = stmt.query_map(params![permit_id], job_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Sends approved permit `permit_id` to kiosk `device_id`'s printer; audited.
pub fn send(
    tx: &Connection,
    actor: &Actor,
    permit_id: u32,
    device_id: &str,
    now: DateTime<Utc>,
) -> DeskResult<PrintJob> {
    let permit = goods::get(tx, permit_id)?;
    if permit.state != PermitState::Approved {
        return Err(DeskError::conflict(
            "permit_not_approved",
            format!(
                "permit {permit_id} is {}: only an approved permit is printed",
                permit.state.words()
            ),
        ));
    }
    if !kiosks(tx)?.iter().any(|k| k.id == device_id) {
        return Err(DeskError::invalid(
            "unknown_kiosk",
            format!("\"{device_id}\" is no enrolled kiosk: pick one from the list"),
        ));
    }
    tx.prepare_cached(
        "INSERT INTO kiosk_print_jobs (device_id, permit_id, requested_at, requested_by) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![device_id, permit_id, ts(now), actor.audit_name()])?;
    let id = tx.last_insert_rowid();
    audit::record(
        tx,
        actor,
        "goods.kiosk_print",
        &format!("permit:{permit_id}"),
        serde_json::json!({"job": id, "kiosk": device_id}),
        now,
    )?;
    job(tx, id)
}

fn job(conn: &Connection, id: i64) -> DeskResult<PrintJob> {
    conn.prepare_cached(&format!(
        "SELECT {JOB_COLUMNS} FROM kiosk_print_jobs j JOIN devices d ON d.id = j.device_id WHERE j.id = ?1"
    ))?
    .query_row(params![id], job_from_row)
    .optional()?
    .ok_or_else(|| DeskError::NotFound(format!("there is no print job {id}")))
}

/// Whether a slip waits for kiosk `device_id`.
pub fn waiting(conn: &Connection, device_id: &str) -> DeskResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM kiosk_print_jobs WHERE device_id = ?1 AND taken_at IS NULL)",
        )?
        .query_row(params![device_id], |r| r.get(0))?)
}

/// Hands kiosk `device_id` the slips waiting for it, each once. A permit used or purged
/// since it was sent is not printed: its job ends as not printed (`withdrawn`).
pub fn take(tx: &Connection, device_id: &str, now: DateTime<Utc>) -> DeskResult<Vec<PermitSlip>> {
    let waiting: Vec<(i64, u32)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id, permit_id FROM kiosk_print_jobs WHERE device_id = ?1 AND taken_at IS NULL ORDER BY id",
        )?;
        let rows = stmt.query_map(params![device_id], |r| {
            Ok((r.get("id")?, r.get("permit_id")?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut slips = Vec::new();
    for (job_id, permit_id) in waiting {
        let permit = goods::get(tx, permit_id)?;
        let credential = goods::credential(tx, permit_id)?;
        match credential.filter(|_| permit.state == PermitState::Approved) {
            Some(credential) => {
                tx.prepare_cached("UPDATE kiosk_print_jobs SET taken_at = ?2 WHERE id = ?1")?
                    .execute(params![job_id, ts(now)])?;
                slips.push(PermitSlip {
                    job_id,
                    permit_id,
                    credential,
                    unit_label: permit.unit_label,
                    applicant: match permit.applicant {
                        Applicant::Owner => "owner".into(),
                        Applicant::Tenant => "tenant".into(),
                    },
                    applicant_masked: permit.applicant_masked,
                    items: permit
                        .items
                        .into_iter()
                        .map(|i| PermitLine {
                            description: i.description,
                            count: i.count,
                        })
                        .collect(),
                    plate: permit.plate,
                    valid_from: permit.valid_from,
                    valid_to: permit.valid_to,
                    notes: permit.notes,
                });
            }
            None => {
                tx.prepare_cached(
                    "UPDATE kiosk_print_jobs SET taken_at = ?2, done_at = ?2, printed = 0, paper = 'withdrawn' WHERE id = ?1",
                )?
                .execute(params![job_id, ts(now)])?;
            }
        }
    }
    Ok(slips)
}

/// Kiosk `device_id` reports what became of job `job_id` (once).
pub fn report(
    tx: &Connection,
    device_id: &str,
    job_id: i64,
    printed: bool,
    paper: &str,
    now: DateTime<Utc>,
) -> DeskResult<()> {
    if !PAPER_STATES.contains(&paper) {
        return Err(DeskError::invalid(
            "invalid",
            format!("paper is one of {}", PAPER_STATES.join(", ")),
        ));
    }
    let n = tx
        .prepare_cached(
            "UPDATE kiosk_print_jobs SET done_at = ?3, printed = ?4, paper = ?5
             WHERE id = ?1 AND device_id = ?2 AND taken_at IS NOT NULL AND done_at IS NULL",
        )?
        .execute(params![job_id, device_id, ts(now), printed, paper])?;
    if n == 0 {
        return Err(DeskError::NotFound(format!(
            "this kiosk has no print job {job_id} waiting for its result"
        )));
    }
    Ok(())
}

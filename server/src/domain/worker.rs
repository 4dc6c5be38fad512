//! Renovation workers: a name, a phone and the ID number kept only as a keyed hash (see
//! [`privacy::id_hash`]) plus its last 4 characters.

use super::desk_error::{DeskError, DeskResult};
use super::{collection, privacy, renovation};
use crate::audit;
use crate::auth::Actor;
use crate::db::{instant, ts};
use crate::keys::personal::PersonalKey;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

/// What the desk types to register a worker.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
pub struct NewWorker {
    /// Real name.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// The ID number; hashed at once, never stored or echoed.
    pub id_number: String,
}

impl std::fmt::Debug for NewWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewWorker").finish_non_exhaustive()
    }
}

/// A worker as shown: masked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Worker {
    /// Database id.
    pub id: i64,
    /// The renovation.
    pub renovation_id: i64,
    /// Name with the middle hidden.
    pub name_masked: String,
    /// Phone with the middle hidden.
    pub phone_masked: String,
    /// The last 4 characters of the ID number.
    pub id_last4: String,
    /// When registered (UTC).
    pub created_at: DateTime<Utc>,
    /// Who registered the worker.
    pub created_by: String,
    /// The one-time code the worker types at the kiosk to collect their card: present only in
    /// the answer to the registration, for the desk to give the contractor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection_code: Option<String>,
}

/// Registers a worker on a renovation and audits it (ids only).
pub fn create(
    tx: &Connection,
    key: &PersonalKey,
    actor: &Actor,
    renovation_id: i64,
    new: &NewWorker,
    now: DateTime<Utc>,
) -> DeskResult<Worker> {
    let r = renovation::get(tx, renovation_id)?;
    renovation::allows(&r, renovation::Activity::AddWorker)?;
    let name = privacy::person_text("name", &new.name, 64)
        .map_err(|m| DeskError::invalid("invalid", m))?;
    let phone = privacy::valid_phone(&new.phone).map_err(|m| DeskError::invalid("invalid", m))?;
    let id_number = privacy::normalise_id(&new.id_number);
    if !privacy::valid_id_number(&id_number) {
        return Err(DeskError::invalid(
            "invalid",
            "id_number must be 6–32 letters and digits",
        ));
    }
    let hash = privacy::id_hash(key, &id_number);
    let twice: bool = tx.query_row(
        "SELECT EXISTS(SELECT 1 FROM workers WHERE renovation_id = ?1 AND id_hash = ?2) AS twice",
        params![renovation_id, hash],
        |r| r.get("twice"),
    )?;
    if twice {
        return Err(DeskError::conflict(
            "already_registered",
            "this ID number is already registered on this renovation",
        ));
    }
    let last4 = privacy::id_last4(&id_number);
    tx.execute(
        "INSERT INTO workers (renovation_id, name, phone, id_hash, id_last4, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![renovation_id, name, phone, hash, last4, ts(now), actor.audit_name()],
    )?;
    let id = tx.last_insert_rowid();
    audit::record(
        tx,
        actor,
        "worker.create",
        &format!("worker:{id}"),
        serde_json::json!({"renovation": renovation_id}),
        now,
    )?;
    let code = collection::new_code(tx, key, actor, id, now)?;
    Ok(Worker {
        id,
        renovation_id,
        name_masked: privacy::mask_name(&name),
        phone_masked: privacy::mask_phone(&phone),
        id_last4: last4,
        created_at: now,
        created_by: actor.audit_name(),
        collection_code: Some(code.collection_code),
    })
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Worker> {
    let name: Option<String> = r.get("name")?;
    let phone: Option<String> = r.get("phone")?;
    Ok(Worker {
        id: r.get("id")?,
        renovation_id: r.get("renovation_id")?,
        name_masked: name.map(|n| privacy::mask_name(&n)).unwrap_or_default(),
        phone_masked: phone.map(|p| privacy::mask_phone(&p)).unwrap_or_default(),
        id_last4: r.get("id_last4")?,
        created_at: instant(r, "created_at")?,
        created_by: r.get("created_by")?,
        collection_code: None,
    })
}

/// The workers of a renovation.
pub fn of_renovation(conn: &Connection, renovation_id: i64) -> DeskResult<Vec<Worker>> {
    let mut stmt = conn.prepare(
        "SELECT id, renovation_id, name, phone, id_last4, created_at, created_by FROM workers WHERE renovation_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![renovation_id], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

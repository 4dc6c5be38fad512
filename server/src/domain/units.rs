//! The estate's units as a card's scope and the desk's forms need them.

use super::desk_error::{DeskError, DeskResult};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

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
    let building: i64 = r.get("building")?;
    let floor: i64 = r.get("floor")?;
    Ok(Unit {
        id: r.get("id")?,
        label: r.get("label")?,
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

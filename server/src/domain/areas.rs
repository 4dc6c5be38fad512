//! Anti-passback areas: a manager says which gates belong to which area, and the server passes
//! a gate's passage on to the area's other doors only when the gate is a member. A gate that
//! names an area it does not belong to — a stolen or misconfigured gate key — cannot make a
//! real door refuse a card it has never seen.

use super::desk_error::{DeskError, DeskResult};
use crate::audit;
use crate::auth::Actor;
use crate::db::ts;
use chrono::{DateTime, Utc};
use gatehouse_credential::api::gate::AreaName;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most gates one area may have.
pub const MAX_MEMBERS: usize = 64;

/// An area and its member gates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Area {
    /// The area's name, as the gates' `anti_passback_area` names it.
    #[schema(value_type = String)]
    pub area: AreaName,
    /// The device ids of its gates.
    pub gates: Vec<String>,
}

/// `PUT /api/v1/areas/{area}` body: the area's gates, replacing the previous list.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct Members {
    /// Device ids of enrolled, unrevoked gates (an empty list dissolves the area).
    pub gates: Vec<String>,
}

/// Whether gate `device_id` belongs to `area`.
pub fn is_member(conn: &Connection, area: &AreaName, device_id: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS(SELECT 1 FROM area_members WHERE area = ?1 AND device_id = ?2)",
    )?
    .query_row(params![area.as_str(), device_id], |r| r.get(0))
}

/// Every area with its gates, by name.
pub fn list(conn: &Connection) -> DeskResult<Vec<Area>> {
    let mut stmt =
        conn.prepare_cached("SELECT area, device_id FROM area_members ORDER BY area, device_id")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>("area")?,
            r.get::<_, String>("device_id")?,
        ))
    })?;
    let mut areas: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in rows {
        let (area, device) = row?;
        areas.entry(area).or_default().push(device);
    }
    areas
        .into_iter()
        .map(|(area, gates)| {
            let area = AreaName::try_from(area)
                .map_err(|e| DeskError::invalid("invalid", format!("a stored area name: {e}")))?;
            Ok(Area { area, gates })
        })
        .collect()
}

/// Sets the gates of `area` (audited with the lists before and after).
pub fn set(
    tx: &Connection,
    actor: &Actor,
    area: &AreaName,
    members: &Members,
    now: DateTime<Utc>,
) -> DeskResult<Area> {
    if members.gates.len() > MAX_MEMBERS {
        return Err(DeskError::invalid(
            "invalid",
            format!("an area has at most {MAX_MEMBERS} gates"),
        ));
    }
    let mut gates = members.gates.clone();
    gates.sort();
    gates.dedup();
    for id in &gates {
        let known: Option<(String, Option<String>)> = tx
            .prepare_cached("SELECT kind, revoked_at FROM devices WHERE id = ?1")?
            .query_row(params![id], |r| Ok((r.get("kind")?, r.get("revoked_at")?)))
            .optional()?;
        match known {
            Some((kind, None)) if kind == "gate" => {}
            Some((kind, None)) => {
                return Err(DeskError::invalid(
                    "not_a_gate",
                    format!("device {id} is a {kind}, not a gate"),
                ));
            }
            Some((_, Some(_))) => {
                return Err(DeskError::invalid(
                    "device_revoked",
                    format!("device {id} is revoked"),
                ));
            }
            None => {
                return Err(DeskError::invalid(
                    "unknown_device",
                    format!("there is no device {id}"),
                ));
            }
        }
    }
    let before: Vec<String> = {
        let mut stmt = tx.prepare_cached(
            "SELECT device_id FROM area_members WHERE area = ?1 ORDER BY device_id",
        )?;
        let rows = stmt.query_map(params![area.as_str()], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    tx.prepare_cached("DELETE FROM area_members WHERE area = ?1")?
        .execute(params![area.as_str()])?;
    for id in &gates {
        tx.prepare_cached(
            "INSERT INTO area_members (area, device_id, set_by, set_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![area.as_str(), id, actor.audit_name(), ts(now)])?;
    }
    audit::record(
        tx,
        actor,
        "area.members",
        &format!("area:{}", area.as_str()),
        serde_json::json!({ "before": before, "after": gates }),
        now,
    )?;
    Ok(Area {
        area: area.clone(),
        gates,
    })
}

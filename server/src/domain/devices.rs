//! Kiosk and gate devices: creation with a one-time enrolment token, enrolment (token → API
//! key), listing and revocation. Only hashes of tokens and keys are stored.

use crate::audit;
use crate::auth::{Actor, Device, new_secret, secret_hash};
use crate::db::{instant, opt_instant, parse_ts, ts};
use chrono::{DateTime, Duration, Utc};
use gatehouse_credential::Zone;
use gatehouse_credential::api::device::{DeviceKind, EnrolResponse};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// How long an enrolment token stays usable.
pub const ENROLMENT_TTL: Duration = Duration::hours(24);

/// Why a device operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The enrolment token is unknown, used or expired.
    #[error(
        "this enrolment token is unknown, already used or expired; ask a manager for a new one"
    )]
    BadToken,
    /// No such device.
    #[error("no device with id `{0}`")]
    NotFound(String),
    /// Invalid input.
    #[error("{0}")]
    Invalid(String),
    /// A gate's zone names a building the estate does not have.
    #[error("there is no building {0}; add it first, or give the gate's own building")]
    UnknownBuilding(u8),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] rusqlite::Error),
}

/// A device as a manager sees it (never its key).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeviceInfo {
    /// Device id.
    pub device_id: String,
    /// `gate` or `kiosk`.
    pub kind: DeviceKind,
    /// Name.
    pub name: String,
    /// The door a gate guards.
    pub zone: Option<Zone>,
    /// `awaiting_enrolment`, `enrolled` or `revoked`.
    pub state: &'static str,
    /// When created (UTC).
    #[serde(serialize_with = "crate::db::ts_json")]
    pub created_at: DateTime<Utc>,
    /// When it last called the server (UTC, to the minute), if ever: a gate not seen for long
    /// is offline and has not learned the latest revocations or keys.
    #[serde(serialize_with = "crate::db::opt_ts_json")]
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// A new device and its one-time enrolment token.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewDevice {
    /// The device's id.
    pub device_id: String,
    /// Give this to the device; it is shown only once.
    pub enrolment_token: String,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
}

fn kind_str(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Gate => "gate",
        DeviceKind::Kiosk => "kiosk",
    }
}

fn parse_kind(s: &str) -> DeviceKind {
    if s == "gate" {
        DeviceKind::Gate
    } else {
        DeviceKind::Kiosk
    }
}

/// A device name trimmed, or why it is not one.
fn valid_name(name: &str) -> Result<&str, DeviceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(DeviceError::Invalid(
            "a device name is 1–64 characters, none of them control characters".into(),
        ));
    }
    Ok(name)
}

/// Creates a device awaiting enrolment.
pub fn create(
    tx: &Connection,
    actor: &Actor,
    kind: DeviceKind,
    name: &str,
    zone: Option<&Zone>,
    now: DateTime<Utc>,
) -> Result<NewDevice, DeviceError> {
    let name = valid_name(name)?;
    if zone.is_some() && kind != DeviceKind::Gate {
        return Err(DeviceError::Invalid("only a gate has a zone".into()));
    }
    if let Some(z) = zone {
        if z.class.is_per_floor() != z.floor.is_some() {
            return Err(DeviceError::Invalid(
                "a `floor` zone needs a floor; other zones must not have one".into(),
            ));
        }
        // Checked once the estate's buildings are recorded (none yet: the setup is under way).
        if super::estate::has_buildings(tx)? && !super::estate::building_exists(tx, z.building)? {
            return Err(DeviceError::UnknownBuilding(z.building));
        }
    }
    let id = uuid::Uuid::new_v4().to_string();
    let token = new_secret();
    let expires_at = now + ENROLMENT_TTL;
    let zone_json = zone
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| DeviceError::Invalid(e.to_string()))?;
    tx.execute(
        "INSERT INTO devices (id, kind, name, zone, enrolment_token_hash, enrolment_expires_at, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![id, kind_str(kind), name, zone_json, secret_hash(&token), ts(expires_at), ts(now), actor.audit_name()],
    )?;
    audit::record(
        tx,
        actor,
        "device.create",
        &format!("device:{id}"),
        serde_json::json!({ "kind": kind_str(kind), "name": name, "zone": zone }),
        now,
    )?;
    Ok(NewDevice {
        device_id: id,
        enrolment_token: token,
        expires_at,
    })
}

/// Exchanges a one-time enrolment token for the device's API key.
pub fn enrol(
    tx: &Connection,
    token: &str,
    now: DateTime<Utc>,
) -> Result<EnrolResponse, DeviceError> {
    let row = tx
        .query_row(
            "SELECT id, kind, name, enrolment_expires_at FROM devices
             WHERE enrolment_token_hash = ?1 AND revoked_at IS NULL",
            params![secret_hash(token.trim())],
            |r| {
                Ok((
                    r.get::<_, String>("id")?,
                    r.get::<_, String>("kind")?,
                    r.get::<_, String>("name")?,
                    r.get::<_, Option<String>>("enrolment_expires_at")?,
                ))
            },
        )
        .optional()?;
    let Some((id, kind, name, expires_at)) = row else {
        return Err(DeviceError::BadToken);
    };
    let expired = match expires_at {
        Some(t) => parse_ts(&t)? <= now,
        None => true,
    };
    if expired {
        return Err(DeviceError::BadToken);
    }
    let api_key = new_secret();
    tx.execute(
        "UPDATE devices SET api_key_hash = ?1, enrolment_token_hash = NULL, enrolment_expires_at = NULL, enrolled_at = ?2
         WHERE id = ?3",
        params![secret_hash(&api_key), ts(now), id],
    )?;
    let kind = parse_kind(&kind);
    let device = Device {
        id: id.clone(),
        name: name.clone(),
    };
    let actor = match kind {
        DeviceKind::Gate => Actor::Gate(device),
        DeviceKind::Kiosk => Actor::Kiosk(device),
    };
    audit::record(
        tx,
        &actor,
        "device.enrol",
        &format!("device:{id}"),
        serde_json::json!({}),
        now,
    )?;
    Ok(EnrolResponse {
        device_id: id,
        kind,
        name,
        api_key,
    })
}

/// Every device, newest first.
pub fn list(conn: &Connection) -> Result<Vec<DeviceInfo>, DeviceError> {
    let mut stmt = conn.prepare(
        "SELECT id, kind, name, zone, api_key_hash IS NOT NULL AS enrolled,
                revoked_at IS NOT NULL AS revoked, created_at,
                last_seen_at
         FROM devices ORDER BY created_at DESC",
    )?;
    let rows = stmt.query_map([], |r| {
        let zone: Option<String> = r.get("zone")?;
        let enrolled: bool = r.get("enrolled")?;
        let revoked: bool = r.get("revoked")?;
        Ok(DeviceInfo {
            device_id: r.get("id")?,
            kind: parse_kind(&r.get::<_, String>("kind")?),
            name: r.get("name")?,
            zone: zone.and_then(|z| serde_json::from_str(&z).ok()),
            state: if revoked {
                "revoked"
            } else if enrolled {
                "enrolled"
            } else {
                "awaiting_enrolment"
            },
            created_at: instant(r, "created_at")?,
            last_seen_at: opt_instant(r, "last_seen_at")?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The device `id`, if it exists.
pub fn get(conn: &Connection, id: &str) -> Result<DeviceInfo, DeviceError> {
    list(conn)?
        .into_iter()
        .find(|d| d.device_id == id)
        .ok_or_else(|| DeviceError::NotFound(id.to_owned()))
}

/// Renames device `id` (not a retired one); audited with the old and the new name.
pub fn rename(
    tx: &Connection,
    actor: &Actor,
    id: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<DeviceInfo, DeviceError> {
    let name = valid_name(name)?;
    let before = get(tx, id)?;
    if before.state == "revoked" {
        return Err(DeviceError::NotFound(id.to_owned()));
    }
    tx.execute(
        "UPDATE devices SET name = ?2 WHERE id = ?1",
        params![id, name],
    )?;
    audit::record(
        tx,
        actor,
        "device.rename",
        &format!("device:{id}"),
        serde_json::json!({ "from": before.name, "to": name }),
        now,
    )?;
    Ok(DeviceInfo {
        name: name.to_owned(),
        ..before
    })
}

/// Revokes a device: its key and any unused token stop working at once.
pub fn revoke(
    tx: &Connection,
    actor: &Actor,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), DeviceError> {
    let n = tx.execute(
        "UPDATE devices SET revoked_at = ?1, api_key_hash = NULL, enrolment_token_hash = NULL
         WHERE id = ?2 AND revoked_at IS NULL",
        params![ts(now), id],
    )?;
    if n == 0 {
        return Err(DeviceError::NotFound(id.to_owned()));
    }
    audit::record(
        tx,
        actor,
        "device.revoke",
        &format!("device:{id}"),
        serde_json::json!({}),
        now,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_enrols_once_and_expires() {
        let conn = crate::store::in_memory().unwrap();
        let now = Utc::now();
        let d = create(
            &conn,
            &Actor::Anonymous,
            DeviceKind::Gate,
            "lobby",
            None,
            now,
        )
        .unwrap();
        let r = enrol(&conn, &d.enrolment_token, now).unwrap();
        assert_eq!(r.device_id, d.device_id);
        assert!(matches!(
            enrol(&conn, &d.enrolment_token, now),
            Err(DeviceError::BadToken)
        ));
        let late = create(&conn, &Actor::Anonymous, DeviceKind::Kiosk, "k", None, now).unwrap();
        assert!(matches!(
            enrol(&conn, &late.enrolment_token, now + ENROLMENT_TTL),
            Err(DeviceError::BadToken)
        ));
    }
}

//! The muster list (roll call): everyone who may be inside the building right now.
//!
//! - `GET /api/v1/muster` → [`MusterList`], for the desk, the manager and the kiosk (which keeps
//!   a recent copy to print when the server is gone).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Everyone who may be inside, as the server knew it at `generated_at`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MusterList {
    /// When the server made the list (UTC); a printed copy shows it.
    pub generated_at: DateTime<Utc>,
    /// The estate's time zone name (IANA), for printing local times.
    pub time_zone: String,
    /// Visitors signed in and not out, then workers seen inside today.
    pub people: Vec<MusterPerson>,
    /// How many people per building and floor.
    pub counts: Vec<MusterCount>,
}

/// Who a muster entry is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MusterKind {
    /// A visitor with a pass not signed out.
    Visitor,
    /// A renovation worker whose card was seen inside today.
    Worker,
}

/// One person who may be inside.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MusterPerson {
    /// Visitor or worker.
    pub kind: MusterKind,
    /// The card or pass number.
    pub card_id: u32,
    /// The name, masked as on every screen (e.g. `张*`).
    pub name_masked: String,
    /// The unit visited or being renovated, e.g. `2-1004`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Building name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building: Option<String>,
    /// Floor, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<i32>,
    /// Whom a visitor came to see, or the worker's contractor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Signed in (visitor) or first seen today (worker).
    pub since: DateTime<Utc>,
    /// The last door that admitted them, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_door: Option<String>,
    /// When that door admitted them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_at: Option<DateTime<Utc>>,
    /// When a person ticked them off as found, if anyone has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_at: Option<DateTime<Utc>>,
    /// Who ticked them off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_by: Option<String>,
}

/// How many people may be on one floor of one building.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MusterCount {
    /// Building name, or absent when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building: Option<String>,
    /// Floor, or absent when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<i32>,
    /// People there.
    pub count: u32,
}

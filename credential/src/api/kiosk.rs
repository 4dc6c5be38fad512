//! Kiosk calls (device key of kind `kiosk`).
//!
//! - `GET  /api/v1/kiosk/units` → `Vec<UnitChoice>`: the units a visitor can pick.
//! - `POST /api/v1/kiosk/visitors` with [`VisitorRequest`] → [`IssuedPass`] (201), or 403
//!   `see_front_desk` for a deny-listed visitor (the message stays neutral), or 409
//!   `host_approval_pending` when the estate makes walk-ins wait for the host's approval (the
//!   visit is recorded; the desk issues the pass).
//! - `POST /api/v1/kiosk/invites/redeem` with [`InviteRedeem`] → [`IssuedPass`].
//! - `POST /api/v1/kiosk/sign-out` with [`SignOutRequest`] → [`SignOutResponse`].
//! - `POST /api/v1/kiosk/worker-cards` with [`WorkerCardRequest`] → [`IssuedPass`]; 409
//!   `already_collected` when a kiosk printed the card before (a reprint needs the desk); 409
//!   `issued_at_desk` when the desk did, with `details.issued_at` (RFC 3339); 409
//!   `collection_locked` after too many wrong attempts for the renovation (the desk releases
//!   it); 429 when this kiosk made too many wrong attempts lately.

use crate::claims::{CardId, Kind};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A unit a visitor may choose.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitChoice {
    /// The unit's id.
    pub unit_id: i64,
    /// e.g. "2-1203" (building-unit).
    pub label: String,
    /// Building number.
    pub building: u8,
    /// Floor.
    pub floor: i8,
}

/// A visitor registering at the kiosk.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VisitorRequest {
    /// The visitor's name.
    pub name: String,
    /// The unit visited.
    pub unit_id: i64,
    /// Whom they visit, if they said.
    #[serde(default)]
    pub host_name: Option<String>,
    /// Why they come.
    pub purpose: String,
    /// How many people, 1–20.
    pub party_size: u8,
    /// Phone, optional.
    #[serde(default)]
    pub phone: Option<String>,
}

/// A pre-registration code typed or scanned at the kiosk.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InviteRedeem {
    /// The short code.
    pub code: String,
}

/// A pass or card ready to show and print.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedPass {
    /// The card's number.
    pub card_id: CardId,
    /// Visitor or worker.
    pub kind: Kind,
    /// The credential text, exactly what the QR code must carry.
    pub credential: String,
    /// A short id a visitor can type to sign out.
    pub short_id: String,
    /// The holder's name, masked for paper and screen (e.g. "张*明").
    pub holder_masked: String,
    /// The unit visited or renovated, e.g. "2-1203".
    pub unit_label: String,
    /// Start of validity.
    pub not_before: DateTime<Utc>,
    /// End of validity (exclusive), as printed.
    pub not_after: DateTime<Utc>,
    /// For worker cards after an extension: the local date it is extended to (延期至).
    #[serde(default)]
    pub extended_to: Option<NaiveDate>,
}

/// Signing out: the pass's text as scanned, or its short id as typed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignOutRequest {
    /// A credential text or a short id.
    pub pass: String,
}

/// The answer to a sign-out.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignOutResponse {
    /// The pass signed out.
    pub card_id: CardId,
    /// The masked name, for the goodbye screen.
    pub holder_masked: String,
}

/// A worker collecting their card.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkerCardRequest {
    /// The renovation's code, as given by the desk.
    pub renovation_code: String,
    /// The last 4 characters of the worker's ID number.
    pub id_last4: String,
    /// The one-time collection code (6–12 digits) the front desk gave the contractor for this
    /// worker; the server refuses a collection without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection_code: Option<String>,
}

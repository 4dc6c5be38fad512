//! Slips the desk sends to a kiosk's receipt printer (device key of kind `kiosk`).
//!
//! - `GET  /api/v1/kiosk/print-jobs?wait_ms=N` → `Vec<PermitSlip>`: the slips waiting for this
//!   kiosk, each handed out once (a long poll: answered at once when one is waiting, else when
//!   one arrives or after `wait_ms`, at most 30 000).
//! - `POST /api/v1/kiosk/print-jobs/{job_id}/result` with [`PrintResult`] → 204: what became
//!   of the slip, for the desk to see.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One line of goods on a permit.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermitLine {
    /// What it is.
    pub description: String,
    /// How many.
    pub count: u32,
}

/// An approved goods-release permit (物品放行单) to print on the kiosk's receipt printer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermitSlip {
    /// The print job, for the result.
    pub job_id: i64,
    /// The permit's number (also its card number at the gates).
    pub permit_id: u32,
    /// The credential text, exactly what the QR code must carry.
    pub credential: String,
    /// The unit the goods leave from, e.g. "2-1203".
    pub unit_label: String,
    /// `owner` or `tenant`.
    pub applicant: String,
    /// The applicant's name, masked for paper (e.g. "张*明").
    pub applicant_masked: String,
    /// The goods.
    pub items: Vec<PermitLine>,
    /// The vehicle's plate, if any.
    #[serde(default)]
    pub plate: Option<String>,
    /// First day valid (the estate's date).
    pub valid_from: NaiveDate,
    /// Last day valid (the estate's date).
    pub valid_to: NaiveDate,
    /// The desk's notes.
    #[serde(default)]
    pub notes: String,
}

/// What became of a slip at the kiosk.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintResult {
    /// Whether the slip came out.
    pub printed: bool,
    /// The printer's paper state afterwards (`ok`, `near_end`, `out`, `cover_open`,
    /// `offline`, `unchecked`).
    pub paper: String,
}

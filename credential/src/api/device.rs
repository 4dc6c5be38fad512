//! Device enrolment: `POST /api/v1/devices/enrol` with a one-time token (no auth header).

use serde::{Deserialize, Serialize};

/// What kind of device an enrolment is for.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// A lobby kiosk.
    Kiosk,
    /// A gate controller.
    Gate,
}

/// The request body of `POST /api/v1/devices/enrol`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EnrolRequest {
    /// The one-time enrolment token a manager created.
    pub token: String,
}

/// The answer to an enrolment: the device's id and its API key, shown only this once.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EnrolResponse {
    /// The device's id on the server.
    pub device_id: String,
    /// Its kind.
    pub kind: DeviceKind,
    /// Its name, as the manager gave it.
    pub name: String,
    /// The bearer token for every later call; the server keeps only its hash.
    pub api_key: String,
}

/// Something at a device that needs a person at the front desk.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceAlarmKind {
    /// The kiosk printer has no paper: passes are shown on screen only.
    PaperOut,
    /// The kiosk printer's roll is nearly used up.
    PaperNearEnd,
    /// The kiosk printer does not answer.
    PrinterOffline,
    /// A door stayed open past its allowed time.
    DoorHeldOpen,
    /// A door opened with no admit and no exit request.
    DoorForced,
    /// A gate does not trust its clock.
    UntrustedClock,
    /// A scanner vanished or cannot be opened.
    ScannerLost,
    /// The kiosk printer's cover is open or it is offline for another cause it reports.
    PrinterCoverOpen,
    /// A scanner module lost its settings (a reset) or does not answer setup commands.
    ScannerMisconfigured,
    /// A gate's fire-alarm input is active: its releasing doors stand open.
    FireAlarm,
    /// A gate's trusted time was corrected back by the server's: it had run ahead.
    ClockCorrected,
    /// Someone at a kiosk guessed worker-card details until the renovation's kiosk collection
    /// was locked (raised by the server, never by a device).
    WorkerCardGuessing,
    /// A visitor at a kiosk gave no phone and matches a deny-list entry (that has one) by name:
    /// the desk checks who it is (raised by the server).
    DenyListCheck,
}

/// `POST /api/v1/device/alarms` body: a device raises an alarm, or says its cause is gone.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmReport {
    /// What.
    pub kind: DeviceAlarmKind,
    /// `true` raises (or confirms) the alarm, `false` clears it.
    pub active: bool,
    /// A short note for the desk, at most 200 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

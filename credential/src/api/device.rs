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

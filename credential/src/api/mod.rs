//! The JSON bodies that cross the wire between the server and its devices. Both sides use these
//! types, so a change here is a protocol change: add fields with `#[serde(default)]`.
//!
//! Every device call carries `Authorization: Bearer <api key>` from enrolment.

pub mod device;
pub mod gate;
pub mod kiosk;
pub mod muster;
pub mod print;

use serde::{Deserialize, Serialize};

/// The body of every error response: a stable code and a sentence a person can act on.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable snake_case code, e.g. `not_found`, `refund_rules_unmet`.
    pub error: String,
    /// What is wrong, in words.
    pub message: String,
}

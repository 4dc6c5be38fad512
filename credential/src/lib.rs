//! The Gatehouse credential and the types that cross the wire between the programs.
//!
//! A credential is 17 bytes of claims followed by a 64-byte Ed25519 signature, written as
//! RFC 9285 base45 text so it rides in a QR code's alphanumeric mode and through a serial
//! scanner as plain text. `FORMAT.md` beside this crate is the normative description.
//!
//! This crate does no I/O beyond reading and writing key files, and depends on no async
//! runtime, web framework, database or GPIO library.

pub mod api;
pub mod claims;
pub mod codec;
pub mod error;
pub mod keys;
pub mod qr;
pub mod schedule;
pub mod time;
pub mod zone;

pub use claims::{CardId, Claims, Credential, Kind};
pub use codec::{MAX_TEXT_LEN, decode, encode_unsigned, issue};
pub use error::{CredentialError, IssueError, KeyFileError};
pub use keys::{KeyId, KeyRing, PublicKeyInfo, Signer};
pub use qr::Qr;
pub use schedule::{Schedule, ScheduleId, TimeWindow, WorkCalendar};
pub use time::UtcMinute;
pub use zone::{BuildingScope, Zone, ZoneClass, ZoneClasses, ZoneScope};

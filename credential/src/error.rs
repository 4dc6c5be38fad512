//! The errors of this crate: why a text is not a credential, why claims cannot be issued,
//! why a key file cannot be used.

use std::path::PathBuf;
use thiserror::Error;

/// Why a scanned or typed text was rejected. Checks run in this order, and no claim is read
/// before the signature has been verified.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CredentialError {
    /// Nothing to decode.
    #[error("empty credential text")]
    Empty,
    /// Longer than any credential can be.
    #[error("credential text is {len} characters; the most a credential has is {max}")]
    TooLong {
        /// The length seen.
        len: usize,
        /// The longest allowed.
        max: usize,
    },
    /// A character outside the base45 alphabet (0-9, A-Z, space, $ % * + - . / :).
    #[error("character {ch:?} at position {position} is not in the base45 alphabet")]
    BadCharacter {
        /// Zero-based index of the character.
        position: usize,
        /// The character.
        ch: char,
    },
    /// The text uses the alphabet but is not valid base45 (bad length or a group out of range).
    #[error("credential text is not valid base45")]
    NotBase45,
    /// The version nibble names a format this build does not know.
    #[error("credential format version {0} is not supported (this build reads version 1)")]
    UnknownVersion(u8),
    /// The binary has the wrong length for its version.
    #[error("credential is {len} bytes; version 1 credentials are {expected} bytes")]
    WrongLength {
        /// The length seen.
        len: usize,
        /// The length the version requires.
        expected: usize,
    },
    /// No public key with the credential's key id is known here.
    #[error("credential was signed with key {0}, which this device does not know")]
    UnknownKey(u8),
    /// The signature does not verify: forged, altered or torn.
    #[error("credential signature does not verify")]
    BadSignature,
    /// Correctly signed but with fields no issuer may produce.
    #[error("credential is signed but malformed: {0}")]
    Malformed(&'static str),
}

impl CredentialError {
    /// A stable snake_case code for logs, journals and JSON.
    pub const fn code(&self) -> &'static str {
        match self {
            CredentialError::Empty => "empty",
            CredentialError::TooLong { .. } => "too_long",
            CredentialError::BadCharacter { .. } => "bad_character",
            CredentialError::NotBase45 => "not_base45",
            CredentialError::UnknownVersion(_) => "unknown_version",
            CredentialError::WrongLength { .. } => "wrong_length",
            CredentialError::UnknownKey(_) => "unknown_key",
            CredentialError::BadSignature => "bad_signature",
            CredentialError::Malformed(_) => "malformed",
        }
    }
}

/// Why claims cannot be made into a credential.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum IssueError {
    /// `not_after` is not after `not_before`.
    #[error("validity window is empty: it must end after it starts")]
    EmptyWindow,
    /// The window is longer than 16,777,215 minutes (about 31 years).
    #[error("validity window of {minutes} minutes is longer than a credential can carry")]
    WindowTooLong {
        /// The window's length.
        minutes: u64,
    },
    /// `floor_lo` is above `floor_hi`.
    #[error("floor range {lo}..={hi} is empty")]
    EmptyFloorRange {
        /// Lowest floor.
        lo: i8,
        /// Highest floor.
        hi: i8,
    },
    /// Building 255 is reserved for "every building".
    #[error("building number 255 is reserved; use BuildingScope::Every")]
    ReservedBuilding,
    /// Schedule ids are 1–15.
    #[error("schedule id {0} is out of range 1–15")]
    ScheduleOutOfRange(u8),
}

/// Why a key file or a public key could not be used.
#[derive(Debug, Error)]
pub enum KeyFileError {
    /// The file could not be read or written.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The content is not a key.
    #[error("key file {path}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A public key given as text is not one.
    #[error("public key {key_id}: {reason}")]
    BadPublicKey {
        /// The key's id as given.
        key_id: u8,
        /// What is wrong.
        reason: String,
    },
}

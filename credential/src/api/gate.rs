//! Gate sync and journal upload.
//!
//! - `GET /api/v1/gate/snapshot` → [`GateSnapshot`]: keys, calendar, lockdown, and the cursor
//!   the snapshot reflects.
//! - `GET /api/v1/gate/changes?since=N&wait_ms=25000` → [`ChangeBatch`]: every change with
//!   `seq > N` in order; if there is none, the server holds the request (long poll) until one
//!   arrives or `wait_ms` (at most 30 000) passes, then answers an empty batch. A gate starting
//!   from 0 receives every change still relevant (the server may drop changes for cards whose
//!   printed window has ended). The cursor makes reconnects lossless. The gate adds its own
//!   state as a [`GateReport`] (`&relay=locked&door=closed&fire=false`), so the desk sees how
//!   far behind it is (its `since`) and its relay, door and fire input.
//! - `POST /api/v1/gate/journal` with [`JournalUpload`] → [`JournalAck`]: entries are stored
//!   exactly once by id; a retried upload is acknowledged again without duplicates.

use crate::claims::{CardId, Kind};
use crate::keys::PublicKeyInfo;
use crate::schedule::WorkCalendar;
use crate::time::UtcMinute;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a gate needs to decide offline, besides the change stream.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GateSnapshot {
    /// The public keys credentials may be signed with.
    pub keys: Vec<PublicKeyInfo>,
    /// Time zone, schedules and blackout dates.
    pub calendar: WorkCalendar,
    /// Whether the estate is in lockdown.
    pub lockdown: bool,
    /// Whether the desk has called an evacuation: doors with `fire_release` stand released.
    #[serde(default)]
    pub evacuation: bool,
    /// The server's clock when it answered, for the gate's clock check.
    pub server_time: DateTime<Utc>,
    /// The highest change sequence number at the time of the snapshot.
    pub cursor: u64,
}

/// Changes after a cursor.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeBatch {
    /// In increasing `seq` order.
    pub changes: Vec<Change>,
    /// The cursor to ask from next: the last change's `seq`, or the request's `since`.
    pub cursor: u64,
}

/// One change a gate must apply.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Strictly increasing per server; gaps are changes pruned because no gate needs them.
    pub seq: u64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened.
    #[serde(flatten)]
    pub event: ChangeEvent,
}

/// What a change does.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChangeEvent {
    /// The card no longer opens any door.
    Revoked {
        /// The card.
        card_id: CardId,
        /// Why.
        reason: RevocationReason,
        /// The card's current end, after which a gate may forget the revocation.
        not_after: UtcMinute,
    },
    /// The card's window now ends at `not_after` instead of its printed end (延期).
    Extended {
        /// The card.
        card_id: CardId,
        /// The new end, exclusive.
        not_after: UtcMinute,
    },
    /// Estate-wide lockdown switched on or off: while on, gates admit nobody.
    Lockdown {
        /// On or off.
        active: bool,
    },
    /// The desk started or ended an evacuation: while on, every door whose `fire_release` is
    /// set stands released, whatever lockdown says.
    Evacuation {
        /// On or off.
        active: bool,
    },
    /// The desk reset latched fire releases: a gate whose fire-alarm input is inactive ends
    /// its latched release (a gate still in alarm keeps it).
    FireReset,
    /// A manager opened one door remotely.
    RemoteUnlock {
        /// The gate device that should open.
        device_id: String,
        /// How long to hold the door open.
        seconds: u32,
    },
    /// Keys, schedules or blackout dates changed: fetch the snapshot again.
    SnapshotChanged,
    /// A gate of an anti-passback area let a card through (or annulled that passage because
    /// the door never opened): the area's other doors count it as their own, so that an
    /// entry door and an exit door on different controllers work as a pair.
    Passage {
        /// The area whose doors share passages.
        area: AreaName,
        /// The card.
        card_id: CardId,
        /// Which way it went; absent for a door without a direction.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        direction: Option<Direction>,
        /// When, by that gate's (trusted) clock. (`at` is the change's own time.)
        passed_at: DateTime<Utc>,
        /// The gate device that saw it (which applied it already).
        device_id: String,
        /// The door never opened: forget this passage.
        #[serde(default)]
        annulled: bool,
    },
}

/// The name of an anti-passback area: the doors whose passages count together. 1–64
/// characters of `a`–`z`, `0`–`9`, `-` and `_`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[a-z0-9_-]{1,64}$"))]
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AreaName(String);

impl AreaName {
    /// The longest name.
    pub const MAX_LEN: usize = 64;

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AreaName {
    type Error = String;
    fn try_from(name: String) -> Result<Self, Self::Error> {
        if name.is_empty() || name.len() > Self::MAX_LEN {
            return Err(format!(
                "an area name has 1–{} characters; {:?} has {}",
                Self::MAX_LEN,
                name,
                name.len()
            ));
        }
        if let Some(c) = name
            .chars()
            .find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '-' | '_'))
        {
            return Err(format!(
                "an area name is made of a-z, 0-9, '-' and '_'; {name:?} has {c:?}"
            ));
        }
        Ok(AreaName(name))
    }
}

impl From<AreaName> for String {
    fn from(a: AreaName) -> String {
        a.0
    }
}

impl std::fmt::Display for AreaName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a card was revoked.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// Handed back at the front desk.
    Returned,
    /// Declared lost.
    Lost,
    /// Revoked by staff.
    Revoked,
    /// The visitor signed out.
    SignedOut,
    /// A new card was printed in its place.
    Reissued,
}

/// Why a gate refused a scan. Each reason is distinct in the journal and on the server.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    /// Not a credential: wrong length, alphabet, base45 or layout.
    Unreadable,
    /// A format version this gate does not read.
    UnknownVersion,
    /// Signed with a key this gate does not know.
    UnknownKey,
    /// Forged, altered or torn.
    BadSignature,
    /// Revoked by staff.
    Revoked,
    /// Returned at the desk.
    Returned,
    /// Declared lost.
    Lost,
    /// The visitor signed out.
    SignedOut,
    /// Replaced by a reprint.
    Reissued,
    /// Before its window.
    NotYetValid,
    /// After its window (as extended).
    Expired,
    /// Outside its schedule's hours.
    OutsideHours,
    /// On a blackout date.
    Blackout,
    /// Names a schedule this gate does not have.
    UnknownSchedule,
    /// Not valid for this door.
    WrongZone,
    /// Hard anti-passback: already inside (or outside).
    AntiPassback,
    /// The estate is in lockdown.
    Lockdown,
    /// The gate's clock cannot be trusted and the decision depends on time.
    UntrustedClock,
    /// A valid goods-release permit read at a goods-check gate: reported to the guard, the
    /// door stays shut (a permit never opens a door).
    GoodsPermit,
}

impl DenyReason {
    /// The reason a revocation gives.
    pub const fn from_revocation(r: RevocationReason) -> Self {
        match r {
            RevocationReason::Returned => DenyReason::Returned,
            RevocationReason::Lost => DenyReason::Lost,
            RevocationReason::Revoked => DenyReason::Revoked,
            RevocationReason::SignedOut => DenyReason::SignedOut,
            RevocationReason::Reissued => DenyReason::Reissued,
        }
    }
}

/// An alarm a gate raises.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    /// The door stayed open past the allowed time.
    DoorHeldOpen,
    /// The door opened with no admit and no exit request.
    DoorForced,
    /// The wall clock is behind the last trusted time or not synchronised.
    UntrustedClock,
    /// The clock is trusted again.
    ClockRecovered,
    /// The scanner vanished or could not be opened.
    ScannerLost,
    /// The scanner module lost its settings (a reset reloaded its factory defaults) or does
    /// not answer setup commands; the gate re-applied them or could not.
    ScannerMisconfigured,
    /// The fire-alarm input is active (or its supervised loop is cut): releasing doors stand open.
    FireAlarm,
    /// The fire-alarm input is quiet again.
    FireAlarmCleared,
    /// The server's confirmed time moved the gate's last trusted time back: the clock had
    /// been trusted while it was ahead.
    ClockCorrected,
}

/// What one journal entry records.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GateEvent {
    /// A scan was admitted; `flag` notes a soft anti-passback violation.
    Admitted {
        /// e.g. `anti_passback`.
        #[serde(default)]
        flag: Option<String>,
    },
    /// A scan was refused.
    Denied {
        /// Why.
        reason: DenyReason,
    },
    /// An admitted passage during which the door never opened.
    PassageAnnulled,
    /// The exit button opened the door.
    ExitRequest,
    /// A manager's remote unlock opened the door.
    RemoteUnlock,
    /// An alarm.
    Alarm {
        /// Which.
        alarm: AlarmKind,
    },
}

/// One decision or alarm as the gate journalled it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Unique per entry, made by the gate; the server stores each id once.
    pub id: Uuid,
    /// The gate's wall clock when it happened.
    pub at: DateTime<Utc>,
    /// Whether the gate trusted its clock then.
    pub clock_trusted: bool,
    /// The card, when a credential was verified.
    pub card_id: Option<CardId>,
    /// The card's kind, when verified.
    pub kind: Option<Kind>,
    /// What happened.
    pub event: GateEvent,
    /// Which reader of an entry/exit pair the scan came from; absent for a door with one
    /// reader and for events that are not scans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// For a passage (admitted, or annulled) at a door of an anti-passback area: the area, so
    /// that the server tells the area's other doors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<AreaName>,
}

/// The way a passage goes through a door that has an entry and an exit reader.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Into the controlled area.
    Entry,
    /// Out of it.
    Exit,
}

/// The door relay as the gate last drove it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelayState {
    /// The lock is held.
    Locked,
    /// The lock is released (an admit, an exit request, a remote unlock, a fire release).
    Released,
}

/// The door as its contact reads.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoorState {
    /// Shut.
    Closed,
    /// Open, within the time it may stand open.
    Open,
    /// Open past the time allowed (the held-open alarm has gone off).
    Held,
}

/// What a gate says of itself with each long poll, as query parameters of
/// `GET /api/v1/gate/changes`: all three together or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateReport {
    /// `relay=locked|released`.
    pub relay: RelayState,
    /// `door=closed|open|held`.
    pub door: DoorState,
    /// `fire=true|false`: the fire-alarm input is in alarm.
    pub fire: bool,
}

impl GateReport {
    /// The report as query parameters, starting with `&`.
    pub fn query(&self) -> String {
        let relay = match self.relay {
            RelayState::Locked => "locked",
            RelayState::Released => "released",
        };
        let door = match self.door {
            DoorState::Closed => "closed",
            DoorState::Open => "open",
            DoorState::Held => "held",
        };
        format!("&relay={relay}&door={door}&fire={}", self.fire)
    }
}

/// `POST /api/v1/gate/journal` body.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JournalUpload {
    /// At most 500 entries.
    pub entries: Vec<JournalEntry>,
}

/// The answer to an upload: the ids now stored (including ones stored before).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JournalAck {
    /// Ids the gate may mark as sent.
    pub stored: Vec<Uuid>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_names_are_short_lowercase_words() {
        let parse = |s: &str| AreaName::try_from(s.to_owned());
        assert_eq!(parse("lobby-1").unwrap().as_str(), "lobby-1");
        assert!(parse("car_park").is_ok());
        assert!(parse("").unwrap_err().contains("1–64"));
        assert!(parse(&"a".repeat(65)).unwrap_err().contains("1–64"));
        assert!(parse("Lobby").unwrap_err().contains("'L'"));
        assert!(parse("大堂").is_err());
        let bad: Result<JournalUpload, _> = serde_json::from_str(
            r#"{"entries":[{"id":"0192f000-0000-7000-8000-000000000000","at":"2026-11-27T01:00:00Z",
               "clock_trusted":true,"card_id":1,"kind":"visitor","event":{"type":"admitted"},
               "area":"no spaces"}]}"#,
        );
        assert!(bad.unwrap_err().to_string().contains("area name"));
    }
}

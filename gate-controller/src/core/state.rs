//! What sync has taught the gate, persisted so that it keeps deciding offline after a restart.

use chrono::{DateTime, Utc};
use gatehouse_credential::api::gate::{Direction, GateSnapshot, RevocationReason};
use gatehouse_credential::keys::PublicKeyInfo;
use gatehouse_credential::{CardId, KeyRing, UtcMinute, WorkCalendar};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A revoked card and how long the gate must remember it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// Why it was revoked.
    pub reason: RevocationReason,
    /// After this the card has expired anyway and the revocation can be forgotten.
    pub not_after: UtcMinute,
}

/// Keys, calendar, lockdown, revocations, extensions and the change cursor.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncedState {
    /// This gate's id on the server, once enrolled.
    #[serde(default)]
    pub device_id: Option<String>,
    /// The public keys credentials may be signed with.
    #[serde(default)]
    pub keys: Vec<PublicKeyInfo>,
    /// Time zone, schedules and blackout dates.
    #[serde(default)]
    pub calendar: WorkCalendar,
    /// Whether the estate is in lockdown.
    #[serde(default)]
    pub lockdown: bool,
    /// Whether the desk has called an evacuation (kept so that a gate that cannot reach the
    /// server keeps the emergency state it last had).
    #[serde(default)]
    pub evacuation: bool,
    /// The cursor of the snapshot last applied.
    #[serde(default)]
    pub snapshot_cursor: u64,
    /// The last change applied.
    #[serde(default)]
    pub cursor: u64,
    /// Revoked cards.
    #[serde(default)]
    pub revoked: BTreeMap<CardId, Revocation>,
    /// Cards whose window was moved to a new end.
    #[serde(default)]
    pub extended: BTreeMap<CardId, UtcMinute>,
    /// Passages the other doors of this gate's anti-passback area reported, kept for the
    /// anti-passback window so that a restart still knows them.
    #[serde(default)]
    pub area_passages: Vec<AreaPassage>,
}

/// A passage another door of the area reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaPassage {
    /// The card.
    pub card_id: CardId,
    /// Which way it went, if the door has a direction.
    pub direction: Option<Direction>,
    /// When, by that door's trusted clock.
    pub at: DateTime<Utc>,
}

impl SyncedState {
    /// The key ring built from the synced keys; a key that does not parse is left out
    /// (and so credentials signed with it are denied as `unknown_key`).
    pub fn key_ring(&self) -> KeyRing {
        let mut ring = KeyRing::new();
        for info in &self.keys {
            // A malformed key from the server must not take the other keys down with it.
            let _ = ring.insert_hex(info.key_id, &info.public_key);
        }
        ring
    }

    /// Takes keys and calendar from a snapshot, its lockdown state when the snapshot is not
    /// older than the changes already applied, and forgets revocations of ended cards.
    pub fn apply_snapshot(&mut self, snapshot: GateSnapshot) {
        self.keys = snapshot.keys;
        self.calendar = snapshot.calendar;
        if snapshot.cursor >= self.cursor {
            self.lockdown = snapshot.lockdown;
            self.evacuation = snapshot.evacuation;
        }
        self.snapshot_cursor = snapshot.cursor;
        if let Some(now) = UtcMinute::floor(snapshot.server_time) {
            self.revoked.retain(|_, r| r.not_after > now);
        }
    }
}

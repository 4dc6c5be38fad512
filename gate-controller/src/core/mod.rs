//! The gate's pure decision core: inputs (a scanned line, a door contact change, an exit
//! button press, a sync update) and the current time go in; a decision and a queue of actions
//! (journal entries, relay levels, indicator signals) plus the next timer come out.
//!
//! No I/O, no clock reads, no async: `purity_test` in this module's tests greps for them.

mod state;

pub use gatehouse_credential::api::gate::Direction;
pub use state::{AreaPassage, Revocation, SyncedState};

use chrono::{DateTime, Utc};
use gatehouse_credential::api::device::{AlarmReport, DeviceAlarmKind};
use gatehouse_credential::api::gate::{
    AlarmKind, AreaName, ChangeBatch, ChangeEvent, DenyReason, GateEvent, GateSnapshot,
    JournalEntry,
};
use gatehouse_credential::claims::Validity;
use gatehouse_credential::schedule::ScheduleCheck;
use gatehouse_credential::{CardId, Credential, CredentialError, KeyRing, Kind, UtcMinute, Zone};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod transcripts;

/// How long the door may still open after the relay locked again without counting as forced
/// (a latch releases a moment after the relay drops).
pub const OPEN_GRACE: Duration = Duration::from_secs(1);

/// What the shell knows about its wall clock; the core decides what that means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WallClock {
    /// The clock is believed right.
    Trusted(DateTime<Utc>),
    /// The clock is behind the last trusted time or not synchronised.
    Untrusted {
        /// What the clock says.
        now: DateTime<Utc>,
        /// The last time the gate knew to be right; real time is at least this.
        last_trusted: DateTime<Utc>,
    },
}

impl WallClock {
    /// Whether the clock is trusted.
    pub fn is_trusted(&self) -> bool {
        matches!(self, WallClock::Trusted(_))
    }

    /// What the clock reads.
    pub fn reading(&self) -> DateTime<Utc> {
        match *self {
            WallClock::Trusted(t) => t,
            WallClock::Untrusted { now, .. } => now,
        }
    }
}

/// What to do with credentials whose decision depends on time while the clock is untrusted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockPolicy {
    /// Deny them with `untrusted_clock` (revocations, zone and certain expiry still apply).
    #[default]
    DenyTimeDependent,
    /// Evaluate them at the last trusted time (real time is at least that).
    AssumeLastTrusted,
}

/// Anti-passback: on a door with one reader, a second passage of the same card within the
/// window; on a door with an entry and an exit reader, a second passage in the same direction
/// (in twice without going out, or out twice) within the window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AntiPassback {
    /// No anti-passback.
    #[default]
    Off,
    /// Admit a repeated passage but flag it in the journal.
    Soft,
    /// Deny a repeated passage.
    Hard,
}

/// What the core needs to know about its door.
#[derive(Clone, Debug, PartialEq)]
pub struct DoorPolicy {
    /// The door this gate guards.
    pub zone: Zone,
    /// How long the relay stays unlocked per admit or exit request.
    pub pulse: Duration,
    /// How long the door may stay open before the held-open alarm.
    pub held_open_limit: Duration,
    /// Whether a door contact is wired (without one, passages cannot be annulled and forced
    /// or held-open doors cannot be seen).
    pub has_door_contact: bool,
    /// Anti-passback mode.
    pub anti_passback: AntiPassback,
    /// How long the gate remembers a card's last passage: a repeated passage within it is a
    /// passback; an older passage is forgotten (so a missed exit does not lock anyone out).
    pub anti_passback_window: Duration,
    /// The untrusted-clock policy.
    pub clock_policy: ClockPolicy,
    /// How long the green/red indicator stays on after a decision.
    pub feedback: Duration,
    /// The anti-passback area this door shares passages with (through the server), if any.
    pub area: Option<AreaName>,
    /// Whether a fire alarm or an evacuation releases this door (a door on an escape route).
    pub fire_release: bool,
    /// Whether a fire release holds after the alarm clears until a person resets it.
    pub fire_latch: bool,
    /// A turnstile lane: the exit reader's admits pulse a relay of their own ("open B"), the
    /// entry reader's the main relay ("open A").
    pub exit_relay: bool,
    /// A goods-check gate: a valid goods-release permit is journalled as `goods_permit` (the
    /// server shows it to the guard at once) and the door stays shut.
    pub goods_check: bool,
}

/// How old (by a trusted clock) a desk reset of a latched fire release may be and still count.
pub const DESK_RESET_FRESH_SECS: i64 = 300;

/// The outcome of a scan: a denial is a value, not an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The door opens.
    Admit {
        /// The card.
        card: CardId,
        /// Its kind.
        kind: Kind,
        /// A soft violation, e.g. `anti_passback`.
        flag: Option<String>,
    },
    /// The door stays shut.
    Deny {
        /// Why.
        reason: DenyReason,
        /// The card, when the credential verified.
        card: Option<CardId>,
        /// Its kind, when the credential verified.
        kind: Option<Kind>,
    },
}

/// The relay's level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The lock is held.
    Locked,
    /// The lock is released.
    Unlocked,
}

/// The feedback LEDs and buzzer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    /// Green LED (admitted).
    Granted,
    /// Red LED and buzzer (denied).
    Denied,
    /// Both LEDs (amber on a two-colour LED), no buzzer: a goods-release permit was read at a
    /// goods-check gate and sent to the guard, who decides; the door stays shut without
    /// telling the carrier "refused".
    Seen,
    /// Everything off.
    Off,
}

/// One journal entry as the core produces it; the journal adds the id and the wall time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The card, when known.
    pub card_id: Option<CardId>,
    /// The card's kind, when known.
    pub kind: Option<Kind>,
    /// What happened.
    pub event: GateEvent,
    /// Which reader a scan (or an annulled passage) came from, on a door with two.
    pub direction: Option<Direction>,
    /// The door's anti-passback area, on a passage (admitted or annulled).
    pub area: Option<AreaName>,
    /// The relay unlock that follows is this entry's admission: it must not happen unless
    /// the entry is durable. Egress and alarms never hold the relay.
    pub unlocks: bool,
}

/// Something the shell must do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Write this entry durably. An admission's entry comes before the relay move it
    /// explains, and that move waits for it; egress (an exit request, a fire or evacuation
    /// release) moves the relay first and is journalled after, so it never waits for storage.
    Journal(Entry),
    /// Drive the relay.
    Relay(Level),
    /// Drive the exit direction's relay of a turnstile lane.
    ExitRelay(Level),
    /// Drive the LEDs and buzzer.
    Indicator(Indicator),
    /// Tell the desk at once, through the server's device alarm API (queued and retried while
    /// the server is away); the journal carries the same alarm later.
    Report(AlarmReport),
}

/// The door contact's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoorContact {
    /// The door is shut.
    Closed,
    /// The door is open.
    Open,
}

/// What sync learnt.
#[derive(Clone, Debug, PartialEq)]
pub enum SyncUpdate {
    /// This gate's device id on the server, after enrolment.
    Enrolled {
        /// The id.
        device_id: String,
    },
    /// A fresh snapshot: keys, calendar, lockdown.
    Snapshot(GateSnapshot),
    /// Changes after the cursor.
    Changes(ChangeBatch),
}

/// An admitted passage waiting for the door to open.
#[derive(Clone, Debug)]
struct Passage {
    card: CardId,
    kind: Kind,
    opened: bool,
    last: LastPassage,
    /// What the gate knew of the card before, restored if this passage is annulled.
    before: Option<LastPassage>,
}

/// The last passage of a card, for anti-passback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LastPassage {
    /// `None` on a door with one reader.
    direction: Option<Direction>,
    /// Until when another passage in the same direction counts as passing back. (An end,
    /// not a start: a passage restored from the journal after a reboot may be older than
    /// the monotonic clock.)
    until: Instant,
    /// When it happened by a trusted wall clock, if known: how another door's annulment
    /// finds the passage it annuls.
    at: Option<DateTime<Utc>>,
}

/// How much of the anti-passback `window` is left, at `wall`, for a passage made at `at`;
/// `None` once it is over. A passage "from the future" (the clock was set back since) counts
/// as new.
fn time_left(window: Duration, at: DateTime<Utc>, wall: DateTime<Utc>) -> Option<Duration> {
    let age = (wall - at).to_std().unwrap_or(Duration::ZERO);
    window.checked_sub(age).filter(|left| !left.is_zero())
}

/// Past this many remembered cards, passages older than the window are dropped.
const REMEMBERED_CARDS: usize = 4096;

/// The keys the gate accepts, numbered so that a check made with an older set is recognised.
#[derive(Clone, Debug, Default)]
pub struct PublishedRing {
    /// Changes whenever the set of keys does.
    pub generation: u64,
    /// The keys.
    pub ring: KeyRing,
}

/// A signature check made before the line was complete. A reader sees a credential-length
/// line a character time before its terminator (≈ 1 ms at 9600 baud) and can verify it then,
/// so that the decision at the terminator does not wait for the signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EarlyCheck {
    /// The text that was checked.
    pub text: String,
    /// The [`PublishedRing::generation`] it was checked with.
    pub generation: u64,
    /// What the check found.
    pub verified: Result<Credential, CredentialError>,
}

impl EarlyCheck {
    /// Verifies `text` with `keys`.
    pub fn of(text: &str, keys: &PublishedRing) -> Self {
        EarlyCheck {
            text: text.to_owned(),
            generation: keys.generation,
            verified: keys.ring.verify(text),
        }
    }
}

/// The gate's state machine.
#[derive(Debug)]
pub struct Gate {
    policy: DoorPolicy,
    synced: SyncedState,
    ring: PublishedRing,
    actions: VecDeque<Action>,
    relay: Level,
    lock_at: Option<Instant>,
    /// When the exit relay of a turnstile lane locks again.
    exit_lock_at: Option<Instant>,
    /// When its last unlock was decided, until the shell reports the relay moved.
    exit_decided_at: Option<Instant>,
    /// When the last unlock was decided, until the shell reports the relay moved.
    unlock_decided_at: Option<Instant>,
    authorised_until: Option<Instant>,
    passages: Vec<Passage>,
    last_passage: HashMap<CardId, LastPassage>,
    door: DoorContact,
    held_alarm_at: Option<Instant>,
    /// The door has stood open past its limit (the held-open alarm went off) and not shut since.
    held_open: bool,
    indicator_off_at: Option<Instant>,
    clock_trusted: Option<bool>,
    /// The fire-alarm input as last reported.
    fire_alarm: bool,
    /// A latched fire release still waiting for its reset.
    fire_latched: bool,
    /// Whether the door stands released for an emergency (fire or evacuation).
    released: bool,
}

/// The emergency state, for the status page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Emergency {
    /// The fire-alarm input is in alarm.
    pub fire_alarm: bool,
    /// A latched fire release waits for its reset (the alarm may have cleared).
    pub fire_latched: bool,
    /// The desk has called an evacuation.
    pub evacuation: bool,
    /// This door stands released because of one of them.
    pub released: bool,
}

impl Gate {
    /// A gate in the locked state with the synced state it last persisted.
    /// Its first action is `Relay(Locked)`.
    pub fn new(policy: DoorPolicy, synced: SyncedState) -> Self {
        let ring = PublishedRing {
            generation: 0,
            ring: synced.key_ring(),
        };
        let mut actions = VecDeque::new();
        actions.push_back(Action::Relay(Level::Locked));
        if policy.exit_relay {
            actions.push_back(Action::ExitRelay(Level::Locked));
        }
        let mut gate = Gate {
            policy,
            synced,
            ring,
            actions,
            relay: Level::Locked,
            lock_at: None,
            exit_lock_at: None,
            exit_decided_at: None,
            unlock_decided_at: None,
            authorised_until: None,
            passages: Vec::new(),
            last_passage: HashMap::new(),
            door: DoorContact::Closed,
            held_alarm_at: None,
            held_open: false,
            indicator_off_at: None,
            clock_trusted: None,
            fire_alarm: false,
            fire_latched: false,
            released: false,
        };
        // A gate restarted during an evacuation releases at once, right after locking.
        if gate.must_release() {
            gate.release();
        }
        gate
    }

    /// The state sync has built up, for persisting and for the status page.
    pub fn synced(&self) -> &SyncedState {
        &self.synced
    }

    /// The keys it verifies with, for readers that check a line before it is complete.
    pub fn keys(&self) -> &PublishedRing {
        &self.ring
    }

    /// The relay's level as the core last commanded it.
    pub fn relay(&self) -> Level {
        self.relay
    }

    /// The door contact as last reported.
    pub fn door(&self) -> DoorContact {
        self.door
    }

    /// Whether the door has stood open past its limit and not shut since.
    pub fn door_held_open(&self) -> bool {
        self.held_open
    }

    /// Whether the clock was trusted at the last input.
    pub fn clock_trusted(&self) -> Option<bool> {
        self.clock_trusted
    }

    /// The fire alarm, evacuation and release state.
    pub fn emergency(&self) -> Emergency {
        Emergency {
            fire_alarm: self.fire_alarm,
            fire_latched: self.fire_latched,
            evacuation: self.synced.evacuation,
            released: self.released,
        }
    }

    /// The fire-alarm input changed (`active`: in alarm, or its loop is cut). A releasing
    /// door's relay is unlocked before anything else, the alarm journalled after it.
    pub fn handle_fire(&mut self, active: bool, now: Instant) {
        if active == self.fire_alarm {
            return;
        }
        self.fire_alarm = active;
        if active {
            self.fire_latched = self.policy.fire_release && self.policy.fire_latch;
            self.update_release(now);
            self.alarm(AlarmKind::FireAlarm);
        } else {
            self.alarm(AlarmKind::FireAlarmCleared);
            self.update_release(now);
        }
        self.actions.push_back(Action::Report(AlarmReport {
            kind: DeviceAlarmKind::FireAlarm,
            active,
            detail: None,
        }));
    }

    /// A person reset a latched fire release. Returns whether there was one to reset; a
    /// reset while the alarm is still active is refused (returns `false`).
    pub fn reset_fire(&mut self, now: Instant) -> bool {
        if !self.fire_latched || self.fire_alarm {
            return false;
        }
        self.fire_latched = false;
        self.update_release(now);
        true
    }

    /// The next action to perform, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When `handle_timeout` must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.lock_at,
            self.exit_lock_at,
            self.held_alarm_at,
            self.indicator_off_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Notes the clock's state; raises an alarm when it turns untrusted or recovers.
    pub fn handle_clock(&mut self, wall: WallClock) {
        let trusted = wall.is_trusted();
        let alarm = match (self.clock_trusted, trusted) {
            (Some(true) | None, false) => Some(AlarmKind::UntrustedClock),
            (Some(false), true) => Some(AlarmKind::ClockRecovered),
            _ => None,
        };
        self.clock_trusted = Some(trusted);
        if let Some(alarm) = alarm {
            self.alarm(alarm);
        }
    }

    /// Decides one scanned line (already framed and debounced by the scanner). `direction`
    /// is the reader it came from on a door with an entry and an exit reader, else `None`.
    pub fn handle_scan(
        &mut self,
        line: &str,
        direction: Option<Direction>,
        wall: WallClock,
        now: Instant,
    ) -> Decision {
        self.handle_checked_scan(line, None, direction, wall, now)
    }

    /// As [`Gate::handle_scan`], with the signature check the reader made before the line
    /// was complete; it is used only if it was made on this very text with the current keys.
    pub fn handle_checked_scan(
        &mut self,
        line: &str,
        early: Option<EarlyCheck>,
        direction: Option<Direction>,
        wall: WallClock,
        now: Instant,
    ) -> Decision {
        self.handle_clock(wall);
        let verified = match early {
            Some(e) if e.generation == self.ring.generation && e.text == line => e.verified,
            _ => self.ring.ring.verify(line),
        };
        let decision = self.decide(verified, direction, wall, now);
        match &decision {
            // The door stands open for an emergency: the scan is journalled, nothing changes.
            Decision::Admit { card, kind, flag } if self.released => {
                self.journal_scan(
                    Some(*card),
                    Some(*kind),
                    GateEvent::Admitted { flag: flag.clone() },
                    direction,
                );
            }
            Decision::Admit { card, kind, flag } => {
                self.journal_scan(
                    Some(*card),
                    Some(*kind),
                    GateEvent::Admitted { flag: flag.clone() },
                    direction,
                );
                self.hold_unlock_for_journal();
                let last = LastPassage {
                    direction,
                    until: now + self.policy.anti_passback_window,
                    at: wall.is_trusted().then(|| wall.reading()),
                };
                if self.last_passage.len() >= REMEMBERED_CARDS {
                    self.last_passage.retain(|_, p| p.until > now);
                }
                let before = self.last_passage.insert(*card, last);
                self.passages.push(Passage {
                    card: *card,
                    kind: *kind,
                    opened: false,
                    last,
                    before,
                });
                if self.policy.exit_relay && direction == Some(Direction::Exit) {
                    self.exit_lock_at = Some(now + self.policy.pulse);
                    self.exit_decided_at = Some(now);
                    self.actions.push_back(Action::ExitRelay(Level::Unlocked));
                } else {
                    self.unlock(now, self.policy.pulse);
                }
                self.indicate(Indicator::Granted, now);
            }
            Decision::Deny { reason, card, kind } => {
                self.journal_scan(
                    *card,
                    *kind,
                    GateEvent::Denied { reason: *reason },
                    direction,
                );
                // A permit at a goods-check gate is no refusal: the guard decides.
                let shown = if *reason == DenyReason::GoodsPermit {
                    Indicator::Seen
                } else {
                    Indicator::Denied
                };
                self.indicate(shown, now);
            }
        }
        decision
    }

    /// The door contact changed.
    pub fn handle_door(&mut self, contact: DoorContact, now: Instant) {
        if contact == self.door {
            return;
        }
        self.door = contact;
        match contact {
            DoorContact::Open => {
                let authorised = self.relay == Level::Unlocked
                    || self.authorised_until.is_some_and(|until| now <= until);
                if authorised {
                    for p in &mut self.passages {
                        p.opened = true;
                    }
                } else {
                    self.alarm(AlarmKind::DoorForced);
                }
                // A released door is meant to stand open.
                if !self.released {
                    self.held_alarm_at = Some(now + self.policy.held_open_limit);
                }
            }
            DoorContact::Closed => {
                self.held_alarm_at = None;
                self.held_open = false;
            }
        }
    }

    /// Someone pressed the request-to-exit button: the relay opens first and the request is
    /// journalled after, so that egress never waits for (or fails with) storage.
    pub fn handle_exit_button(&mut self, now: Instant) {
        self.unlock(now, self.policy.pulse);
        self.journal(None, None, GateEvent::ExitRequest);
    }

    /// Applies what sync learnt. `wall` decides whether a remote unlock is still fresh.
    pub fn handle_sync(&mut self, update: SyncUpdate, wall: WallClock, now: Instant) {
        match update {
            SyncUpdate::Enrolled { device_id } => self.synced.device_id = Some(device_id),
            SyncUpdate::Snapshot(snapshot) => {
                let lockdown_before = self.synced.lockdown;
                self.synced.apply_snapshot(snapshot);
                self.ring = PublishedRing {
                    generation: self.ring.generation + 1,
                    ring: self.synced.key_ring(),
                };
                // A gate reconnecting during an evacuation is released at once.
                self.update_release(now);
                if self.synced.lockdown && !lockdown_before {
                    self.lock_now();
                }
            }
            SyncUpdate::Changes(batch) => {
                for change in batch.changes {
                    if change.seq <= self.synced.cursor {
                        continue;
                    }
                    self.synced.cursor = change.seq;
                    match change.event {
                        ChangeEvent::Revoked {
                            card_id,
                            reason,
                            not_after,
                        } => {
                            self.synced
                                .revoked
                                .insert(card_id, Revocation { reason, not_after });
                        }
                        ChangeEvent::Extended { card_id, not_after } => {
                            self.synced.extended.insert(card_id, not_after);
                        }
                        ChangeEvent::Lockdown { active } => {
                            self.synced.lockdown = active;
                            if active {
                                self.lock_now();
                            }
                        }
                        ChangeEvent::RemoteUnlock { device_id, seconds } => {
                            let ours = self.synced.device_id.as_deref() == Some(&device_id);
                            // Replaying old changes after a restart must not open the door.
                            let fresh = wall.is_trusted()
                                && (wall.reading() - change.at).num_seconds().abs() <= 60;
                            if ours && fresh && !self.synced.lockdown {
                                self.journal(None, None, GateEvent::RemoteUnlock);
                                self.hold_unlock_for_journal();
                                self.unlock(now, Duration::from_secs(u64::from(seconds)));
                            }
                        }
                        ChangeEvent::Evacuation { active } => {
                            self.synced.evacuation = active;
                            self.update_release(now);
                        }
                        // The sync shell fetches the snapshot again.
                        ChangeEvent::SnapshotChanged => {}
                        ChangeEvent::FireReset => {
                            // A reset replayed long after the desk made it (a gate that was
                            // offline) must not end a newer latch nobody has looked at.
                            let stale = wall.is_trusted()
                                && (wall.reading() - change.at).num_seconds().abs()
                                    > DESK_RESET_FRESH_SECS;
                            if !stale {
                                self.reset_fire(now);
                            }
                        }
                        ChangeEvent::Passage {
                            area,
                            card_id,
                            direction,
                            passed_at: at,
                            device_id,
                            annulled,
                        } => {
                            // This gate's own passages are in its state already.
                            let ours = self.synced.device_id.as_deref() == Some(&device_id);
                            if self.policy.area.as_ref() == Some(&area) && !ours {
                                let p = AreaPassage {
                                    card_id,
                                    direction,
                                    at,
                                };
                                self.handle_area_passage(p, annulled, wall, now);
                            }
                        }
                    }
                }
                self.synced.cursor = self.synced.cursor.max(batch.cursor);
            }
        }
    }

    /// Runs every timer that is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.lock_at.is_some_and(|t| now >= t) {
            self.lock_at = None;
            self.relay = Level::Locked;
            self.authorised_until = Some(now + OPEN_GRACE);
            self.actions.push_back(Action::Relay(Level::Locked));
            self.settle_passages();
        }
        if self.exit_lock_at.is_some_and(|t| now >= t) {
            self.exit_lock_at = None;
            self.actions.push_back(Action::ExitRelay(Level::Locked));
        }
        if self.held_alarm_at.is_some_and(|t| now >= t) {
            self.held_alarm_at = None;
            if self.door == DoorContact::Open {
                self.held_open = true;
                self.alarm(AlarmKind::DoorHeldOpen);
            }
        }
        if self.indicator_off_at.is_some_and(|t| now >= t) {
            self.indicator_off_at = None;
            self.actions.push_back(Action::Indicator(Indicator::Off));
        }
    }

    /// The shell moved the relay at `now`: the pulse counts from then, not from the decision
    /// (the journal write in between takes a few milliseconds).
    pub fn handle_relay_moved(&mut self, level: Level, now: Instant) {
        if level != Level::Unlocked {
            return;
        }
        if let (Some(decided), Some(lock_at)) = (self.unlock_decided_at.take(), self.lock_at) {
            self.lock_at = Some(lock_at + now.saturating_duration_since(decided));
        }
    }

    /// As [`Gate::handle_relay_moved`], for a turnstile lane's exit relay.
    pub fn handle_exit_relay_moved(&mut self, level: Level, now: Instant) {
        if level != Level::Unlocked {
            return;
        }
        if let (Some(decided), Some(lock_at)) = (self.exit_decided_at.take(), self.exit_lock_at) {
            self.exit_lock_at = Some(lock_at + now.saturating_duration_since(decided));
        }
    }

    /// Rebuilds, from journal entries (oldest first), which way each card last passed within
    /// the anti-passback window, so that a restart does not forget who is inside. `wall` must
    /// be a trusted time; entries made under an untrusted clock are skipped (their age is
    /// unknown). Returns how many cards are remembered.
    pub fn restore_passages<'a>(
        &mut self,
        entries: impl IntoIterator<Item = &'a JournalEntry>,
        wall: DateTime<Utc>,
        now: Instant,
    ) -> usize {
        let window = self.policy.anti_passback_window;
        // Each card's state before its latest restored admit, for a later annulment.
        let mut before: HashMap<CardId, Option<LastPassage>> = HashMap::new();
        for e in entries {
            let Some(card) = e.card_id.filter(|_| e.clock_trusted) else {
                continue;
            };
            match e.event {
                GateEvent::Admitted { .. } => {
                    let Some(left) = time_left(window, e.at, wall) else {
                        continue;
                    };
                    let last = LastPassage {
                        direction: e.direction,
                        until: now + left,
                        at: Some(e.at),
                    };
                    before.insert(card, self.last_passage.insert(card, last));
                }
                GateEvent::PassageAnnulled => match before.remove(&card) {
                    Some(Some(previous)) => {
                        self.last_passage.insert(card, previous);
                    }
                    Some(None) => {
                        self.last_passage.remove(&card);
                    }
                    None => {}
                },
                _ => {}
            }
        }
        // What the area's other doors reported (annulled ones are already gone).
        for p in self.synced.area_passages.clone() {
            self.note_area_passage(p, wall, now);
        }
        self.last_passage.retain(|_, p| p.until > now);
        self.last_passage.len()
    }

    /// Takes another door's passage as this door's own if it is the newer one.
    fn note_area_passage(&mut self, p: AreaPassage, wall: DateTime<Utc>, now: Instant) {
        let Some(left) = time_left(self.policy.anti_passback_window, p.at, wall) else {
            return;
        };
        let last = LastPassage {
            direction: p.direction,
            until: now + left,
            at: Some(p.at),
        };
        if self
            .last_passage
            .get(&p.card_id)
            .is_none_or(|held| held.until <= last.until)
        {
            self.last_passage.insert(p.card_id, last);
        }
    }

    /// Another door of this gate's anti-passback area let `p` through, or annulled it.
    fn handle_area_passage(
        &mut self,
        p: AreaPassage,
        annulled: bool,
        wall: WallClock,
        now: Instant,
    ) {
        // Without a trusted clock the passage cannot be dated against the window.
        let WallClock::Trusted(wall) = wall else {
            return;
        };
        let window = self.policy.anti_passback_window;
        self.synced
            .area_passages
            .retain(|q| time_left(window, q.at, wall).is_some());
        if annulled {
            self.synced.area_passages.retain(|q| *q != p);
            let held = self.last_passage.get(&p.card_id);
            if held.is_some_and(|h| h.at == Some(p.at) && h.direction == p.direction) {
                self.last_passage.remove(&p.card_id);
            }
            return;
        }
        if time_left(window, p.at, wall).is_some() {
            // One per card, the newest: the list is saved with the sync state on every update.
            let passages = &mut self.synced.area_passages;
            if !passages
                .iter()
                .any(|q| q.card_id == p.card_id && q.at >= p.at)
            {
                passages.retain(|q| q.card_id != p.card_id);
                passages.push(p);
            }
            self.note_area_passage(p, wall, now);
        }
    }

    /// Whether this door keeps passages for anti-passback.
    pub fn remembers_passages(&self) -> bool {
        self.policy.anti_passback != AntiPassback::Off
    }

    /// The anti-passback window.
    pub fn passback_window(&self) -> Duration {
        self.policy.anti_passback_window
    }

    /// Journals an alarm the shell detected (e.g. the scanner vanished).
    pub fn raise_alarm(&mut self, alarm: AlarmKind) {
        self.alarm(alarm);
    }

    /// The decision on a credential as verified (or not) with the current keys.
    fn decide(
        &self,
        verified: Result<Credential, CredentialError>,
        direction: Option<Direction>,
        wall: WallClock,
        now: Instant,
    ) -> Decision {
        let credential = match verified {
            Ok(c) => c,
            Err(e) => {
                return Decision::Deny {
                    reason: deny_reason_of(&e),
                    card: None,
                    kind: None,
                };
            }
        };
        let claims = &credential.claims;
        let card = claims.card_id;
        let deny = |reason| Decision::Deny {
            reason,
            card: Some(card),
            kind: Some(claims.kind),
        };
        if let Some(r) = self.synced.revoked.get(&card) {
            return deny(DenyReason::from_revocation(r.reason));
        }
        let end = effective_end(&self.synced, card, claims.not_after);
        let at = match (wall, self.policy.clock_policy) {
            (WallClock::Trusted(t), _) => t,
            (WallClock::Untrusted { last_trusted, .. }, policy) => {
                // Real time is at least `last_trusted`, so a card that had ended by then is
                // certainly expired whatever the policy.
                if last_trusted >= end.to_datetime() {
                    return deny(DenyReason::Expired);
                }
                // Every credential has a window, so every admission depends on time.
                if policy == ClockPolicy::DenyTimeDependent {
                    return deny(DenyReason::UntrustedClock);
                }
                last_trusted
            }
        };
        match claims.validity_with_end(at, end) {
            Validity::NotYetValid => return deny(DenyReason::NotYetValid),
            Validity::Expired => return deny(DenyReason::Expired),
            Validity::Valid => {}
        }
        match self.synced.calendar.check(claims.schedule, at) {
            ScheduleCheck::Allowed => {}
            ScheduleCheck::OutsideHours => return deny(DenyReason::OutsideHours),
            ScheduleCheck::Blackout => return deny(DenyReason::Blackout),
            ScheduleCheck::UnknownSchedule => return deny(DenyReason::UnknownSchedule),
        }
        // A permit opens no door (its scope holds no door class); a goods-check gate reports it.
        if claims.kind == Kind::GoodsRelease && self.policy.goods_check {
            return deny(DenyReason::GoodsPermit);
        }
        if !claims.scope.permits(&self.policy.zone) {
            return deny(DenyReason::WrongZone);
        }
        let mut flag = None;
        // One reader: any passage within the window repeats. Two readers: only one in the
        // same direction does (in, then in again without being seen going out).
        let repeated = self
            .last_passage
            .get(&card)
            .is_some_and(|p| p.direction == direction && now < p.until);
        if repeated {
            match self.policy.anti_passback {
                AntiPassback::Off => {}
                AntiPassback::Soft => flag = Some("anti_passback".to_owned()),
                AntiPassback::Hard => return deny(DenyReason::AntiPassback),
            }
        }
        if self.synced.lockdown {
            return deny(DenyReason::Lockdown);
        }
        Decision::Admit {
            card,
            kind: claims.kind,
            flag,
        }
    }

    fn journal(&mut self, card_id: Option<CardId>, kind: Option<Kind>, event: GateEvent) {
        self.journal_scan(card_id, kind, event, None);
    }

    fn journal_scan(
        &mut self,
        card_id: Option<CardId>,
        kind: Option<Kind>,
        event: GateEvent,
        direction: Option<Direction>,
    ) {
        let passage = matches!(
            event,
            GateEvent::Admitted { .. } | GateEvent::PassageAnnulled
        );
        self.actions.push_back(Action::Journal(Entry {
            area: self.policy.area.clone().filter(|_| passage),
            card_id,
            kind,
            event,
            direction,
            unlocks: false,
        }));
    }

    /// Marks the entry just queued as the one the next unlock waits for.
    fn hold_unlock_for_journal(&mut self) {
        if let Some(Action::Journal(e)) = self.actions.back_mut() {
            e.unlocks = true;
        }
    }

    fn alarm(&mut self, alarm: AlarmKind) {
        self.journal(None, None, GateEvent::Alarm { alarm });
    }

    fn unlock(&mut self, now: Instant, hold: Duration) {
        // Released for an emergency: already open, and no pulse may end the release.
        if self.released {
            return;
        }
        let until = now + hold;
        self.lock_at = Some(self.lock_at.map_or(until, |t| t.max(until)));
        self.unlock_decided_at = Some(now);
        self.relay = Level::Unlocked;
        self.actions.push_back(Action::Relay(Level::Unlocked));
    }

    fn lock_now(&mut self) {
        if self.exit_lock_at.take().is_some() {
            self.actions.push_back(Action::ExitRelay(Level::Locked));
        }
        // Lockdown cannot hold a door released for an emergency.
        if self.relay == Level::Unlocked && !self.released {
            self.lock_at = None;
            self.relay = Level::Locked;
            self.actions.push_back(Action::Relay(Level::Locked));
            self.settle_passages();
        }
    }

    /// Whether a fire alarm (active or latched) or an evacuation must hold this door open.
    fn must_release(&self) -> bool {
        self.policy.fire_release && (self.fire_alarm || self.fire_latched || self.synced.evacuation)
    }

    /// Starts or ends the emergency release as the inputs now require.
    fn update_release(&mut self, now: Instant) {
        match (self.released, self.must_release()) {
            (false, true) => self.release(),
            (true, false) => {
                self.released = false;
                self.relay = Level::Locked;
                self.authorised_until = Some(now + OPEN_GRACE);
                self.actions.push_back(Action::Relay(Level::Locked));
                if self.policy.exit_relay {
                    self.actions.push_back(Action::ExitRelay(Level::Locked));
                }
                if self.door == DoorContact::Open {
                    self.held_alarm_at = Some(now + self.policy.held_open_limit);
                }
            }
            _ => {}
        }
    }

    /// Unlocks and holds: no pulse, no held-open alarm. The relay is commanded even if the
    /// core believes it unlocked already (an admit whose journal write failed left it shut).
    fn release(&mut self) {
        self.released = true;
        self.relay = Level::Unlocked;
        self.lock_at = None;
        self.unlock_decided_at = None;
        self.held_alarm_at = None;
        self.actions.push_back(Action::Relay(Level::Unlocked));
        // A turnstile lane is free both ways.
        if self.policy.exit_relay {
            self.exit_lock_at = None;
            self.actions.push_back(Action::ExitRelay(Level::Unlocked));
        }
        // Admits in progress count as passages: the door is open to everyone now.
        self.passages.clear();
    }

    /// At the end of a pulse: admits after which the door never opened are annulled.
    fn settle_passages(&mut self) {
        let passages = std::mem::take(&mut self.passages);
        if !self.policy.has_door_contact {
            return;
        }
        for p in passages.into_iter().filter(|p| !p.opened) {
            // Nobody went through: the card is where it was before this admit.
            if self.last_passage.get(&p.card) == Some(&p.last) {
                match p.before {
                    Some(before) => self.last_passage.insert(p.card, before),
                    None => self.last_passage.remove(&p.card),
                };
            }
            self.journal_scan(
                Some(p.card),
                Some(p.kind),
                GateEvent::PassageAnnulled,
                p.last.direction,
            );
        }
    }

    fn indicate(&mut self, indicator: Indicator, now: Instant) {
        self.actions.push_back(Action::Indicator(indicator));
        self.indicator_off_at = Some(now + self.policy.feedback);
    }
}

/// The distinct denial a credential error maps to.
pub fn deny_reason_of(e: &CredentialError) -> DenyReason {
    match e {
        CredentialError::UnknownVersion(_) => DenyReason::UnknownVersion,
        CredentialError::UnknownKey(_) => DenyReason::UnknownKey,
        CredentialError::BadSignature => DenyReason::BadSignature,
        CredentialError::Empty
        | CredentialError::TooLong { .. }
        | CredentialError::BadCharacter { .. }
        | CredentialError::NotBase45
        | CredentialError::WrongLength { .. }
        | CredentialError::Malformed(_) => DenyReason::Unreadable,
    }
}

/// The end of a card's window as this gate knows it (printed or extended).
pub fn effective_end(synced: &SyncedState, card: CardId, printed: UtcMinute) -> UtcMinute {
    synced.extended.get(&card).copied().unwrap_or(printed)
}

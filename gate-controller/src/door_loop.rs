//! The one owner of the door state: a thread that holds the core, the pins, the clock and the
//! journal's writing connection, takes one input at a time from a channel (a scanned line, a
//! sync update, a request from the status page) or from its own 10 ms poll of the door's
//! inputs and timers, and performs every action the core asks for before it takes the next
//! (journal durably before an admission's unlock, egress relay moves first). Nothing else
//! touches the door state: readers, the sync tasks and the status page only send it messages
//! and read what it publishes.

use crate::clock::Clock;
use crate::core::{Action, Decision, Direction, DoorContact, Entry, Gate, Level};
use crate::door::DoorPins;
use crate::journal::Journal;
use crate::scanner::{ScannerEvent, SharedKeys};
use crate::status::{AlarmRecord, DecisionRecord, GateStatus, LocalInput, RelayTransition};
use chrono::{DateTime, Utc};
use gatehouse_credential::api::device::AlarmReport;
use gatehouse_credential::api::gate::{AlarmKind, GateEvent};
use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio::sync::mpsc::UnboundedSender;

/// Every kind of input the door's owner takes from other threads.
#[derive(Debug)]
pub enum DoorInput {
    /// What a reader read; `direction` is its side on a door with an entry and an exit
    /// reader.
    Scan {
        /// The reader's event.
        event: ScannerEvent,
        /// Its side, if any.
        direction: Option<Direction>,
    },
    /// What sync learnt from the server.
    Sync(crate::core::SyncUpdate),
    /// A request from the local status endpoint.
    Local(LocalInput),
    /// Lock the door and stop deciding.
    Stop,
}

/// Where other threads send the door's owner its inputs.
pub type DoorSender = SyncSender<DoorInput>;

/// How many inputs may wait for the door's owner. Small, so that a reader blocks (and lines
/// wait in the serial line's own buffer) rather than piling up in memory a crash would lose.
pub const WAITING_INPUTS: usize = 4;

/// The running owner of the door state. Dropping it stops the owner (which locks the relay)
/// and waits until it has.
#[derive(Debug)]
pub struct DoorHandle {
    inputs: DoorSender,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DoorHandle {
    /// Where to send the owner its inputs.
    pub fn sender(&self) -> DoorSender {
        self.inputs.clone()
    }
}

impl Drop for DoorHandle {
    fn drop(&mut self) {
        let _ = self.inputs.send(DoorInput::Stop);
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!("the door thread panicked");
            }
        }
    }
}

/// How often the door's inputs (fire alarm, contact, exit button) are polled.
pub const INPUT_POLL: Duration = Duration::from_millis(10);

/// How often the clock's trust is re-checked and unwritten journal entries retried.
const CLOCK_CHECK: Duration = Duration::from_secs(1);

/// How many unwritten entries are kept in memory while storage fails; the oldest go first.
const BACKLOG_LIMIT: usize = 10_000;

/// Which relay an action drives.
#[derive(Clone, Copy, Debug)]
enum Relay {
    /// The door's (a turnstile lane's "open A").
    Door,
    /// A turnstile lane's exit direction ("open B").
    Exit,
}

/// A journal entry waiting for storage.
struct Unwritten {
    entry: Entry,
    at: DateTime<Utc>,
    trusted: bool,
}

/// What the door's owner publishes for others: all written by it alone.
pub struct Outlets {
    /// Wakes the uploader.
    pub written: Arc<Notify>,
    /// What the status page shows.
    pub status: Arc<Mutex<GateStatus>>,
    /// The keys the readers verify early with, republished when the core's change.
    pub keys: SharedKeys,
    /// Alarms for the desk, to the reporter (which sends them to the server).
    pub reports: UnboundedSender<AlarmReport>,
}

/// Everything a decision touches, owned by one thread.
pub struct Door {
    gate: Gate,
    pins: DoorPins,
    clock: Clock,
    journal: Journal,
    /// Wakes the uploader.
    written: Arc<Notify>,
    status: Arc<Mutex<GateStatus>>,
    keys: SharedKeys,
    reports: UnboundedSender<AlarmReport>,
    /// Entries the journal could not take yet (read-only or full storage), oldest first,
    /// with the time they happened; written before any newer entry once it can.
    backlog: VecDeque<Unwritten>,
    /// The last journal write failed (logged once per outage).
    journal_failing: bool,
}

impl Drop for Door {
    fn drop(&mut self) {
        // However the owner ends (stop, panic unwinding, channel closed), the relay ends locked.
        let _ = self.pins.set_relay(Level::Locked);
        let _ = self.pins.set_exit_relay(Level::Locked);
    }
}

impl Door {
    /// Assembles the door state; nothing runs until [`Door::spawn`].
    pub fn new(gate: Gate, pins: DoorPins, clock: Clock, journal: Journal, out: Outlets) -> Self {
        Door {
            gate,
            pins,
            clock,
            journal,
            written: out.written,
            status: out.status,
            keys: out.keys,
            reports: out.reports,
            backlog: VecDeque::new(),
            journal_failing: false,
        }
    }

    /// Starts the owner thread, taking its inputs from a new channel; it runs until it gets
    /// [`DoorInput::Stop`] or every sender is gone, and leaves the relay locked.
    pub fn spawn(self) -> std::io::Result<DoorHandle> {
        let (inputs, rx) = std::sync::mpsc::sync_channel(WAITING_INPUTS);
        let thread = std::thread::Builder::new()
            .name("door".into())
            .spawn(move || self.run(rx))?;
        Ok(DoorHandle {
            inputs,
            thread: Some(thread),
        })
    }

    fn run(mut self, inputs: Receiver<DoorInput>) {
        // systemd restarts a gate whose door loop stops petting (which locks the relay): pet
        // at half the interval, only from this loop and only after it has polled its inputs.
        let pet_every = gatehouse_shell::notify::watchdog_every();
        let mut last_pet: Option<Instant> = None;
        let mut next_poll = Instant::now();
        let mut next_clock_check = Instant::now() + CLOCK_CHECK;
        let wall = self.clock.wall();
        self.gate.handle_clock(wall);
        loop {
            let timer = self.settle();
            let wake = timer.map_or(next_poll, |t| t.min(next_poll));
            match inputs.recv_timeout(wake.saturating_duration_since(Instant::now())) {
                Ok(DoorInput::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(input) => self.handle(input),
                Err(RecvTimeoutError::Timeout) => {}
            }
            let now = Instant::now();
            if self.gate.poll_timeout().is_some_and(|t| t <= now) {
                self.gate.handle_timeout(now);
            }
            if now >= next_poll {
                next_poll = now + INPUT_POLL;
                self.poll_inputs(now);
                let due = pet_every
                    .is_some_and(|every| last_pet.is_none_or(|t| now.duration_since(t) >= every));
                if due {
                    last_pet = Some(now);
                    gatehouse_shell::notify::watchdog();
                }
            }
            if now >= next_clock_check {
                next_clock_check = now + CLOCK_CHECK;
                self.check_clock();
            }
        }
        // Leave the door locked, whatever the core thought, and decide nothing more.
        if let Err(e) = self.pins.set_relay(Level::Locked) {
            tracing::error!(error = %e, "cannot lock the relay at shutdown");
        }
        if let Err(e) = self.pins.set_exit_relay(Level::Locked) {
            tracing::error!(error = %e, "cannot lock the exit relay at shutdown");
        }
        if let Some(t) = self.clock.force_checkpoint() {
            self.save_trusted_time(t);
        }
    }

    fn handle(&mut self, input: DoorInput) {
        match input {
            DoorInput::Scan { event, direction } => self.scanned(event, direction),
            DoorInput::Sync(update) => {
                let wall = self.clock.wall();
                self.gate.handle_sync(update, wall, Instant::now());
                if self
                    .keys
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .generation
                    != self.gate.keys().generation
                {
                    *self.keys.write().unwrap_or_else(|p| p.into_inner()) =
                        self.gate.keys().clone();
                }
                if let Err(e) = self.journal.save_sync_state(self.gate.synced()) {
                    tracing::error!(error = %e, "cannot persist the sync state");
                }
            }
            DoorInput::Local(input) => self.local(input),
            DoorInput::Stop => {}
        }
    }

    /// One event from the reader for `direction`.
    fn scanned(&mut self, event: ScannerEvent, direction: Option<Direction>) {
        match event {
            ScannerEvent::Line { text, early, .. } => {
                let wall = self.clock.wall();
                let decision =
                    self.gate
                        .handle_checked_scan(&text, early, direction, wall, Instant::now());
                // Journal and relay first: the status page never shows a decision that is not
                // yet durable.
                self.perform();
                self.record(&decision, direction);
            }
            ScannerEvent::Lost { reason } => {
                tracing::warn!(%reason, ?direction, "scanner lost");
                self.gate.raise_alarm(AlarmKind::ScannerLost);
            }
            ScannerEvent::Restored => tracing::info!(?direction, "scanner restored"),
            ScannerEvent::Misconfigured { reason } => {
                tracing::warn!(%reason, ?direction, "scanner misconfigured");
                self.gate.raise_alarm(AlarmKind::ScannerMisconfigured);
            }
        }
    }

    /// Polls the door's inputs, the fire alarm first: its release goes out before anything
    /// else this tick.
    fn poll_inputs(&mut self, now: Instant) {
        let (gate, pins) = (&mut self.gate, &mut self.pins);
        if let Some(fire) = pins.fire_alarm.as_mut() {
            match fire.poll(now) {
                Ok(Some(active)) => gate.handle_fire(active, now),
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "fire-alarm input unreadable"),
            }
        }
        if let Some(contact) = pins.door_contact.as_mut() {
            match contact.poll(now) {
                Ok(Some(open)) => gate.handle_door(
                    if open {
                        DoorContact::Open
                    } else {
                        DoorContact::Closed
                    },
                    now,
                ),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "door contact unreadable"),
            }
        }
        if let Some(button) = pins.exit_button.as_mut() {
            match button.poll(now) {
                Ok(Some(true)) => gate.handle_exit_button(now),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "exit button unreadable"),
            }
        }
    }

    /// Once a second: retries unwritten entries, tells the core whether the clock is trusted,
    /// and persists the last trusted time.
    fn check_clock(&mut self) {
        self.flush_backlog();
        let wall = self.clock.wall();
        self.gate.handle_clock(wall);
        if self.clock.take_correction().is_some() {
            self.gate.raise_alarm(AlarmKind::ClockCorrected);
        }
        if let Some(t) = self.clock.checkpoint() {
            self.save_trusted_time(t);
        }
    }

    /// Performs what the core asks for, publishes the status, and returns the core's next
    /// timer.
    fn settle(&mut self) -> Option<Instant> {
        self.perform();
        self.publish();
        self.gate.poll_timeout()
    }

    fn perform(&mut self) {
        // Set when an admission's entry could not be written: its unlock does not happen.
        let mut hold_unlock = false;
        while let Some(action) = self.gate.poll_action() {
            match action {
                Action::Journal(entry) => {
                    let unlocks = entry.unlocks;
                    let wall = self.clock.wall();
                    if self.backlog.len() == BACKLOG_LIMIT {
                        self.backlog.pop_front();
                        tracing::error!("journal backlog full; the oldest unwritten entry is lost");
                    }
                    self.backlog.push_back(Unwritten {
                        entry,
                        at: wall.reading(),
                        trusted: wall.is_trusted(),
                    });
                    self.flush_backlog();
                    hold_unlock = unlocks && !self.backlog.is_empty();
                    if hold_unlock {
                        tracing::error!(
                            "journal write failed; the door stays locked for this admit"
                        );
                    }
                }
                Action::Relay(Level::Unlocked) | Action::ExitRelay(Level::Unlocked)
                    if hold_unlock =>
                {
                    hold_unlock = false
                }
                Action::ExitRelay(level) => {
                    hold_unlock = false;
                    self.drive(Relay::Exit, level);
                }
                Action::Relay(level) => {
                    hold_unlock = false;
                    self.drive(Relay::Door, level);
                }
                Action::Indicator(i) => {
                    if let Err(e) = self.pins.indicate(i) {
                        tracing::warn!(error = %e, "indicator failed");
                    }
                }
                // Without sync nobody takes reports: the journal still has the alarm.
                Action::Report(report) => {
                    let _ = self.reports.send(report);
                }
            }
        }
    }

    /// Drives a relay, tells the core when it moved, and shows the move on the status page.
    fn drive(&mut self, relay: Relay, level: Level) {
        let now = Instant::now();
        let moved = match relay {
            Relay::Door => self.pins.set_relay(level),
            Relay::Exit => self.pins.set_exit_relay(level),
        };
        match (moved, relay) {
            (Ok(()), Relay::Door) => self.gate.handle_relay_moved(level, now),
            (Ok(()), Relay::Exit) => self.gate.handle_exit_relay_moved(level, now),
            (Err(e), _) => tracing::error!(error = %e, ?level, ?relay, "relay failed"),
        }
        let t = RelayTransition {
            at: self.clock.reading(),
            level,
        };
        let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        let list = match relay {
            Relay::Door => &mut s.relay_transitions,
            Relay::Exit => &mut s.exit_relay_transitions,
        };
        GateStatus::push(list, t);
    }

    /// Writes the waiting entries in order until the journal refuses one.
    fn flush_backlog(&mut self) {
        while let Some(next) = self.backlog.front() {
            match self.journal.append(&next.entry, next.at, next.trusted) {
                Ok(full) => {
                    self.backlog.pop_front();
                    self.written.notify_one();
                    if let GateEvent::Alarm { alarm } = full.event {
                        tracing::warn!(?alarm, "alarm");
                        let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
                        GateStatus::push(&mut s.alarms, AlarmRecord { at: full.at, alarm });
                    }
                    if self.journal_failing {
                        self.journal_failing = false;
                        tracing::info!("journal writable again");
                    }
                }
                Err(e) => {
                    if !self.journal_failing {
                        self.journal_failing = true;
                        tracing::error!(
                            error = %e,
                            "journal write failed; entries wait in memory, admits stay locked, \
                             egress and fire release still work"
                        );
                    }
                    return;
                }
            }
        }
    }

    /// An input from the local status endpoint.
    fn local(&mut self, input: LocalInput) {
        match input {
            LocalInput::FireReset(reply) => {
                let reset = self.gate.reset_fire(Instant::now());
                if reset {
                    tracing::warn!("latched fire release reset by a person at the gate");
                }
                let _ = reply.send(reset);
            }
            LocalInput::Stall(pause) => {
                tracing::warn!(?pause, "SIMULATION ONLY: the door loop stalls");
                std::thread::sleep(pause);
            }
        }
    }

    fn record(&self, decision: &Decision, direction: Option<Direction>) {
        let at = self.clock.reading();
        let record = match decision {
            Decision::Admit { card, kind, flag } => {
                tracing::info!(card = %card, kind = %kind, "admitted");
                DecisionRecord {
                    at,
                    card_id: Some(*card),
                    kind: Some(*kind),
                    admitted: true,
                    reason: None,
                    flag: flag.clone(),
                    direction,
                }
            }
            Decision::Deny { reason, card, kind } => {
                tracing::info!(?reason, card = ?card.map(|c| c.0), "denied");
                DecisionRecord {
                    at,
                    card_id: *card,
                    kind: *kind,
                    admitted: false,
                    reason: Some(*reason),
                    flag: None,
                    direction,
                }
            }
        };
        let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        GateStatus::push(&mut s.decisions, record);
    }

    fn publish(&self) {
        let (gate, clock) = (&self.gate, &self.clock);
        let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        s.relay = Some(gate.relay());
        s.door = Some(gate.door());
        s.door_held = gate.door_held_open();
        s.cursor = gate.synced().cursor;
        s.lockdown = gate.synced().lockdown;
        s.emergency = gate.emergency();
        s.journal_failing = self.journal_failing;
        s.journal_backlog = self.backlog.len();
        s.clock_trusted = gate.clock_trusted();
        s.clock_reading = Some(clock.reading());
        s.clock_reason = clock.reason();
    }

    fn save_trusted_time(&mut self, t: DateTime<Utc>) {
        if let Err(e) = self.journal.set_last_trusted_time(t) {
            tracing::warn!(error = %e, "cannot persist the last trusted time");
        }
    }
}

//! The shell: one loop that feeds the core its inputs and performs every action it asks for,
//! in order (journal durably, then the relay).

use crate::clock::{self, Clock};
use crate::config::Config;
use crate::core::{Action, Decision, Direction, DoorContact, Entry, Gate, Level, WallClock};
use crate::door::{DoorError, DoorPins, DoorRelay, OutPin};
use crate::journal::{CheckpointStats, Checkpointer, Journal, JournalError};
use crate::scanner::{self, ScannerError, ScannerEvent, ScannerHandle, SharedKeys, Sink};
use crate::status::{
    self, AlarmRecord, DecisionRecord, GateStatus, LocalInput, RelayTransition, StatusState,
};
use crate::sync::{SharedSyncStatus, SyncStatus, SyncTasks};
use chrono::{DateTime, Utc};
use gatehouse_credential::api::gate::{AlarmKind, GateEvent};
use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::sync::{Notify, mpsc};

/// Why the gate cannot start or had to stop.
#[derive(Debug, Error)]
pub enum AppError {
    /// The pins could not be claimed.
    #[error("door pins: {0}")]
    Door(#[from] DoorError),
    /// The journal failed.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The scanner could not be set up.
    #[error(transparent)]
    Scanner(#[from] ScannerError),
    /// The data dir or the status listener failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The simulated clock offset is malformed.
    #[error(transparent)]
    Clock(#[from] clock::BadOffset),
}

/// Environment the gate reads besides the config file.
#[derive(Clone, Debug, Default)]
pub struct Env {
    /// `GATEHOUSE_SIM_CLOCK_OFFSET_SECS`.
    pub sim_clock_offset: Option<String>,
    /// `GATEHOUSE_ENROLMENT_TOKEN`.
    pub enrolment_token: Option<String>,
}

/// A gate that has claimed its pins, opened its journal and scanner, and bound its status
/// listener, ready to run.
pub struct Application {
    config: Config,
    env: Env,
    door: SharedDoor,
    /// Told by the readers after each decision.
    door_changed: Arc<Notify>,
    journal: Arc<Mutex<Journal>>,
    journal_written: Arc<Notify>,
    checkpointer: Checkpointer,
    /// The gate's keys as its readers see them.
    keys: SharedKeys,
    scanner: ScannerHandle,
    /// The exit reader of an entry/exit pair, when configured.
    exit_scanner: Option<ScannerHandle>,
    listener: tokio::net::TcpListener,
    status: Arc<Mutex<GateStatus>>,
    sync_status: SharedSyncStatus,
}

impl Application {
    /// Locks the door first, then opens everything else.
    pub async fn build(config: Config, env: Env) -> Result<Self, AppError> {
        // The relay is driven to "locked" before anything else can fail or take time.
        let pins = DoorPins::open(&config.pins)?;
        install_panic_lock(pins.relay.clone());
        if let Some(exit) = &pins.exit_relay {
            install_panic_lock(exit.clone());
        }
        ignore_file_size_signal();

        std::fs::create_dir_all(&config.data_dir).map_err(|source| AppError::Io {
            what: format!("cannot create data dir {}", config.data_dir.display()),
            source,
        })?;
        let mut journal = Journal::open(
            &config.data_dir.join("journal.sqlite"),
            config.journal.retain_sent,
        )?;
        let checkpointer = journal.start_checkpointer()?;
        let mut synced = journal.load_sync_state()?;
        if synced.keys.is_empty() {
            synced.keys = config.keys.clone();
        }
        let sim_offset = clock::parse_sim_offset(env.sim_clock_offset.as_deref())?;
        if let Some(offset) = sim_offset {
            tracing::warn!(
                offset_secs = offset.num_seconds(),
                "SIMULATION ONLY: {} shifts this gate's wall clock; never set it on a real door",
                clock::SIM_OFFSET_ENV
            );
        }
        let mut clock = Clock::new(journal.last_trusted_time()?, sim_offset, &config.clock);
        let mut gate = Gate::new(config.door_policy(), synced);
        remember_passages(&mut gate, &journal, &mut clock)?;
        let keys: SharedKeys = Arc::new(RwLock::new(gate.keys().clone()));
        let listener = tokio::net::TcpListener::bind(config.status_listen)
            .await
            .map_err(|source| AppError::Io {
                what: format!("cannot listen on {}", config.status_listen),
                source,
            })?;
        let status = Arc::new(Mutex::new(GateStatus {
            clock_sim_offset_secs: sim_offset.map(|o| o.num_seconds()),
            ..GateStatus::default()
        }));
        let sync_status = Arc::new(Mutex::new(SyncStatus {
            configured: config.sync.is_some(),
            ..SyncStatus::default()
        }));
        let journal = Arc::new(Mutex::new(journal));
        let journal_written = Arc::new(Notify::new());
        let door = Arc::new(Mutex::new(Door {
            gate,
            pins,
            clock,
            journal: journal.clone(),
            written: journal_written.clone(),
            status: status.clone(),
            stopped: false,
            backlog: VecDeque::new(),
            journal_failing: false,
        }));
        // The readers start last: from here on a scan is decided as soon as it is read (lines
        // wait in the serial line's own buffer, never in a queue a crash would lose).
        let door_changed = Arc::new(Notify::new());
        // With an exit reader, the main reader is the entry one; a one-reader door may be one side of a pair across controllers.
        let entry = match &config.exit_scanner {
            Some(_) => Some(Direction::Entry),
            None => config.door.direction,
        };
        let scanner = scanner::spawn(
            &config.scanner,
            reader_sink(door.clone(), door_changed.clone(), entry),
            Some(keys.clone()),
        )?;
        let exit_scanner = match &config.exit_scanner {
            Some(exit) => Some(scanner::spawn(
                exit,
                reader_sink(door.clone(), door_changed.clone(), Some(Direction::Exit)),
                Some(keys.clone()),
            )?),
            None => None,
        };
        Ok(Application {
            config,
            env,
            door,
            door_changed,
            journal,
            journal_written,
            checkpointer,
            keys,
            scanner,
            exit_scanner,
            listener,
            status,
            sync_status,
        })
    }

    /// The status endpoint's bound address.
    pub fn status_addr(&self) -> Result<SocketAddr, AppError> {
        self.listener.local_addr().map_err(|source| AppError::Io {
            what: "status listener".into(),
            source,
        })
    }

    /// What the journal checkpointer has done (for benchmarks).
    pub fn checkpoint_stats(&self) -> Arc<CheckpointStats> {
        self.checkpointer.stats.clone()
    }

    /// The sim pins, when the backend is `sim` (for in-process tests and benchmarks).
    pub fn sim(&self) -> Option<crate::door::SimControls> {
        lock_door(&self.door).pins.sim.clone()
    }

    /// Serves until `shutdown` resolves, then locks the door.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), AppError> {
        let Application {
            config,
            env,
            door,
            door_changed,
            journal,
            journal_written,
            checkpointer,
            keys,
            scanner,
            exit_scanner,
            listener,
            status,
            sync_status,
        } = self;
        let (sim, cursor, server_time) = {
            let d = lock_door(&door);
            (
                d.pins.sim.clone(),
                d.gate.synced().cursor,
                d.clock.server_time_feed(),
            )
        };
        let (local_tx, mut local_rx) = mpsc::channel(8);
        let state = StatusState {
            local: local_tx,
            gate: status.clone(),
            sync: sync_status.clone(),
            journal: journal.clone(),
            scanner: scanner.stats.clone(),
            exit_scanner: exit_scanner.as_ref().map(|h| h.stats.clone()),
            sim,
        };
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, status::router(state)).await {
                tracing::error!(error = %e, "status endpoint stopped");
            }
        });

        let (sync_tx, mut sync_rx) = mpsc::channel(64);
        let sync_task = config.sync.clone().map(|sync_config| {
            let token = sync_config
                .enrolment_token
                .clone()
                .or(env.enrolment_token.clone());
            tokio::spawn(
                SyncTasks {
                    config: sync_config,
                    data_dir: config.data_dir.clone(),
                    token,
                    cursor,
                    updates: sync_tx,
                    journal: journal.clone(),
                    journal_written,
                    status: sync_status.clone(),
                    server_time,
                }
                .run(),
            )
        });

        let mut ticker = tokio::time::interval(Duration::from_millis(10));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_clock_check = Instant::now();
        // systemd restarts a gate whose door loop stops petting (which locks the relay): pet
        // at half the interval, only from this loop and only after it has handled its inputs.
        let pet_every = sd_notify::watchdog_enabled().map(|d| d / 2);
        let mut last_pet: Option<Instant> = None;
        {
            let mut d = lock_door(&door);
            let wall = d.clock.wall();
            d.gate.handle_clock(wall);
        }
        tokio::pin!(shutdown);
        loop {
            let timeout = lock_door(&door).settle();
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                // A reader decided: the next timer may have changed.
                () = door_changed.notified() => {}
                () = sleep_until_opt(timeout) => lock_door(&door).gate.handle_timeout(Instant::now()),
                Some(input) = local_rx.recv() => lock_door(&door).local(input),
                Some(update) = sync_rx.recv() => {
                    let mut d = lock_door(&door);
                    let wall = d.clock.wall();
                    d.gate.handle_sync(update, wall, Instant::now());
                    if keys.read().unwrap_or_else(|p| p.into_inner()).generation
                        != d.gate.keys().generation
                    {
                        *keys.write().unwrap_or_else(|p| p.into_inner()) = d.gate.keys().clone();
                    }
                    let saved = journal
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .save_sync_state(d.gate.synced());
                    if let Err(e) = saved {
                        tracing::error!(error = %e, "cannot persist the sync state");
                    }
                }
                _ = ticker.tick() => {
                    let now = Instant::now();
                    let mut d = lock_door(&door);
                    let Door { gate, pins, .. } = &mut *d;
                    poll_inputs(gate, pins, now);
                    let due = pet_every
                        .is_some_and(|every| last_pet.is_none_or(|t| now.duration_since(t) >= every));
                    if due {
                        last_pet = Some(now);
                        if let Err(e) = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]) {
                            tracing::warn!(error = %e, "cannot pet the systemd watchdog");
                        }
                    }
                    if now.duration_since(last_clock_check) >= Duration::from_secs(1) {
                        last_clock_check = now;
                        d.flush_backlog();
                        let wall = d.clock.wall();
                        d.gate.handle_clock(wall);
                        if d.clock.take_correction().is_some() {
                            d.gate.raise_alarm(AlarmKind::ClockCorrected);
                        }
                        if let Some(t) = d.clock.checkpoint() {
                            d.save_trusted_time(t);
                        }
                    }
                }
            }
        }
        {
            // Leave the door locked, whatever the core thought, and decide nothing more.
            let mut d = lock_door(&door);
            d.stopped = true;
            if let Err(e) = d.pins.set_relay(Level::Locked) {
                tracing::error!(error = %e, "cannot lock the relay at shutdown");
            }
            if let Err(e) = d.pins.set_exit_relay(Level::Locked) {
                tracing::error!(error = %e, "cannot lock the exit relay at shutdown");
            }
            if let Some(t) = d.clock.force_checkpoint() {
                d.save_trusted_time(t);
            }
        }
        if let Some(t) = sync_task {
            t.abort();
        }
        server.abort();
        drop(scanner);
        drop(exit_scanner);
        drop(checkpointer);
        tracing::info!("gate stopped; relay locked");
        Ok(())
    }
}

/// Everything a decision touches. A reader decides on its own thread, so that a scan does not
/// wait for another thread to wake up; the main loop takes the same lock for timers, inputs
/// and sync, so inputs are still handled one at a time.
struct Door {
    gate: Gate,
    pins: DoorPins,
    clock: Clock,
    journal: Arc<Mutex<Journal>>,
    /// Wakes the uploader.
    written: Arc<Notify>,
    status: Arc<Mutex<GateStatus>>,
    /// Set at shutdown: nothing more is decided.
    stopped: bool,
    /// Entries the journal could not take yet (read-only or full storage), oldest first,
    /// with the time they happened; written before any newer entry once it can.
    backlog: VecDeque<Unwritten>,
    /// The last journal write failed (logged once per outage).
    journal_failing: bool,
}

/// A journal entry waiting for storage.
struct Unwritten {
    entry: Entry,
    at: DateTime<Utc>,
    trusted: bool,
}

/// How many unwritten entries are kept in memory while storage fails; the oldest go first.
const BACKLOG_LIMIT: usize = 10_000;

type SharedDoor = Arc<Mutex<Door>>;

fn lock_door(door: &SharedDoor) -> std::sync::MutexGuard<'_, Door> {
    door.lock().unwrap_or_else(|p| p.into_inner())
}

/// What a reader for `direction` does with what it reads: decides on the spot, then tells
/// the main loop, whose next timer may have changed.
fn reader_sink(door: SharedDoor, changed: Arc<Notify>, direction: Option<Direction>) -> Sink {
    Box::new(move |event| {
        lock_door(&door).scanned(event, direction);
        changed.notify_one();
    })
}

impl Drop for Door {
    fn drop(&mut self) {
        // Whoever drops the door last (the main loop or a reader), the relay ends locked.
        let _ = self.pins.set_relay(Level::Locked);
        let _ = self.pins.set_exit_relay(Level::Locked);
    }
}

impl Door {
    /// One event from the reader for `direction`.
    fn scanned(&mut self, event: ScannerEvent, direction: Option<Direction>) {
        if self.stopped {
            return;
        }
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
                self.perform();
            }
            ScannerEvent::Restored => tracing::info!(?direction, "scanner restored"),
            ScannerEvent::Misconfigured { reason } => {
                tracing::warn!(%reason, ?direction, "scanner misconfigured");
                self.gate.raise_alarm(AlarmKind::ScannerMisconfigured);
                self.perform();
            }
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
                    match self.pins.set_exit_relay(level) {
                        Ok(()) => self.gate.handle_exit_relay_moved(level, Instant::now()),
                        Err(e) => tracing::error!(error = %e, ?level, "exit relay failed"),
                    }
                    let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
                    let at = self.clock.reading();
                    let t = RelayTransition { at, level };
                    GateStatus::push(&mut s.exit_relay_transitions, t);
                }
                Action::Relay(level) => {
                    hold_unlock = false;
                    match self.pins.set_relay(level) {
                        Ok(()) => self.gate.handle_relay_moved(level, Instant::now()),
                        Err(e) => tracing::error!(error = %e, ?level, "relay failed"),
                    }
                    let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
                    let at = self.clock.reading();
                    GateStatus::push(&mut s.relay_transitions, RelayTransition { at, level });
                }
                Action::Indicator(i) => {
                    if let Err(e) = self.pins.indicate(i) {
                        tracing::warn!(error = %e, "indicator failed");
                    }
                }
            }
        }
    }

    /// Writes the waiting entries in order until the journal refuses one.
    fn flush_backlog(&mut self) {
        while let Some(next) = self.backlog.front() {
            let written = self
                .journal
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .append(&next.entry, next.at, next.trusted);
            match written {
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
        s.cursor = gate.synced().cursor;
        s.lockdown = gate.synced().lockdown;
        s.emergency = gate.emergency();
        s.journal_failing = self.journal_failing;
        s.journal_backlog = self.backlog.len();
        s.clock_trusted = gate.clock_trusted();
        s.clock_reading = Some(clock.reading());
        s.clock_reason = clock.reason();
    }

    fn save_trusted_time(&self, t: chrono::DateTime<chrono::Utc>) {
        let saved = self
            .journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set_last_trusted_time(t);
        if let Err(e) = saved {
            tracing::warn!(error = %e, "cannot persist the last trusted time");
        }
    }
}

/// Gives an anti-passback door back what it knew of recent passages before a restart.
fn remember_passages(
    gate: &mut Gate,
    journal: &Journal,
    clock: &mut Clock,
) -> Result<(), AppError> {
    if !gate.remembers_passages() {
        return Ok(());
    }
    match clock.wall() {
        WallClock::Trusted(now) => {
            let window =
                chrono::Duration::from_std(gate.passback_window()).unwrap_or(chrono::Duration::MAX);
            let since = now
                .checked_sub_signed(window)
                .unwrap_or(DateTime::<Utc>::MIN_UTC);
            let recent = journal.since(since)?;
            let cards = gate.restore_passages(&recent, now, Instant::now());
            tracing::info!(
                cards,
                "anti-passback: recent passages restored from the journal"
            );
        }
        WallClock::Untrusted { .. } => tracing::warn!(
            "anti-passback: the clock is not trusted, so the journal's recent passages cannot \
             be dated; starting with none"
        ),
    }
    Ok(())
}

fn poll_inputs(gate: &mut Gate, pins: &mut DoorPins, now: Instant) {
    // The fire input first: its release goes out before anything else this tick.
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

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// A write past `RLIMIT_FSIZE` must fail like a full disk, not kill the gate (SIGXFSZ's
/// default action), so that a door keeps its egress whatever happens to storage.
fn ignore_file_size_signal() {
    // SAFETY: SIG_IGN runs no handler code; the disposition is process-wide.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// On panic, drive the relay to "locked" before anything else happens.
fn install_panic_lock(relay: Arc<Mutex<DoorRelay<OutPin>>>) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // `try_lock`: the panic may have happened while the relay was held.
        let locked = match relay.try_lock() {
            Ok(mut r) => r.lock().is_ok(),
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner().lock().is_ok(),
            Err(std::sync::TryLockError::WouldBlock) => false,
        };
        eprintln!("gatehouse-gate panicked; relay locked: {locked}");
        previous(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::door::SimPin;

    #[test]
    fn a_panic_anywhere_leaves_the_relay_locked() {
        let pin = SimPin::new();
        let relay = Arc::new(Mutex::new(
            DoorRelay::new(OutPin::Sim(pin.clone()), false).unwrap(),
        ));
        relay.lock().unwrap().unlock().unwrap();
        assert!(pin.is_set_high(), "unlocked before the panic");
        install_panic_lock(relay);
        let crashed = std::thread::spawn(|| panic!("simulated bug in the shell")).join();
        assert!(crashed.is_err());
        assert!(!pin.is_set_high(), "the panic hook locked the relay");
    }
}

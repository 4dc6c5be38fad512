//! The shell: one loop that feeds the core its inputs and performs every action it asks for,
//! in order (journal durably, then the relay).

use crate::clock::{self, Clock};
use crate::config::Config;
use crate::core::{Action, Decision, Direction, DoorContact, Gate, Level, SyncUpdate};
use crate::door::{DoorError, DoorPins, DoorRelay, OutPin};
use crate::journal::{CheckpointStats, Checkpointer, Journal, JournalError};
use crate::scanner::{self, ScannerError, ScannerEvent, ScannerHandle, SharedKeys};
use crate::status::{self, AlarmRecord, DecisionRecord, GateStatus, RelayTransition, StatusState};
use crate::sync::{SharedSyncStatus, SyncStatus, SyncTasks};
use gatehouse_credential::api::gate::{AlarmKind, GateEvent};
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

/// Scanned lines read but not yet decided.
const SCANNER_QUEUE: usize = 4;

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
    pins: DoorPins,
    journal: Arc<Mutex<Journal>>,
    checkpointer: Checkpointer,
    clock: Clock,
    gate: Gate,
    /// The gate's keys as its readers see them.
    keys: SharedKeys,
    scanner: ScannerHandle,
    scanner_rx: mpsc::Receiver<ScannerEvent>,
    /// The exit reader of an entry/exit pair, when configured.
    exit_scanner: Option<(ScannerHandle, mpsc::Receiver<ScannerEvent>)>,
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
        let clock = Clock::new(
            journal.last_trusted_time()?,
            sim_offset,
            config.clock.ntp_flag.clone(),
        );
        let gate = Gate::new(config.door_policy(), synced);

        // A short queue: lines wait in the serial line's own buffer rather than in memory,
        // where a crash would lose them.
        let (scanner_tx, scanner_rx) = mpsc::channel(SCANNER_QUEUE);
        let keys: SharedKeys = Arc::new(RwLock::new(gate.keys().clone()));
        let scanner = scanner::spawn(&config.scanner, scanner_tx, Some(keys.clone()))?;
        let exit_scanner = match &config.exit_scanner {
            Some(exit) => {
                let (tx, rx) = mpsc::channel(SCANNER_QUEUE);
                Some((scanner::spawn(exit, tx, Some(keys.clone()))?, rx))
            }
            None => None,
        };
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
        Ok(Application {
            config,
            env,
            pins,
            journal: Arc::new(Mutex::new(journal)),
            checkpointer,
            clock,
            gate,
            keys,
            scanner,
            scanner_rx,
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
        self.pins.sim.clone()
    }

    /// Serves until `shutdown` resolves, then locks the door.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), AppError> {
        let Application {
            config,
            env,
            mut pins,
            journal,
            checkpointer,
            mut clock,
            mut gate,
            keys,
            scanner,
            mut scanner_rx,
            exit_scanner,
            listener,
            status,
            sync_status,
        } = self;
        let journal_written = Arc::new(Notify::new());
        let state = StatusState {
            gate: status.clone(),
            sync: sync_status.clone(),
            journal: journal.clone(),
            scanner: scanner.stats.clone(),
            exit_scanner: exit_scanner.as_ref().map(|(h, _)| h.stats.clone()),
            sim: pins.sim.clone(),
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
                    cursor: gate.synced().cursor,
                    updates: sync_tx,
                    journal: journal.clone(),
                    journal_written: journal_written.clone(),
                    status: sync_status.clone(),
                }
                .run(),
            )
        });

        let mut shell = Shell {
            journal: journal.clone(),
            written: journal_written,
            status: status.clone(),
        };
        let mut ticker = tokio::time::interval(Duration::from_millis(10));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_clock_check = Instant::now();
        // With an exit reader, the main reader is the entry one.
        let (exit_scanner, mut exit_rx) = match exit_scanner {
            Some((handle, rx)) => (Some(handle), Some(rx)),
            None => (None, None),
        };
        let entry = exit_scanner.as_ref().map(|_| Direction::Entry);
        gate.handle_clock(clock.wall());
        tokio::pin!(shutdown);
        loop {
            shell.perform(&mut gate, &mut pins, &mut clock);
            shell.publish(&gate, &clock);
            let timeout = gate.poll_timeout();
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some(event) = scanner_rx.recv() => {
                    shell.scanned(event, entry, &mut gate, &mut pins, &mut clock);
                }
                Some(event) = recv_opt(&mut exit_rx) => {
                    shell.scanned(event, Some(Direction::Exit), &mut gate, &mut pins, &mut clock);
                }
                () = sleep_until_opt(timeout) => gate.handle_timeout(Instant::now()),
                Some(update) = sync_rx.recv() => {
                    if let SyncUpdate::Snapshot(s) = &update {
                        clock.note_server_time(s.server_time);
                    }
                    gate.handle_sync(update, clock.wall(), Instant::now());
                    if keys.read().unwrap_or_else(|p| p.into_inner()).generation
                        != gate.keys().generation
                    {
                        *keys.write().unwrap_or_else(|p| p.into_inner()) = gate.keys().clone();
                    }
                    let saved = journal
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .save_sync_state(gate.synced());
                    if let Err(e) = saved {
                        tracing::error!(error = %e, "cannot persist the sync state");
                    }
                }
                _ = ticker.tick() => {
                    let now = Instant::now();
                    poll_inputs(&mut gate, &mut pins, now);
                    if now.duration_since(last_clock_check) >= Duration::from_secs(1) {
                        last_clock_check = now;
                        gate.handle_clock(clock.wall());
                        if let Some(t) = clock.checkpoint() {
                            shell.save_trusted_time(t);
                        }
                    }
                }
            }
        }
        // Leave the door locked, whatever the core thought.
        if let Err(e) = pins.set_relay(Level::Locked) {
            tracing::error!(error = %e, "cannot lock the relay at shutdown");
        }
        if let Some(t) = clock.force_checkpoint() {
            shell.save_trusted_time(t);
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

/// Executes actions and publishes status.
struct Shell {
    journal: Arc<Mutex<Journal>>,
    written: Arc<Notify>,
    status: Arc<Mutex<GateStatus>>,
}

impl Shell {
    /// One event from the reader for `direction`.
    fn scanned(
        &mut self,
        event: ScannerEvent,
        direction: Option<Direction>,
        gate: &mut Gate,
        pins: &mut DoorPins,
        clock: &mut Clock,
    ) {
        match event {
            ScannerEvent::Line { text, early, .. } => {
                let decision =
                    gate.handle_checked_scan(&text, early, direction, clock.wall(), Instant::now());
                // Journal and relay first: the status page never shows a decision that is not
                // yet durable.
                self.perform(gate, pins, clock);
                self.record(&decision, direction, clock);
            }
            ScannerEvent::Lost { reason } => {
                tracing::warn!(%reason, ?direction, "scanner lost");
                gate.raise_alarm(AlarmKind::ScannerLost);
            }
            ScannerEvent::Restored => tracing::info!(?direction, "scanner restored"),
        }
    }

    fn perform(&mut self, gate: &mut Gate, pins: &mut DoorPins, clock: &mut Clock) {
        // Set when a journal write failed: the relay then stays locked for that decision.
        let mut journal_failed = false;
        while let Some(action) = gate.poll_action() {
            match action {
                Action::Journal(entry) => {
                    let wall = clock.wall();
                    let written = self
                        .journal
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .append(&entry, wall.reading(), wall.is_trusted());
                    match written {
                        Ok(full) => {
                            self.written.notify_one();
                            if let GateEvent::Alarm { alarm } = full.event {
                                tracing::warn!(?alarm, "alarm");
                                let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
                                GateStatus::push(&mut s.alarms, AlarmRecord { at: full.at, alarm });
                            }
                            journal_failed = false;
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "journal write failed; door stays locked");
                            journal_failed = true;
                        }
                    }
                }
                Action::Relay(Level::Unlocked) if journal_failed => {}
                Action::Relay(level) => {
                    match pins.set_relay(level) {
                        Ok(()) => gate.handle_relay_moved(level, Instant::now()),
                        Err(e) => tracing::error!(error = %e, ?level, "relay failed"),
                    }
                    let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
                    let at = clock.reading();
                    GateStatus::push(&mut s.relay_transitions, RelayTransition { at, level });
                }
                Action::Indicator(i) => {
                    if let Err(e) = pins.indicate(i) {
                        tracing::warn!(error = %e, "indicator failed");
                    }
                }
            }
        }
    }

    fn record(&self, decision: &Decision, direction: Option<Direction>, clock: &Clock) {
        let at = clock.reading();
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

    fn publish(&self, gate: &Gate, clock: &Clock) {
        let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        s.relay = Some(gate.relay());
        s.door = Some(gate.door());
        s.cursor = gate.synced().cursor;
        s.lockdown = gate.synced().lockdown;
        s.clock_trusted = gate.clock_trusted();
        s.clock_reading = Some(clock.reading());
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

fn poll_inputs(gate: &mut Gate, pins: &mut DoorPins, now: Instant) {
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

async fn recv_opt(rx: &mut Option<mpsc::Receiver<ScannerEvent>>) -> Option<ScannerEvent> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
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

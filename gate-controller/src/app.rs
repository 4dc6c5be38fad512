//! The shell: builds the gate (relay locked first), starts the owner of the door state
//! ([`crate::door_loop`]), the readers, the status endpoint and sync, and wires them to the
//! owner with channels.

use crate::clock::{self, Clock, ServerTimeFeed};
use crate::config::Config;
use crate::core::{Direction, Gate, WallClock};
use crate::door::{DoorError, DoorPins, DoorRelay, OutPin, SimControls};
use crate::door_loop::{Door, DoorHandle, DoorInput, DoorSender, Outlets};
use crate::journal::{CheckpointStats, Checkpointer, Journal, JournalError};
use crate::scanner::{self, ScannerError, ScannerHandle, SharedKeys, Sink};
use crate::status::{self, GateStatus, StatusState};
use crate::sync::{SharedSyncStatus, SyncStatus, SyncTasks};
use chrono::{DateTime, Utc};
use gatehouse_credential::api::device::AlarmReport;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;
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

/// A gate that has claimed its pins, opened its journal and scanner, started the owner of
/// its door state, and bound its status listener, ready to run.
pub struct Application {
    config: Config,
    env: Env,
    /// The owner of the door state.
    door: DoorHandle,
    /// The uploader's and the status page's own journal connection.
    journal: Arc<Mutex<Journal>>,
    journal_written: Arc<Notify>,
    checkpointer: Checkpointer,
    scanner: ScannerHandle,
    /// The exit reader of an entry/exit pair, when configured.
    exit_scanner: Option<ScannerHandle>,
    listener: tokio::net::TcpListener,
    status: Arc<Mutex<GateStatus>>,
    sync_status: SharedSyncStatus,
    sim: Option<SimControls>,
    /// The change cursor the door state was saved with.
    cursor: u64,
    server_time: ServerTimeFeed,
    /// Alarms the door's owner reports to the desk, for the reporter.
    reports: mpsc::UnboundedReceiver<AlarmReport>,
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
        let uploads = Arc::new(Mutex::new(journal.another_connection()?));
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
        let journal_written = Arc::new(Notify::new());
        let (sim, cursor, server_time) = (
            pins.sim.clone(),
            gate.synced().cursor,
            clock.server_time_feed(),
        );
        let (reports, reports_rx) = mpsc::unbounded_channel();
        let outlets = Outlets {
            written: journal_written.clone(),
            status: status.clone(),
            keys: keys.clone(),
            reports,
        };
        let door = Door::new(gate, pins, clock, journal, outlets)
            .spawn()
            .map_err(|source| AppError::Io {
                what: "cannot start the door thread".into(),
                source,
            })?;
        // The readers start last. A line is handed to the door's owner the moment it is read;
        // the owner takes one input at a time, so a scan waits only for the input before it.
        // With an exit reader, the main reader is the entry one; a one-reader door may be one
        // side of a pair across controllers.
        let entry = match &config.exit_scanner {
            Some(_) => Some(Direction::Entry),
            None => config.door.direction,
        };
        let scanner = scanner::spawn(
            &config.scanner,
            reader_sink(door.sender(), entry),
            Some(keys.clone()),
        )?;
        let exit_scanner = match &config.exit_scanner {
            Some(exit) => Some(scanner::spawn(
                exit,
                reader_sink(door.sender(), Some(Direction::Exit)),
                Some(keys),
            )?),
            None => None,
        };
        Ok(Application {
            config,
            env,
            door,
            journal: uploads,
            journal_written,
            checkpointer,
            scanner,
            exit_scanner,
            listener,
            status,
            sync_status,
            sim,
            cursor,
            server_time,
            reports: reports_rx,
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
    pub fn sim(&self) -> Option<SimControls> {
        self.sim.clone()
    }

    /// Serves until `shutdown` resolves, then locks the door.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), AppError> {
        let door = self.door;
        let journal = self.journal;
        let status = self.status;
        let sync_status = self.sync_status;
        let (local_tx, local_rx) = mpsc::channel(8);
        forward(local_rx, door.sender(), DoorInput::Local)?;
        let state = StatusState {
            local: local_tx,
            gate: status.clone(),
            sync: sync_status.clone(),
            journal: journal.clone(),
            scanner: self.scanner.stats.clone(),
            exit_scanner: self.exit_scanner.as_ref().map(|h| h.stats.clone()),
            sim: self.sim,
        };
        let listener = self.listener;
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, status::router(state)).await {
                tracing::error!(error = %e, "status endpoint stopped");
            }
        });

        let (sync_tx, sync_rx) = mpsc::channel(64);
        forward(sync_rx, door.sender(), DoorInput::Sync)?;
        let sync_task = self.config.sync.clone().map(|sync_config| {
            let token = sync_config
                .enrolment_token
                .clone()
                .or(self.env.enrolment_token.clone());
            tokio::spawn(
                SyncTasks {
                    config: sync_config,
                    data_dir: self.config.data_dir.clone(),
                    token,
                    cursor: self.cursor,
                    updates: sync_tx,
                    journal: journal.clone(),
                    journal_written: self.journal_written,
                    status: sync_status.clone(),
                    server_time: self.server_time,
                    reports: self.reports,
                    door: status,
                }
                .run(),
            )
        });

        shutdown.await;
        // The owner locks the door, saves the trusted time and stops deciding.
        if tokio::task::spawn_blocking(move || drop(door))
            .await
            .is_err()
        {
            tracing::error!("the door thread did not stop cleanly");
        }
        if let Some(t) = sync_task {
            t.abort();
        }
        server.abort();
        drop(self.scanner);
        drop(self.exit_scanner);
        drop(self.checkpointer);
        tracing::info!("gate stopped; relay locked");
        Ok(())
    }
}

/// Hands what an async task produces to the door's owner, as the input `wrap` makes of it,
/// on a thread of its own (a send waits while the owner's few input slots are taken, which
/// must not hold up an async worker). It ends when either side is gone.
fn forward<T: Send + 'static>(
    mut rx: mpsc::Receiver<T>,
    door: DoorSender,
    wrap: fn(T) -> DoorInput,
) -> Result<(), AppError> {
    std::thread::Builder::new()
        .name("door-input".into())
        .spawn(move || {
            while let Some(item) = rx.blocking_recv() {
                if door.send(wrap(item)).is_err() {
                    return;
                }
            }
        })
        .map(drop)
        .map_err(|source| AppError::Io {
            what: "cannot start a door input thread".into(),
            source,
        })
}

/// What a reader for `direction` does with what it reads: hands it to the door's owner.
fn reader_sink(door: DoorSender, direction: Option<Direction>) -> Sink {
    Box::new(move |event| {
        let _ = door.send(DoorInput::Scan { event, direction });
    })
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

//! The local status endpoint: `GET /status` (JSON) for installers and tests, `POST /fire/reset`
//! to end a latched fire release at the gate; with the sim pin backend also `POST /sim/door`,
//! `POST /sim/exit` and `POST /sim/fire` to drive the simulated inputs.

use crate::core::{Direction, DoorContact, Emergency, Level};
use crate::door::SimControls;
use crate::journal::Journal;
use crate::scanner::ScannerStats;
use crate::sync::SharedSyncStatus;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use gatehouse_credential::api::gate::{AlarmKind, DenyReason};
use gatehouse_credential::{CardId, Kind};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many decisions, transitions and alarms the status page keeps.
pub const RECENT: usize = 50;

/// One relay level change.
#[derive(Clone, Debug, Serialize)]
pub struct RelayTransition {
    /// When.
    pub at: DateTime<Utc>,
    /// The new level.
    pub level: Level,
}

/// One decision.
#[derive(Clone, Debug, Serialize)]
pub struct DecisionRecord {
    /// When.
    pub at: DateTime<Utc>,
    /// The card, when the credential verified.
    pub card_id: Option<CardId>,
    /// Its kind.
    pub kind: Option<Kind>,
    /// Whether the door opened.
    pub admitted: bool,
    /// Why not.
    pub reason: Option<DenyReason>,
    /// A soft violation.
    pub flag: Option<String>,
    /// Which reader, on a door with an entry and an exit reader.
    pub direction: Option<Direction>,
}

/// One alarm.
#[derive(Clone, Debug, Serialize)]
pub struct AlarmRecord {
    /// When.
    pub at: DateTime<Utc>,
    /// Which.
    pub alarm: AlarmKind,
}

/// What the main loop publishes.
#[derive(Debug, Default, Serialize)]
pub struct GateStatus {
    /// The relay's level.
    pub relay: Option<Level>,
    /// The door contact.
    pub door: Option<DoorContact>,
    /// The door has stood open past its limit and not shut since.
    pub door_held: bool,
    /// Recent relay transitions, oldest first.
    pub relay_transitions: VecDeque<RelayTransition>,
    /// Recent transitions of a turnstile lane's exit relay, oldest first.
    pub exit_relay_transitions: VecDeque<RelayTransition>,
    /// Recent decisions, oldest first.
    pub decisions: VecDeque<DecisionRecord>,
    /// Recent alarms, oldest first.
    pub alarms: VecDeque<AlarmRecord>,
    /// The change cursor.
    pub cursor: u64,
    /// Lockdown as synced.
    pub lockdown: bool,
    /// Whether the clock is trusted.
    pub clock_trusted: Option<bool>,
    /// What the clock reads.
    pub clock_reading: Option<DateTime<Utc>>,
    /// The simulation offset, if set.
    pub clock_sim_offset_secs: Option<i64>,
    /// Fire alarm, evacuation and release.
    pub emergency: Emergency,
    /// The journal's last write failed.
    pub journal_failing: bool,
    /// Entries waiting in memory for the journal.
    pub journal_backlog: usize,
    /// Why the clock is trusted or not.
    pub clock_reason: Option<crate::clock::Reason>,
}

/// What the endpoint asks of the door's owner.
#[derive(Debug)]
pub enum LocalInput {
    /// A person ends a latched fire release; the answer says whether there was one.
    FireReset(tokio::sync::oneshot::Sender<bool>),
    /// Simulation only: the door loop stops for this long, holding the door state, as a
    /// deadlocked or hung loop would (to test the watchdog).
    Stall(Duration),
}

impl GateStatus {
    /// Appends to a bounded list.
    pub fn push<T>(list: &mut VecDeque<T>, item: T) {
        if list.len() == RECENT {
            list.pop_front();
        }
        list.push_back(item);
    }
}

/// Shared by the main loop and the endpoint.
#[derive(Clone)]
pub struct StatusState {
    /// Inputs for the door's owner.
    pub local: tokio::sync::mpsc::Sender<LocalInput>,
    /// Published by the main loop.
    pub gate: Arc<Mutex<GateStatus>>,
    /// Sync's own status.
    pub sync: SharedSyncStatus,
    /// For the pending-upload count.
    pub journal: Arc<Mutex<Journal>>,
    /// Scanner counters.
    pub scanner: Arc<ScannerStats>,
    /// The exit reader's counters, when there is one.
    pub exit_scanner: Option<Arc<ScannerStats>>,
    /// Sim inputs, when the backend is `sim`.
    pub sim: Option<SimControls>,
}

/// The router.
pub fn router(state: StatusState) -> Router {
    let mut router = Router::new()
        .route("/status", get(status))
        .route("/fire/reset", post(fire_reset));
    if state.sim.is_some() {
        router = router
            .route("/sim/fire", post(sim_fire))
            .route("/sim/stall", post(sim_stall))
            .route("/sim/door", post(sim_door))
            .route("/sim/exit", post(sim_exit));
    }
    router.with_state(state)
}

async fn status(State(state): State<StatusState>) -> Json<serde_json::Value> {
    let pending = state
        .journal
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .pending()
        .ok();
    let gate = state.gate.lock().unwrap_or_else(|p| p.into_inner());
    let sync = state.sync.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Json(serde_json::json!({
        "door": {
            "relay": gate.relay,
            "contact": gate.door,
            "relay_transitions": gate.relay_transitions,
            "exit_relay_transitions": gate.exit_relay_transitions,
        },
        "decisions": gate.decisions,
        "alarms": gate.alarms,
        "sync": {
            "configured": sync.configured,
            "device_id": sync.device_id,
            "cursor": gate.cursor,
            "lockdown": gate.lockdown,
            "last_sync": sync.last_sync,
            "server_reachable": sync.server_reachable,
            "last_error": sync.last_error,
            "backoff_secs": sync.backoff_secs,
            "uploaded": sync.uploaded,
        },
        "clock": {
            "trusted": gate.clock_trusted,
            "reading": gate.clock_reading,
            "sim_offset_secs": gate.clock_sim_offset_secs,
            "reason": gate.clock_reason,
        },
        "emergency": gate.emergency,
        "journal": {
            "pending_uploads": pending,
            "failing": gate.journal_failing,
            "unwritten": gate.journal_backlog,
        },
        "scanner": scanner_json(&state.scanner),
        "exit_scanner": state.exit_scanner.as_deref().map(scanner_json),
        // When the simulated fire loop changed, to time the release against.
        "sim": state.sim.as_ref().map(|sim| serde_json::json!({
            "fire_alarm_transitions": sim.fire_alarm.transitions(),
        })),
    }))
}

fn scanner_json(s: &ScannerStats) -> serde_json::Value {
    serde_json::json!({
        "connected": s.connected.load(Ordering::Relaxed),
        "lines": s.lines.load(Ordering::Relaxed),
        "dropped_too_long": s.dropped_too_long.load(Ordering::Relaxed),
        "dropped_not_text": s.dropped_not_text.load(Ordering::Relaxed),
        "debounced": s.debounced.load(Ordering::Relaxed),
        "gm65_setup_ok": s.setup_ok.load(Ordering::Relaxed),
        "baud": s.baud.load(Ordering::Relaxed),
    })
}

/// Ends a latched fire release: 204 when it was reset, 409 when there is none to reset or
/// the alarm is still active.
async fn fire_reset(State(state): State<StatusState>) -> StatusCode {
    let (tx, rx) = tokio::sync::oneshot::channel();
    if state.local.send(LocalInput::FireReset(tx)).await.is_err() {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    match rx.await {
        Ok(true) => StatusCode::NO_CONTENT,
        Ok(false) => StatusCode::CONFLICT,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// `POST /sim/stall` body.
#[derive(Deserialize)]
struct StallInput {
    ms: u64,
}

/// Stalls the door loop (at most 60 s); answers at once.
async fn sim_stall(State(state): State<StatusState>, Json(input): Json<StallInput>) -> StatusCode {
    if state.sim.is_none() || input.ms > 60_000 {
        return StatusCode::BAD_REQUEST;
    }
    let pause = Duration::from_millis(input.ms);
    match state.local.send(LocalInput::Stall(pause)).await {
        Ok(()) => StatusCode::ACCEPTED,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// `POST /sim/fire` body.
#[derive(Deserialize)]
struct FireInput {
    active: bool,
}

/// Drives the simulated fire loop (high = alarm) and answers once the gate has seen it.
async fn sim_fire(State(state): State<StatusState>, Json(input): Json<FireInput>) -> StatusCode {
    let Some(sim) = &state.sim else {
        return StatusCode::NOT_FOUND;
    };
    sim.fire_alarm.drive(input.active);
    wait_seen(&state, |g| g.emergency.fire_alarm == input.active).await
}

/// Waits until the published status satisfies `seen`: 204, or 504 after
/// [`SIM_DOOR_SEEN_WITHIN`].
async fn wait_seen(state: &StatusState, seen: impl Fn(&GateStatus) -> bool) -> StatusCode {
    let deadline = tokio::time::Instant::now() + SIM_DOOR_SEEN_WITHIN;
    loop {
        if seen(&state.gate.lock().unwrap_or_else(|p| p.into_inner())) {
            return StatusCode::NO_CONTENT;
        }
        if tokio::time::Instant::now() >= deadline {
            return StatusCode::GATEWAY_TIMEOUT;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `POST /sim/door` body.
#[derive(Deserialize)]
struct DoorInput {
    open: bool,
}

/// How long `POST /sim/door` waits for the gate to see the contact it drove.
const SIM_DOOR_SEEN_WITHIN: Duration = Duration::from_secs(2);

/// Drives the simulated door contact and answers once the gate has seen it (after its input
/// debounce), so that a caller's next step happens with the door as it asked: an open and a
/// close posted back to back are a person walking through, not a bounce the gate ignores.
async fn sim_door(State(state): State<StatusState>, Json(input): Json<DoorInput>) -> StatusCode {
    let Some(sim) = &state.sim else {
        return StatusCode::NOT_FOUND;
    };
    sim.door_contact.drive(input.open);
    let want = if input.open {
        DoorContact::Open
    } else {
        DoorContact::Closed
    };
    wait_seen(&state, |g| g.door == Some(want)).await
}

async fn sim_exit(State(state): State<StatusState>) -> StatusCode {
    match &state.sim {
        Some(sim) => {
            sim.exit_button.drive(true);
            // Held longer than the input debounce, like a finger on the button.
            tokio::time::sleep(Duration::from_millis(150)).await;
            sim.exit_button.drive(false);
            StatusCode::NO_CONTENT
        }
        None => StatusCode::NOT_FOUND,
    }
}

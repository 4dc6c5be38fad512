//! Gate sync and journal upload, exactly as `credential::api::gate` documents them.

use super::Endpoint;
use super::act;
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery};
use super::openapi::{Io, one, params};
use crate::auth::Actor;
use crate::auth::Allow;
use crate::changes;
use crate::domain::{estate, gate_reports, journal};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use axum::routing::{get, post};
use gatehouse_credential::api::gate::{
    ChangeBatch, DoorState, GateReport, GateSnapshot, JournalAck, JournalUpload, RelayState,
};
use serde::Deserialize;
use std::time::Duration;

/// The longest a gate may ask the server to hold a long poll.
pub const MAX_WAIT_MS: u64 = 30_000;

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/api/v1/gate/snapshot", get(snapshot))
            .allow(Allow::GATE)
            .doc(
                "gate",
                "Keys, calendar, lockdown and the cursor they reflect",
            )
            .io(Io::ok(one::<GateSnapshot>)),
        Endpoint::new(Method::GET, "/api/v1/gate/changes", get(changes_since))
            .allow(Allow::GATE)
            .doc(
                "gate",
                "Changes after a cursor; long poll with wait_ms; carries the gate's relay, door and fire input",
            )
            .io(Io::ok(one::<ChangeBatch>).params(&[params::<ChangesQuery>])),
        Endpoint::new(Method::POST, "/api/v1/gate/journal", post(upload_journal))
            .allow(Allow::GATE)
            .doc("gate", "Upload journal entries, stored once by id")
            .io(Io::ok(one::<JournalAck>).body(one::<JournalUpload>)),
    ]
}

async fn snapshot(State(state): State<AppState>) -> Result<Json<GateSnapshot>, ApiError> {
    let snapshot = state
        .db
        .call(move |c| {
            // One read transaction so the cursor matches the calendar and lockdown state.
            let tx = c.savepoint()?;
            let snapshot = GateSnapshot {
                keys: crate::keys::published(&tx)?,
                calendar: estate::calendar(&tx)?,
                lockdown: estate::lockdown(&tx)?,
                evacuation: crate::domain::emergency::evacuation_active(&tx)?,
                server_time: chrono::Utc::now(),
                cursor: changes::cursor(&tx)?,
            };
            tx.commit()?;
            Ok::<_, ApiError>(snapshot)
        })
        .await?;
    Ok(Json(snapshot))
}

/// `?since=N&wait_ms=M`, and the gate's own state: `&relay=…&door=…&fire=…`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChangesQuery {
    /// The cursor: the last `seq` the gate applied (0 from scratch).
    pub since: u64,
    /// How long to hold the request when nothing is new (0 = answer at once; at most 30 000).
    #[serde(default)]
    pub wait_ms: u64,
    /// The door relay now: `locked` or `released` (with `door` and `fire`).
    #[param(inline)]
    pub relay: Option<RelayState>,
    /// The door now: `closed`, `open` or `held` (open past its time).
    #[param(inline)]
    pub door: Option<DoorState>,
    /// Whether the gate's fire-alarm input is in alarm.
    pub fire: Option<bool>,
}

impl ChangesQuery {
    /// The gate's state, if it sent it: all three parameters or none.
    fn report(&self) -> Result<Option<GateReport>, ApiError> {
        match (self.relay, self.door, self.fire) {
            (Some(relay), Some(door), Some(fire)) => Ok(Some(GateReport { relay, door, fire })),
            (None, None, None) => Ok(None),
            _ => Err(ApiError::invalid(
                "relay, door and fire are reported together or not at all",
            )),
        }
    }
}

async fn changes_since(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<ChangesQuery>,
) -> Result<Json<ChangeBatch>, ApiError> {
    let since = q.since;
    let report = q.report()?;
    // The gate reports for itself only: the device comes from its key, not from the request.
    let device_id = actor
        .device()
        .map(|d| d.id.clone())
        .ok_or_else(|| ApiError::Forbidden("only a gate reports its sync state".into()))?;
    let now = state.now();
    state
        .db
        .call(move |c| {
            gate_reports::record(c, &device_id, since, report, now).map_err(ApiError::from)
        })
        .await?;
    // Subscribe before reading, so a change committed between the read and the wait still wakes us.
    let mut committed = state.db.change_seq();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(q.wait_ms.min(MAX_WAIT_MS));
    let mut found = read_changes(&state, since).await?;
    if found.is_empty() && q.wait_ms > 0 {
        let mut shutdown = state.shutdown.clone();
        let waiting = metrics::gauge!("gate_long_polls_waiting");
        waiting.increment(1.0);
        let woke = tokio::select! {
            r = committed.wait_for(|seq| *seq > since) => r.is_ok(),
            () = tokio::time::sleep_until(deadline) => false,
            _ = shutdown.wait_for(|down| *down) => false,
        };
        waiting.decrement(1.0);
        if woke {
            found = read_changes(&state, since).await?;
        }
    }
    let cursor = found.last().map_or(since, |c| c.seq);
    Ok(Json(ChangeBatch {
        changes: found,
        cursor,
    }))
}

async fn read_changes(
    state: &AppState,
    since: u64,
) -> Result<Vec<gatehouse_credential::api::gate::Change>, ApiError> {
    act::call(state, move |c| changes::since(c, since)).await
}

/// The answer to a refused upload.
fn refusal(refused: journal::Refused) -> ApiError {
    let details = refused.details();
    let error = match refused {
        journal::Refused::Time { .. } => ApiError::Unprocessable {
            code: "date_out_of_range",
            message: refused.to_string(),
        },
        journal::Refused::Flag { .. } => ApiError::invalid(refused.to_string()),
    };
    error.with_details(details)
}

async fn upload_journal(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(upload): ApiJson<JournalUpload>,
) -> Result<Json<JournalAck>, ApiError> {
    if upload.entries.len() > journal::MAX_UPLOAD {
        return Err(ApiError::invalid(format!(
            "at most {} entries per upload; this one has {}",
            journal::MAX_UPLOAD,
            upload.entries.len()
        )));
    }
    let device_id = actor
        .device()
        .map(|d| d.id.clone())
        .ok_or_else(|| ApiError::Forbidden("only a gate uploads its journal".into()))?;
    let now = state.now();
    let permits = upload
        .entries
        .iter()
        .any(|e| e.kind == Some(gatehouse_credential::Kind::GoodsRelease));
    let stored = state
        .db
        .call(move |c| {
            let tx = c.savepoint()?;
            let enrolled = journal::enrolled_at(&tx, &device_id)?;
            if let Err(refused) = journal::check(&upload.entries, enrolled, now) {
                // In the service log, so whoever looks after the gates sees why its journal
                // stopped arriving; the upload itself changes nothing.
                tracing::warn!(device = %device_id, details = %refused.details(), "gate journal upload refused: {refused}");
                metrics::counter!("gate_journal_uploads_refused_total").increment(1);
                return Ok(Err(refused));
            }
            let stored = journal::store(&tx, &device_id, &upload.entries, now)?;
            tx.commit()?;
            Ok::<_, ApiError>(Ok(stored))
        })
        .await?
        .map_err(refusal)?;
    if permits {
        // The guard page shows a permit scanned at a gate at once.
        state.goods_feed.send_modify(|n| *n += 1);
    }
    Ok(Json(JournalAck { stored }))
}

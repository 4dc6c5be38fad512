//! Device alarms: kiosks and gates raise and clear them, the front desk sees and acknowledges
//! them (see [`crate::domain::alarms`]).

use super::Endpoint;
use super::extract::{ApiJson, ApiPath};
use super::openapi::{self, Io, RowId, one, params};
use crate::auth::Actor;
use crate::auth::Allow;
use crate::domain::alarms::{self, Alarm};
use crate::domain::desk_error::DeskError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::{get, post};
use gatehouse_credential::api::device::AlarmReport;

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::POST, "/api/v1/device/alarms", post(report))
            .allow(Allow::KIOSK.or(Allow::GATE))
            .doc("alarms", "Raise or clear an alarm of the calling device")
            .io(Io::NO_CONTENT.body(one::<AlarmReport>)),
        Endpoint::new(Method::GET, "/api/v1/alarms", get(list))
            .allow(Allow::STAFF)
            .doc(
                "alarms",
                "Alarms the desk has not yet seen or whose cause lasts, newest first",
            )
            .io(Io::ok(openapi::list::<Alarm>)),
        Endpoint::new(
            Method::POST,
            "/api/v1/alarms/{id}/acknowledge",
            post(acknowledge),
        )
        .allow(Allow::STAFF)
        .doc("alarms", "A staff member has seen the alarm")
        .io(Io::ok(one::<Alarm>).params(&[params::<RowId>])),
    ]
}

async fn report(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<AlarmReport>,
) -> Result<StatusCode, DeskError> {
    let now = state.now();
    state
        .db
        .call(move |c| {
            let tx = c.savepoint()?;
            alarms::report(&tx, &actor, &body, now)?;
            tx.commit()?;
            Ok::<_, DeskError>(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list(State(state): State<AppState>) -> Result<Json<Vec<Alarm>>, DeskError> {
    Ok(Json(state.db.call(|c| alarms::open(c)).await?))
}

async fn acknowledge(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Alarm>, DeskError> {
    let now = state.now();
    let alarm = state
        .db
        .call(move |c| {
            let tx = c.savepoint()?;
            let alarm = alarms::acknowledge(&tx, &actor, id, now)?;
            tx.commit()?;
            Ok::<_, DeskError>(alarm)
        })
        .await?;
    Ok(Json(alarm))
}

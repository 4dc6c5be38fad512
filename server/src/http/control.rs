//! A manager's remote unlock of one door and the estate-wide lockdown, pushed to gates as changes.

use super::Endpoint;
use super::act::{self, Act};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::openapi::{DoorDevice, Io, list, one, params};
use crate::auth::Allow;
use crate::domain::{devices, emergency, estate, gate_reports};
use crate::state::AppState;
use crate::{audit, changes};
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use axum::routing::{get, post, put};
use gatehouse_credential::api::device::DeviceKind;
use gatehouse_credential::api::gate::ChangeEvent;
use serde::{Deserialize, Serialize};

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            Method::POST,
            "/api/v1/doors/{device_id}/unlock",
            post(unlock),
        )
        .allow(Allow::MANAGER)
        .doc("control", "Open one gate's door remotely")
        .io(Io::ok(one::<Pushed>)
            .body(one::<UnlockBody>)
            .params(&[params::<DoorDevice>])),
        Endpoint::new(Method::GET, "/api/v1/doors", get(doors))
            .allow(Allow::ANY_STAFF)
            .doc(
                "control",
                "Every gate: online, last seen, how far behind its sync is, relay, door and fire input",
            )
            .io(Io::ok(list::<gate_reports::Door>)),
        Endpoint::new(Method::GET, "/api/v1/lockdown", get(lockdown))
            .allow(Allow::STAFF)
            .doc("control", "Whether the estate is in lockdown")
            .io(Io::ok(one::<Lockdown>)),
        Endpoint::new(Method::PUT, "/api/v1/lockdown", put(set_lockdown))
            .allow(Allow::MANAGER)
            .doc("control", "Switch estate-wide lockdown on or off")
            .io(Io::ok(one::<Pushed>).body(one::<Lockdown>)),
    ]
}

/// Every gate not retired, with what it last reported of itself.
async fn doors(State(state): State<AppState>) -> Result<Json<Vec<gate_reports::Door>>, ApiError> {
    let now = state.now();
    let doors = act::call(&state, move |c| gate_reports::doors(c, now)).await?;
    Ok(Json(doors))
}

/// `POST /api/v1/doors/{device_id}/unlock` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UnlockBody {
    /// How long to hold the door open, 1–60 seconds (default 5).
    #[serde(default = "default_seconds")]
    #[schema(minimum = 1, maximum = 60)]
    pub seconds: u32,
    /// Why the door is opened, for the audit log.
    #[serde(default)]
    pub reason: Option<String>,
}

fn default_seconds() -> u32 {
    5
}

/// The change a command produced.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Pushed {
    /// Its sequence number in the gate change log (none when nothing changed).
    pub seq: Option<u64>,
    /// What else the operator must know, e.g. that an evacuation keeps doors released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

async fn unlock(
    act: Act,
    ApiPath(device_id): ApiPath<String>,
    ApiJson(body): ApiJson<UnlockBody>,
) -> Result<Json<Pushed>, ApiError> {
    if !(1..=60).contains(&body.seconds) {
        return Err(ApiError::invalid("seconds is 1–60"));
    }
    let seq = act
        .write(move |tx, actor, now| {
            let device = devices::get(tx, &device_id)?;
            if device.kind != DeviceKind::Gate || device.state == "revoked" {
                return Err(ApiError::invalid(format!(
                    "device {device_id} is not an active gate"
                )));
            }
            audit::record(
                tx,
                actor,
                "door.remote_unlock",
                &format!("device:{device_id}"),
                serde_json::json!({ "seconds": body.seconds, "reason": body.reason }),
                now,
            )?;
            let seq = changes::append(
                tx,
                &ChangeEvent::RemoteUnlock {
                    device_id,
                    seconds: body.seconds,
                },
                now,
            )?;
            Ok(seq)
        })
        .await?;
    Ok(Json(Pushed {
        seq: Some(seq),
        notice: None,
    }))
}

/// Lockdown state.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Lockdown {
    /// On or off.
    pub active: bool,
}

async fn lockdown(State(state): State<AppState>) -> Result<Json<Lockdown>, ApiError> {
    let active = act::call(&state, estate::lockdown).await?;
    Ok(Json(Lockdown { active }))
}

async fn set_lockdown(
    act: Act,
    ApiJson(body): ApiJson<Lockdown>,
) -> Result<Json<Pushed>, ApiError> {
    let (seq, evacuating) = act
        .write(move |tx, actor, now| {
            let seq = estate::set_lockdown(tx, actor, body.active, now)?;
            let evacuating = emergency::evacuation_active(tx)?;
            Ok::<_, ApiError>((seq, evacuating))
        })
        .await?;
    // Evacuation outranks lockdown: the lockdown is recorded, but released doors stay released.
    let notice = (body.active && evacuating).then(|| emergency::RELEASED_DOORS_STAY.to_owned());
    Ok(Json(Pushed { seq, notice }))
}

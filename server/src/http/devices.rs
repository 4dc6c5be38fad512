//! Devices: a manager creates and revokes them; a device enrols with its one-time token.

use super::Endpoint;
use super::act::{self, Act};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::openapi::{self, DeviceId, Io, one, params};
use super::renovations::read;
use crate::auth::Allow;
use crate::domain::areas::{self, Area, Members};
use crate::domain::desk_error::DeskError;
use crate::domain::devices::{self, DeviceInfo, NewDevice};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post, put};
use gatehouse_credential::Zone;
use gatehouse_credential::api::device::{DeviceKind, EnrolRequest, EnrolResponse};
use gatehouse_credential::api::gate::AreaName;
use serde::Deserialize;

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::POST, "/api/v1/devices", post(create))
            .allow(Allow::MANAGER)
            .doc(
                "devices",
                "Create a kiosk or gate; returns a one-time enrolment token",
            )
            .io(Io::created(one::<NewDevice>).body(one::<CreateDevice>)),
        Endpoint::new(Method::GET, "/api/v1/devices", get(list))
            .allow(Allow::MANAGER)
            .doc("devices", "List devices")
            .io(Io::ok(openapi::list::<DeviceInfo>)),
        Endpoint::new(Method::DELETE, "/api/v1/devices/{id}", delete(revoke))
            .allow(Allow::MANAGER)
            .doc("devices", "Revoke a device and its key")
            .io(Io::NO_CONTENT.params(&[params::<DeviceId>])),
        Endpoint::new(Method::PUT, "/api/v1/devices/{id}/name", put(rename))
            .allow(Allow::MANAGER)
            .doc("devices", "Rename a device")
            .io(Io::ok(one::<DeviceInfo>)
                .body(one::<DeviceName>)
                .params(&[params::<DeviceId>])),
        Endpoint::new(Method::POST, "/api/v1/devices/enrol", post(enrol))
            .allow(Allow::ANYONE)
            .doc(
                "devices",
                "Exchange an enrolment token for the device's API key",
            )
            .io(Io::ok(one::<EnrolResponse>).body(one::<EnrolRequest>)),
        Endpoint::new(Method::GET, "/api/v1/areas", get(areas))
            .allow(Allow::MANAGER)
            .doc("devices", "Anti-passback areas and their member gates")
            .io(Io::ok(openapi::list::<Area>)),
        Endpoint::new(Method::PUT, "/api/v1/areas/{area}", put(set_area))
            .allow(Allow::MANAGER)
            .doc(
                "devices",
                "Set an anti-passback area's gates; only members' passages reach its doors",
            )
            .io(Io::ok(one::<Area>)
                .body(one::<Members>)
                .params(&[params::<openapi::AreaPath>])),
    ]
}

/// `POST /api/v1/devices` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateDevice {
    /// `gate` or `kiosk`.
    pub kind: DeviceKind,
    /// A name people recognise, e.g. "Building 2 lobby gate".
    pub name: String,
    /// For a gate: the door it guards.
    #[serde(default)]
    pub zone: Option<Zone>,
}

/// `PUT /api/v1/devices/{id}/name` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DeviceName {
    /// The new name, 1–64 characters.
    pub name: String,
}

async fn rename(
    act: Act,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<DeviceName>,
) -> Result<Json<DeviceInfo>, DeskError> {
    Ok(Json(
        act.write(move |tx, actor, now| {
            let renamed = devices::rename(tx, actor, &id, &body.name, now);
            Ok::<_, DeskError>(renamed.map_err(ApiError::from)?)
        })
        .await?,
    ))
}

async fn create(
    act: Act,
    ApiJson(body): ApiJson<CreateDevice>,
) -> Result<(StatusCode, Json<NewDevice>), ApiError> {
    let created = act
        .write(move |tx, actor, now| {
            let d = devices::create(tx, actor, body.kind, &body.name, body.zone.as_ref(), now)?;
            Ok::<_, ApiError>(d)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn list(State(state): State<AppState>) -> Result<Json<Vec<DeviceInfo>>, ApiError> {
    Ok(Json(act::call(&state, devices::list).await?))
}

async fn revoke(act: Act, ApiPath(id): ApiPath<String>) -> Result<StatusCode, ApiError> {
    act.write(move |tx, actor, now| {
        devices::revoke(tx, actor, &id, now)?;
        Ok::<_, ApiError>(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn enrol(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<EnrolRequest>,
) -> Result<Json<EnrolResponse>, ApiError> {
    let now = state.now();
    let enrolled = act::write(&state, move |tx| {
        let r = devices::enrol(tx, &body.token, now)?;
        Ok::<_, ApiError>(r)
    })
    .await?;
    tracing::info!(device = %enrolled.device_id, kind = ?enrolled.kind, "device enrolled");
    Ok(Json(enrolled))
}

async fn areas(State(state): State<AppState>) -> Result<Json<Vec<Area>>, DeskError> {
    Ok(Json(read(&state, areas::list).await?))
}

async fn set_area(
    act: Act,
    ApiPath(area): ApiPath<String>,
    ApiJson(body): ApiJson<Members>,
) -> Result<Json<Area>, DeskError> {
    let area =
        AreaName::try_from(area).map_err(|e| DeskError::invalid("invalid", e.to_string()))?;
    Ok(Json(
        act.write(move |tx, actor, now| areas::set(tx, actor, &area, &body, now))
            .await?,
    ))
}

//! Estate layout and calendar: managers edit, staff read.

use super::Endpoint;
use super::act::{self, Act};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::openapi::{BlackoutDate, BuildingNumber, Io, RowId, ScheduleNumber, one, params};
use crate::auth::Actor;
use crate::auth::Allow;
use crate::domain::estate::{
    self, Blackout, Building, BuildingEdit, Estate, EstateError, NamedZone, Unit,
};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post, put};
use chrono::{DateTime, NaiveDate, Utc};
use gatehouse_credential::{Schedule, ScheduleId, TimeWindow};
use rusqlite::Connection;
use serde::Deserialize;

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/api/v1/estate", get(show))
            .allow(Allow::STAFF)
            .doc(
                "estate",
                "Buildings, units, zones, schedules, blackout dates, time zone, lockdown",
            )
            .io(Io::ok(one::<Estate>)),
        Endpoint::new(Method::PUT, "/api/v1/estate/time-zone", put(set_time_zone))
            .allow(Allow::MANAGER)
            .doc("estate", "Set the estate's IANA time zone")
            .io(Io::NO_CONTENT.body(one::<TimeZoneBody>)),
        Endpoint::new(Method::POST, "/api/v1/buildings", post(add_building))
            .allow(Allow::MANAGER)
            .doc("estate", "Add a building (number 0–254, floor range)")
            .io(Io::created(one::<Building>).body(one::<Building>)),
        Endpoint::new(
            Method::PUT,
            "/api/v1/buildings/{number}",
            put(edit_building),
        )
        .allow(Allow::MANAGER)
        .doc(
            "estate",
            "Rename a building or change its floor range (409 floors_in_use if it would leave out a floor in use)",
        )
        .io(Io::ok(one::<Building>)
            .body(one::<BuildingEdit>)
            .params(&[params::<BuildingNumber>])),
        Endpoint::new(
            Method::DELETE,
            "/api/v1/buildings/{number}",
            delete(remove_building),
        )
        .allow(Allow::MANAGER)
        .doc(
            "estate",
            "Remove a building no unit, renovation, zone or gate names (409 building_in_use)",
        )
        .io(Io::NO_CONTENT.params(&[params::<BuildingNumber>])),
        Endpoint::new(Method::POST, "/api/v1/units", post(add_unit))
            .allow(Allow::MANAGER)
            .doc("estate", "Add a unit on a floor of a building")
            .io(Io::created(one::<Unit>).body(one::<Unit>)),
        Endpoint::new(Method::DELETE, "/api/v1/units/{id}", delete(remove_unit))
            .allow(Allow::MANAGER)
            .doc(
                "estate",
                "Remove a unit no renovation, visitor or permit refers to (409 in_use)",
            )
            .io(Io::NO_CONTENT.params(&[params::<RowId>])),
        Endpoint::new(Method::DELETE, "/api/v1/zones/{id}", delete(remove_zone))
            .allow(Allow::MANAGER)
            .doc("estate", "Remove a named zone")
            .io(Io::NO_CONTENT.params(&[params::<RowId>])),
        Endpoint::new(Method::POST, "/api/v1/zones", post(add_zone))
            .allow(Allow::MANAGER)
            .doc("estate", "Add a named zone (door, gate, lift floor)")
            .io(Io::created(one::<NamedZone>).body(one::<NamedZone>)),
        Endpoint::new(Method::PUT, "/api/v1/schedules/{id}", put(put_schedule))
            .allow(Allow::MANAGER)
            .doc("estate", "Create or replace schedule 1–15")
            .io(Io::ok(one::<gatehouse_credential::Schedule>)
                .body(one::<ScheduleBody>)
                .params(&[params::<ScheduleNumber>])),
        Endpoint::new(Method::POST, "/api/v1/blackout-dates", post(add_blackout))
            .allow(Allow::MANAGER)
            .doc("estate", "Add a blackout date")
            .io(Io::created(one::<Blackout>).body(one::<Blackout>)),
        Endpoint::new(
            Method::DELETE,
            "/api/v1/blackout-dates/{date}",
            delete(remove_blackout),
        )
        .allow(Allow::MANAGER)
        .doc("estate", "Remove a blackout date")
        .io(Io::NO_CONTENT.params(&[params::<BlackoutDate>])),
    ]
}

/// Runs the estate change `f` as the caller, now, in one committed savepoint.
async fn change<T: Send + 'static>(
    act: Act,
    f: impl FnOnce(&Connection, &Actor, DateTime<Utc>) -> Result<T, EstateError> + Send + 'static,
) -> Result<T, ApiError> {
    act.write(move |tx, actor, now| Ok(f(tx, actor, now)?))
        .await
}

async fn show(State(state): State<AppState>) -> Result<Json<Estate>, ApiError> {
    Ok(Json(act::call(&state, estate::estate).await?))
}

/// `PUT /api/v1/estate/time-zone` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TimeZoneBody {
    /// IANA name, e.g. "Asia/Shanghai".
    pub time_zone: String,
}

async fn set_time_zone(
    act: Act,
    ApiJson(body): ApiJson<TimeZoneBody>,
) -> Result<StatusCode, ApiError> {
    change(act, move |tx, actor, now| {
        estate::set_time_zone(tx, actor, &body.time_zone, now)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn add_building(
    act: Act,
    ApiJson(b): ApiJson<Building>,
) -> Result<(StatusCode, Json<Building>), ApiError> {
    let stored = b.clone();
    change(act, move |tx, actor, now| {
        estate::add_building(tx, actor, &b, now)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

async fn add_unit(
    act: Act,
    ApiJson(u): ApiJson<Unit>,
) -> Result<(StatusCode, Json<Unit>), ApiError> {
    let mut stored = u.clone();
    stored.id = change(act, move |tx, actor, now| {
        estate::add_unit(tx, actor, &u, now)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

async fn add_zone(
    act: Act,
    ApiJson(z): ApiJson<NamedZone>,
) -> Result<(StatusCode, Json<NamedZone>), ApiError> {
    let mut stored = z.clone();
    stored.id = change(act, move |tx, actor, now| {
        estate::add_zone(tx, actor, &z, now)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// `PUT /api/v1/schedules/{id}` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ScheduleBody {
    /// Name, e.g. "renovation hours".
    pub name: String,
    /// Windows: `{"days": ["Mon", …], "start": "08:00:00", "end": "12:00:00"}`.
    pub windows: Vec<TimeWindow>,
}

async fn put_schedule(
    act: Act,
    ApiPath(id): ApiPath<u8>,
    ApiJson(body): ApiJson<ScheduleBody>,
) -> Result<Json<Schedule>, ApiError> {
    let id = ScheduleId::new(id).ok_or_else(|| ApiError::invalid("schedule ids are 1–15"))?;
    let schedule = Schedule {
        id,
        name: body.name,
        windows: body.windows,
    };
    let stored = schedule.clone();
    change(act, move |tx, actor, now| {
        estate::put_schedule(tx, actor, &schedule, now)
    })
    .await?;
    Ok(Json(stored))
}

async fn add_blackout(
    act: Act,
    ApiJson(b): ApiJson<Blackout>,
) -> Result<(StatusCode, Json<Blackout>), ApiError> {
    let stored = b.clone();
    change(act, move |tx, actor, now| {
        estate::add_blackout(tx, actor, &b, now)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

async fn remove_blackout(
    act: Act,
    ApiPath(date): ApiPath<NaiveDate>,
) -> Result<StatusCode, ApiError> {
    change(act, move |tx, actor, now| {
        estate::remove_blackout(tx, actor, date, now)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_unit(act: Act, ApiPath(id): ApiPath<i64>) -> Result<StatusCode, ApiError> {
    change(act, move |tx, actor, now| {
        estate::remove_unit(tx, actor, id, now)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_zone(act: Act, ApiPath(id): ApiPath<i64>) -> Result<StatusCode, ApiError> {
    change(act, move |tx, actor, now| {
        estate::remove_zone(tx, actor, id, now)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn edit_building(
    act: Act,
    ApiPath(number): ApiPath<u8>,
    ApiJson(edit): ApiJson<BuildingEdit>,
) -> Result<Json<Building>, ApiError> {
    let stored = change(act, move |tx, actor, now| {
        estate::edit_building(tx, actor, number, &edit, now)
    })
    .await?;
    Ok(Json(stored))
}

async fn remove_building(act: Act, ApiPath(number): ApiPath<u8>) -> Result<StatusCode, ApiError> {
    change(act, move |tx, actor, now| {
        estate::remove_building(tx, actor, number, now)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

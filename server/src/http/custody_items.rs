//! Keys and radios over HTTP: the register, lending, taking back by scan (the desk's return
//! field reads labels too), losses, unit keys handed over at move-in, the overdue alarm, and
//! the shift handover's confirmation (see [`crate::domain::custody_items`]; the pages are in
//! [`super::pages`]).

use super::Endpoint;
use super::act::Act;
use super::extract::{ApiJson, ApiPath};
use super::openapi;
use super::renovations::{read, write};
use crate::auth::Allow;
use crate::domain::custody_items::{self, CheckIn, CheckOut, HandOver, Item, NewItem, OverdueItem};
use crate::domain::desk_error::DeskError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/api/v1/custody-items", get(list))
            .allow(Allow::STAFF)
            .doc(
                "custody",
                "Keys, radios and equipment: where each is, who holds it (masked)",
            )
            .io(openapi::Io::ok(
                openapi::list::<crate::domain::custody_items::Item>,
            )),
        Endpoint::new(Method::POST, "/api/v1/custody-items", post(register))
            .allow(Allow::STAFF)
            .doc("custody", "Register an item and make its QR label code")
            .io(
                openapi::Io::created(openapi::one::<crate::domain::custody_items::Item>)
                    .body(openapi::one::<crate::domain::custody_items::NewItem>),
            ),
        Endpoint::new(
            Method::POST,
            "/api/v1/custody-items/{id}/check-out",
            post(check_out),
        )
        .allow(Allow::STAFF)
        .doc("custody", "Lend an item with an expected return")
        .io(
            openapi::Io::ok(openapi::one::<crate::domain::custody_items::Item>)
                .params(&[openapi::params::<openapi::RowId>])
                .body(openapi::one::<crate::domain::custody_items::CheckOut>),
        ),
        Endpoint::new(
            Method::POST,
            "/api/v1/custody-items/check-in",
            post(check_in),
        )
        .allow(Allow::STAFF)
        .doc(
            "custody",
            "Take an item back by its scanned label, with its condition",
        )
        .io(
            openapi::Io::ok(openapi::one::<crate::domain::custody_items::Item>)
                .body(openapi::one::<crate::domain::custody_items::CheckIn>),
        ),
        Endpoint::new(Method::POST, "/api/v1/custody-items/{id}/lost", post(lost))
            .allow(Allow::STAFF)
            .doc("custody", "Declare an item lost, with a note")
            .io(
                openapi::Io::ok(openapi::one::<crate::domain::custody_items::Item>)
                    .params(&[openapi::params::<openapi::RowId>])
                    .body(openapi::one::<LostNote>),
            ),
        Endpoint::new(
            Method::POST,
            "/api/v1/custody-items/{id}/hand-over",
            post(hand_over),
        )
        .allow(Allow::STAFF)
        .doc(
            "custody",
            "Hand a unit's keys to its owner at move-in, with the count of keys",
        )
        .io(
            openapi::Io::ok(openapi::one::<crate::domain::custody_items::Item>)
                .params(&[openapi::params::<openapi::RowId>])
                .body(openapi::one::<crate::domain::custody_items::HandOver>),
        ),
        Endpoint::new(
            Method::GET,
            "/api/v1/custody-items/overdue-alarms",
            get(overdue_alarms),
        )
        .allow(Allow::STAFF)
        .doc(
            "custody",
            "Items out past their expected return: each raised once, until acknowledged",
        )
        .io(openapi::Io::ok(
            openapi::list::<crate::domain::custody_items::OverdueItem>,
        )),
        Endpoint::new(
            Method::POST,
            "/api/v1/custody-items/{id}/overdue/acknowledge",
            post(acknowledge_overdue),
        )
        .allow(Allow::STAFF)
        .doc("custody", "A staff member has seen an item's overdue alarm")
        .io(openapi::Io::NO_CONTENT.params(&[openapi::params::<openapi::RowId>])),
        Endpoint::new(Method::POST, "/api/v1/handovers", post(confirm_handover))
            .allow(Allow::STAFF)
            .doc(
                "custody",
                "The incoming clerk confirms the shift handover of the items out",
            )
            .io(
                openapi::Io::created(openapi::one::<crate::domain::custody_items::Handover>)
                    .body(openapi::one::<HandoverRequest>),
            ),
    ]
}

async fn list(State(state): State<AppState>) -> Result<Json<Vec<Item>>, DeskError> {
    let now = state.now();
    Ok(Json(
        read(&state, move |c| custody_items::list(c, now)).await?,
    ))
}

async fn register(act: Act, ApiJson(new): ApiJson<NewItem>) -> Result<Response, DeskError> {
    let item = act
        .write(move |tx, actor, now| custody_items::register(tx, actor, &new, now))
        .await?;
    Ok((StatusCode::CREATED, Json(item)).into_response())
}

async fn check_out(
    act: Act,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CheckOut>,
) -> Result<Json<Item>, DeskError> {
    Ok(Json(
        act.write(move |tx, actor, now| custody_items::check_out(tx, actor, id, &body, now))
            .await?,
    ))
}

async fn check_in(act: Act, ApiJson(body): ApiJson<CheckIn>) -> Result<Json<Item>, DeskError> {
    Ok(Json(
        act.write(move |tx, actor, now| custody_items::check_in(tx, actor, &body, now))
            .await?,
    ))
}

/// A loss, with how it happened.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LostNote {
    /// How it was lost.
    pub note: String,
}

async fn lost(
    act: Act,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<LostNote>,
) -> Result<Json<Item>, DeskError> {
    Ok(Json(
        act.write(move |tx, actor, now| {
            custody_items::declare_lost(tx, actor, id, &body.note, now)
        })
        .await?,
    ))
}

async fn hand_over(
    act: Act,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<HandOver>,
) -> Result<Json<Item>, DeskError> {
    Ok(Json(
        act.write(move |tx, actor, now| custody_items::hand_over(tx, actor, id, &body, now))
            .await?,
    ))
}

async fn overdue_alarms(
    State(state): State<AppState>,
) -> Result<Json<Vec<OverdueItem>>, DeskError> {
    let now = state.now();
    Ok(Json(
        write(&state, move |tx| custody_items::overdue_alarms(tx, now)).await?,
    ))
}

async fn acknowledge_overdue(act: Act, ApiPath(id): ApiPath<i64>) -> Result<StatusCode, DeskError> {
    act.write(move |tx, actor, now| custody_items::acknowledge_overdue(tx, actor, id, now))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The clerk going off shift, named by the one confirming.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct HandoverRequest {
    /// The outgoing clerk's username.
    pub outgoing: String,
}

async fn confirm_handover(
    act: Act,
    ApiJson(body): ApiJson<HandoverRequest>,
) -> Result<Response, DeskError> {
    let h = act
        .write(move |tx, actor, now| {
            custody_items::confirm_handover(tx, actor, &body.outgoing, now)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(h)).into_response())
}

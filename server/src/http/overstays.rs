//! Overstaying visitors: the list the desk sees and the notice it acknowledges (see
//! [`crate::domain::overstay`]).

use super::Endpoint;
use super::act::Act;
use super::extract::ApiPath;
use super::openapi::{self, CardNumber, Io, params};
use super::renovations::read;
use crate::auth::Allow;
use crate::domain::desk_error::DeskError;
use crate::domain::overstay::{self, Overstay};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::{get, post};

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/api/v1/visitors/overstays", get(list))
            .allow(Allow::STAFF)
            .doc(
                "visitors",
                "Visitor passes past their end and not signed out",
            )
            .io(Io::ok(openapi::list::<overstay::Overstay>)),
        Endpoint::new(
            Method::POST,
            "/api/v1/visitors/overstays/{id}/acknowledge",
            post(acknowledge),
        )
        .allow(Allow::STAFF)
        .doc("visitors", "A staff member has seen an overstay notice")
        .io(Io::NO_CONTENT.params(&[params::<CardNumber>])),
    ]
}

async fn list(State(state): State<AppState>) -> Result<Json<Vec<Overstay>>, DeskError> {
    let grace = state.config.overstay_grace;
    Ok(Json(read(&state, move |c| overstay::list(c, grace)).await?))
}

async fn acknowledge(act: Act, ApiPath(card_id): ApiPath<u32>) -> Result<StatusCode, DeskError> {
    act.write(move |tx, actor, now| overstay::acknowledge(tx, actor, card_id, now))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

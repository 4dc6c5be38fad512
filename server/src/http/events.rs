//! Gate events for staff: a filtered list and a CSV export.

use super::Endpoint;
use super::error::ApiError;
use super::extract::ApiQuery;
use super::openapi::{self, Io, params};
use crate::auth::Allow;
use crate::domain::journal::{self, EventFilter, EventRow};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, header};
use axum::response::IntoResponse;
use axum::routing::get;

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/api/v1/events", get(list))
            .allow(Allow::STAFF)
            .doc(
                "events",
                "Gate events filtered by card, device, result, time",
            )
            .io(Io::ok(openapi::list::<journal::EventRow>)
                .params(&[params::<journal::EventFilter>])),
        Endpoint::new(Method::GET, "/api/v1/events.csv", get(csv))
            .allow(Allow::STAFF)
            .doc("events", "Gate events as CSV")
            .io(Io::CSV.params(&[params::<journal::EventFilter>])),
    ]
}

async fn rows(state: &AppState, filter: EventFilter) -> Result<Vec<EventRow>, ApiError> {
    if let Some(r) = &filter.result {
        if !["admitted", "denied", "other"].contains(&r.as_str()) {
            return Err(ApiError::invalid(
                "result is one of admitted, denied, other",
            ));
        }
    }
    state
        .db
        .call(move |c| {
            let mut rows = journal::list(c, &filter)?;
            // The guard's handheld releases have no gate journal; they join the gates' rows.
            let hand = crate::domain::goods::hand_events(c, &filter)?;
            if !hand.is_empty() {
                rows.extend(hand);
                rows.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.id.cmp(&b.id)));
                rows.truncate(filter.limit.unwrap_or(200).min(10_000) as usize);
            }
            Ok::<_, ApiError>(rows)
        })
        .await
}

async fn list(
    State(state): State<AppState>,
    ApiQuery(filter): ApiQuery<EventFilter>,
) -> Result<Json<Vec<EventRow>>, ApiError> {
    Ok(Json(rows(&state, filter).await?))
}

async fn csv(
    State(state): State<AppState>,
    ApiQuery(filter): ApiQuery<EventFilter>,
) -> Result<impl IntoResponse, ApiError> {
    let body = journal::to_csv(&rows(&state, filter).await?);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"gate-events.csv\"",
            ),
        ],
        body,
    ))
}

//! Gate events for staff: a filtered list and a CSV export.

use super::Endpoint;
use super::error::ApiError;
use super::extract::ApiQuery;
use super::openapi::{self, Io, params};
use super::paging::{self, NextLink, Page, PageSize};
use crate::auth::Allow;
use crate::domain::journal::{self, EventFilter, EventRow};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, Uri, header};
use axum::response::IntoResponse;
use axum::routing::get;

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/api/v1/events", get(list))
            .allow(Allow::STAFF)
            .doc(
                "events",
                "Gate events filtered by card, device, result, time; a page at a time (Link: rel=next)",
            )
            .io(Io::ok(openapi::list::<journal::EventRow>)
                .params(&[params::<journal::EventFilter>])),
        Endpoint::new(Method::GET, "/api/v1/events.csv", get(csv))
            .allow(Allow::STAFF)
            .doc("events", "Gate events as CSV")
            .io(Io::CSV.params(&[params::<journal::EventFilter>])),
    ]
}

/// One page of the events `filter` asks for; the next page's address follows `uri`.
async fn rows(
    state: &AppState,
    filter: EventFilter,
    uri: &Uri,
) -> Result<(NextLink, Vec<EventRow>), ApiError> {
    if let Some(r) = &filter.result {
        if !["admitted", "denied", "other"].contains(&r.as_str()) {
            return Err(ApiError::invalid(
                "result is one of admitted, denied, other",
            ));
        }
    }
    let (default, max) = journal::EVENTS_PAGE;
    let limit = PageSize { default, max }.limit(filter.limit)?;
    let before = filter
        .before
        .as_deref()
        .map(paging::parse_time_cursor)
        .transpose()?;
    let found = state
        .db
        .call(move |c| {
            let before = before.as_ref().map(|(at, id)| (at.as_str(), id.as_str()));
            let mut rows = journal::page(c, &filter, before, limit + 1)?;
            // The guard's handheld releases have no gate journal; they join the gates' rows.
            let hand = crate::domain::goods::hand_events(c, &filter, before, limit + 1)?;
            if !hand.is_empty() {
                rows.extend(hand);
                rows.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.id.cmp(&a.id)));
                rows.truncate(limit as usize + 1);
            }
            Ok::<_, ApiError>(rows)
        })
        .await?;
    let page = Page::of(found, limit, |e| paging::time_cursor(&e.at, &e.id));
    Ok((NextLink(page.next_href(uri, "before")), page.rows))
}

async fn list(
    State(state): State<AppState>,
    uri: Uri,
    ApiQuery(filter): ApiQuery<EventFilter>,
) -> Result<(NextLink, Json<Vec<EventRow>>), ApiError> {
    let (next, rows) = rows(&state, filter, &uri).await?;
    Ok((next, Json(rows)))
}

async fn csv(
    State(state): State<AppState>,
    uri: Uri,
    ApiQuery(filter): ApiQuery<EventFilter>,
) -> Result<impl IntoResponse, ApiError> {
    let (next, rows) = rows(&state, filter, &uri).await?;
    Ok((
        next,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"gate-events.csv\"",
            ),
        ],
        journal::to_csv(&rows),
    ))
}

//! Gate events for staff: a filtered list and a CSV export.

use super::Endpoint;
use super::error::ApiError;
use super::extract::ApiQuery;
use super::openapi::{self, Io, params};
use super::paging::{self, NextLink, Page};
use crate::auth::Allow;
use crate::domain::desk_error::DeskError;
use crate::domain::journal::{self, EventFilter, EventRow};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, Uri, header};
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{DateTime, Utc};

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
            .doc(
                "events",
                "Gate events as CSV: every one of a range of at most 31 days (the last 31 unless given)",
            )
            .io(Io::CSV.params(&[params::<journal::EventFilter>])),
    ]
}

/// At most `limit` events `filter` selects (its own `limit` and `before` aside), newest first
/// (by time, then id), from just after `before`: the gates' journals and the guard's
/// handheld releases together.
pub fn merged(
    c: &rusqlite::Connection,
    filter: &EventFilter,
    before: Option<(&str, &str)>,
    limit: u32,
) -> rusqlite::Result<Vec<EventRow>> {
    let mut rows = journal::page(c, filter, before, limit)?;
    // The guard's handheld releases have no gate journal; they join the gates' rows.
    let hand = crate::domain::journal::hand_events(c, filter, before, limit)?;
    if !hand.is_empty() {
        rows.extend(hand);
        rows.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.id.cmp(&a.id)));
        rows.truncate(limit as usize);
    }
    Ok(rows)
}

fn check_result(filter: &EventFilter) -> Result<(), ApiError> {
    match filter.result.as_deref() {
        Some(r) if !["admitted", "denied", "other"].contains(&r) => Err(ApiError::invalid(
            "result is one of admitted, denied, other",
        )),
        _ => Ok(()),
    }
}

/// One page of the events `filter` asks for; the next page's address follows `uri`.
async fn rows(
    state: &AppState,
    filter: EventFilter,
    uri: &Uri,
) -> Result<(NextLink, Vec<EventRow>), ApiError> {
    check_result(&filter)?;
    let limit = journal::EVENTS_PAGE.limit(filter.limit)?;
    let before = filter
        .before
        .as_deref()
        .map(paging::parse_time_cursor)
        .transpose()?;
    let found = state
        .db
        .call(move |c| {
            let before = before.as_ref().map(|(at, id)| (at.as_str(), id.as_str()));
            merged(c, &filter, before, limit + 1).map_err(ApiError::from)
        })
        .await?;
    let page = Page::of(found, limit, |e| {
        paging::time_cursor(&crate::db::ts(e.at), &e.id)
    });
    Ok((NextLink(page.next_href(uri, "before")), page.rows))
}

/// The longest range one events CSV covers: a month of a large estate's gates is a file a
/// spreadsheet still opens, and the server builds it in memory.
pub const CSV_MAX_DAYS: i64 = 31;

/// Every event of `from`..`to` that `filter` selects (its `limit` and `before` aside), newest
/// first, with no cap; 422 `range_too_large` when the range is longer than [`CSV_MAX_DAYS`].
pub fn whole_range(
    c: &rusqlite::Connection,
    filter: &EventFilter,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<EventRow>, DeskError> {
    if to - from > chrono::Duration::days(CSV_MAX_DAYS) {
        return Err(DeskError::invalid(
            "range_too_large",
            format!(
                "an events export covers at most {CSV_MAX_DAYS} days: export a longer period a month at a time"
            ),
        ));
    }
    let filter = EventFilter {
        from: Some(from),
        to: Some(to),
        ..filter.clone()
    };
    Ok(merged(c, &filter, None, u32::MAX)?)
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
    ApiQuery(filter): ApiQuery<EventFilter>,
) -> Result<impl IntoResponse, ApiError> {
    check_result(&filter)?;
    // The file holds the whole range, so a page size is not used; one out of bounds is still
    // the caller's mistake, refused as on the list.
    journal::EVENTS_PAGE.limit(filter.limit)?;
    let to = filter.to.unwrap_or_else(|| state.now());
    let from = filter
        .from
        .unwrap_or(to - chrono::Duration::days(CSV_MAX_DAYS));
    let rows = state
        .db
        .call(move |c| whole_range(c, &filter, from, to))
        .await?;
    Ok((
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

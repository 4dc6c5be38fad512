//! CSV exports over a range of the estate's local dates: visitors, cards, deposit ledger
//! lines, and the gate events (whose API export takes instants) for the exports page.

use super::Endpoint;
use super::extract::ApiQuery;
use super::openapi::{Io, params};
use super::renovations::read;
use crate::auth::Allow;
use crate::domain::desk_error::DeskError;
use crate::domain::history::{self, DateRange, Period};
use crate::domain::{journal, settings};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono_tz::Tz;

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/api/v1/visitors.csv", get(visitors))
            .allow(Allow::STAFF)
            .doc(
                "exports",
                "Visitors registered in a range of local dates as CSV (names masked)",
            )
            .io(Io::CSV.params(&[params::<DateRange>])),
        Endpoint::new(Method::GET, "/api/v1/cards.csv", get(cards))
            .allow(Allow::STAFF)
            .doc(
                "exports",
                "Cards issued in a range of local dates as CSV (holders masked)",
            )
            .io(Io::CSV.params(&[params::<DateRange>])),
        Endpoint::new(Method::GET, "/api/v1/deposits.csv", get(deposits))
            .allow(Allow::STAFF)
            .doc(
                "exports",
                "Deposit ledger lines recorded in a range of local dates as CSV",
            )
            .io(Io::CSV.params(&[params::<DateRange>])),
        Endpoint::new(Method::GET, "/desk/exports/events.csv", get(events))
            .allow(Allow::STAFF)
            .doc(
                "pages",
                "Gate events in a range of local dates as CSV, for the exports page",
            ),
    ]
}

/// A CSV download named `name-FROM-TO.csv`.
fn download(name: &str, period: &Period, body: String) -> Response {
    let disposition = format!(
        "attachment; filename=\"{name}-{}-{}.csv\"",
        period.from, period.to
    );
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// Reads the estate's time zone, checks the range and runs `make` on the period.
async fn export<F>(
    state: &AppState,
    name: &'static str,
    range: DateRange,
    make: F,
) -> Result<Response, DeskError>
where
    F: FnOnce(&rusqlite::Connection, Tz, &Period) -> Result<String, DeskError> + Send + 'static,
{
    let now = state.now();
    let (period, body) = read(state, move |c| {
        let tz = settings::time_zone(c)?;
        let period = range.period(tz, settings::local_date(tz, now))?;
        let body = make(c, tz, &period)?;
        Ok((period, body))
    })
    .await?;
    Ok(download(name, &period, body))
}

async fn visitors(
    State(state): State<AppState>,
    ApiQuery(range): ApiQuery<DateRange>,
) -> Result<Response, DeskError> {
    export(&state, "visitors", range, history::visitors_csv).await
}

async fn cards(
    State(state): State<AppState>,
    ApiQuery(range): ApiQuery<DateRange>,
) -> Result<Response, DeskError> {
    export(&state, "cards", range, history::cards_csv).await
}

async fn deposits(
    State(state): State<AppState>,
    ApiQuery(range): ApiQuery<DateRange>,
) -> Result<Response, DeskError> {
    export(&state, "deposits", range, history::deposits_csv).await
}

/// Every gate event of the period (at most [`super::events::CSV_MAX_DAYS`] days).
async fn events(
    State(state): State<AppState>,
    ApiQuery(range): ApiQuery<DateRange>,
) -> Result<Response, DeskError> {
    export(&state, "gate-events", range, |c, _tz, period| {
        let all = journal::EventFilter::default();
        let rows = super::events::whole_range(c, &all, period.start, period.end)?;
        Ok(journal::to_csv(&rows))
    })
    .await
}

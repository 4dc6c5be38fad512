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

/// How one export writes its rows of a period.
type Make = fn(&rusqlite::Connection, Tz, &Period) -> Result<String, DeskError>;

/// The API's CSV exports: path, file name, what the document says of it, how it is written.
const CSV_EXPORTS: [(&str, &str, &str, Make); 3] = [
    (
        "/api/v1/visitors.csv",
        "visitors",
        "Visitors registered in a range of local dates as CSV (names masked)",
        history::visitors_csv,
    ),
    (
        "/api/v1/cards.csv",
        "cards",
        "Cards issued in a range of local dates as CSV (holders masked)",
        history::cards_csv,
    ),
    (
        "/api/v1/deposits.csv",
        "deposits",
        "Deposit ledger lines recorded in a range of local dates as CSV",
        history::deposits_csv,
    ),
];

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    CSV_EXPORTS
        .into_iter()
        .map(|(path, name, summary, make)| {
            let handler = move |State(state): State<AppState>,
                                ApiQuery(range): ApiQuery<DateRange>| async move {
                export(&state, name, range, make).await
            };
            Endpoint::new(Method::GET, path, get(handler))
                .allow(Allow::STAFF)
                .doc("exports", summary)
                .io(Io::CSV.params(&[params::<DateRange>]))
        })
        .chain([
            Endpoint::new(Method::GET, "/desk/exports/events.csv", get(events))
                .allow(Allow::STAFF)
                .doc(
                    "pages",
                    "Gate events in a range of local dates as CSV, for the exports page",
                ),
        ])
        .collect()
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

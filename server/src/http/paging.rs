//! Lists that grow without end (gate events, renovations, the audit log, outstanding cards)
//! answer a page at a time: at most `limit` rows, and the address of the next page in a
//! `Link: <…>; rel="next"` header (RFC 8288), so a JSON body stays the array it always was. The
//! next page's address carries an opaque cursor (`before`, or `after` on a list ordered
//! oldest first) naming the last row shown: rows added meanwhile neither repeat nor shift
//! the pages.

use super::error::ApiError;
use super::renovations::read;
use crate::db::ts;
use crate::domain::desk_error::DeskError;
use crate::domain::history::Period;
pub use crate::domain::page_size::PageSize;
use crate::domain::settings;
use crate::state::AppState;
use axum::Json;
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponseParts, ResponseParts};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rusqlite::Connection;

/// `?limit=&before=` of a list ordered by row number, newest first.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NewestFirst {
    /// How many (1 to 500, default 100), newest first.
    #[param(format = Int64, minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The page after the one whose `Link: <…>; rel="next"` header gave this cursor.
    pub before: Option<i64>,
}

/// `?limit=&before=` of a list ordered by a time and a key, newest first.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Latest {
    /// How many (1 to 500, default 100), newest first.
    #[param(format = Int64, minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The page after the one whose `Link: <…>; rel="next"` header gave this cursor.
    pub before: Option<String>,
}

/// The page size of a [`NewestFirst`] or [`Latest`] list.
pub const NEWEST_FIRST: PageSize = PageSize {
    default: 100,
    max: 500,
};

/// One page of rows, and the cursor of the next page if there is one.
#[derive(Debug)]
pub struct Page<T> {
    /// The rows of this page, in the list's order.
    pub rows: Vec<T>,
    /// The cursor to ask for the rows after these (`None` on the last page).
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// Cuts `rows`, read with a limit of `limit + 1`, to `limit`; the extra row only tells
    /// that a next page exists, whose cursor `cursor` makes from the last row kept.
    pub fn of(mut rows: Vec<T>, limit: u32, cursor: impl Fn(&T) -> String) -> Self {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next = if more { rows.last().map(cursor) } else { None };
        Page { rows, next }
    }

    /// The list's answer: the rows as JSON, and the `Link` to the next page (`uri` with its
    /// `cursor_param` set to the next cursor).
    pub fn answer(self, uri: &Uri, cursor_param: &str) -> Listed<T> {
        (NextLink(self.next_href(uri, cursor_param)), Json(self.rows))
    }

    /// The next page's address: `uri` with its `cursor_param` set to the next cursor.
    pub fn next_href(&self, uri: &Uri, cursor_param: &str) -> Option<String> {
        self.next
            .as_deref()
            .map(|cursor| with_param(uri, cursor_param, cursor))
    }
}

/// `uri`'s path and query with `name` set to `value` (any earlier `name` dropped).
pub fn with_param(uri: &Uri, name: &str, value: &str) -> String {
    let mut pairs: Vec<String> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && p.split('=').next() != Some(name))
        .map(str::to_owned)
        .collect();
    let value: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
    pairs.push(format!("{name}={value}"));
    format!("{}?{}", uri.path(), pairs.join("&"))
}

/// A page of a list as the API answers it: the `Link` header and the rows.
pub type Listed<T> = (NextLink, Json<Vec<T>>);

/// The `Link: <next>; rel="next"` header of a page, absent on the last page.
pub struct NextLink(pub Option<String>);

impl IntoResponseParts for NextLink {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        if let Some(href) = self.0 {
            // Built from a valid URI's path and query plus an encoded value: always a valid header.
            if let Ok(value) = HeaderValue::from_str(&format!("<{href}>; rel=\"next\"")) {
                res.headers_mut().insert(header::LINK, value);
            }
        }
        Ok(res)
    }
}

/// A cursor of a list ordered by a timestamp and then an id: `<timestamp>_<id>`.
pub fn time_cursor(at: &str, id: &str) -> String {
    format!("{at}_{id}")
}

/// The 422 for a cursor no page of this list gave.
fn foreign_cursor(cursor: &str) -> ApiError {
    ApiError::invalid(format!(
        "the cursor {cursor:?} is not one this list gave: follow the Link header's next page"
    ))
}

/// Reads a cursor written by [`time_cursor`]; 422 if it is not one.
pub fn parse_time_cursor(cursor: &str) -> Result<(String, String), ApiError> {
    cursor
        .split_once('_')
        .filter(|(at, id)| chrono::DateTime::parse_from_rfc3339(at).is_ok() && !id.is_empty())
        .map(|(at, id)| (at.to_owned(), id.to_owned()))
        .ok_or_else(|| foreign_cursor(cursor))
}

/// Reads a [`time_cursor`] whose id is a row number; 422 if it is not one.
pub fn parse_time_row_cursor(cursor: &str) -> Result<(String, i64), ApiError> {
    let (at, id) = parse_time_cursor(cursor)?;
    let id = id.parse().map_err(|_| foreign_cursor(cursor))?;
    Ok((at, id))
}

/// A page of a list over a period of the estate's local dates, with the period; a period the
/// desk cannot use is the inner error, shown beside the list's form.
pub type Dated<T> = Result<(Period, Page<T>), DeskError>;

/// One page of a list over a period of local dates, newest first, whose cursor is a time and
/// a row number: checks `limit` against `size` and reads the cursor
/// `before`; on the database thread `period(tz, today)` names the period and the query (its
/// refusal is the inner error), and `rows(conn, period, query, before, limit + 1)` reads the
/// rows from the cursor on; `key` is a row's time and number, for the next page's cursor.
pub async fn dated_page<T, Q, P, R>(
    state: &AppState,
    size: PageSize,
    limit: Option<u32>,
    before: Option<&str>,
    period: P,
    rows: R,
    key: fn(&T) -> (DateTime<Utc>, i64),
) -> Result<Dated<T>, DeskError>
where
    T: Send + 'static,
    P: FnOnce(Tz, NaiveDate) -> Result<(Period, Q), DeskError> + Send + 'static,
    R: FnOnce(&Connection, &Period, &Q, Option<(&str, i64)>, u32) -> Result<Vec<T>, DeskError>
        + Send
        + 'static,
{
    let limit = size.limit(limit)?;
    let before = before.map(parse_time_row_cursor).transpose()?;
    let now = state.now();
    let found = read(state, move |c| {
        let tz = settings::time_zone(c)?;
        let (period, query) = match period(tz, settings::local_date(tz, now)) {
            Ok(asked) => asked,
            Err(e) => return Ok(Err(e)),
        };
        let before = before.as_ref().map(|(at, id)| (at.as_str(), *id));
        Ok(Ok((period, rows(c, &period, &query, before, limit + 1)?)))
    })
    .await?;
    Ok(found.map(|(period, rows)| {
        let page = Page::of(rows, limit, |row| {
            let (at, id) = key(row);
            time_cursor(&ts(at), &id.to_string())
        });
        (period, page)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_keeps_its_limit_and_names_the_next_only_when_there_is_one() {
        let full = Page::of(vec![9, 8, 7, 6], 3, |n| n.to_string());
        assert_eq!(full.rows, [9, 8, 7]);
        assert_eq!(full.next.as_deref(), Some("7"));
        let last = Page::of(vec![2, 1], 3, |n| n.to_string());
        assert_eq!(last.rows, [2, 1]);
        assert_eq!(last.next, None);
    }

    #[test]
    fn the_next_address_keeps_the_filters_and_replaces_the_cursor() {
        let uri: Uri = "/api/v1/events?device=g1&before=old&limit=5"
            .parse()
            .unwrap();
        assert_eq!(
            with_param(&uri, "before", "2026-12-01T08:00:00.000000Z_ab"),
            "/api/v1/events?device=g1&limit=5&before=2026-12-01T08%3A00%3A00.000000Z_ab"
        );
        let bare: Uri = "/desk/renovations".parse().unwrap();
        assert_eq!(
            with_param(&bare, "before", "42"),
            "/desk/renovations?before=42"
        );
    }

    #[test]
    fn a_time_cursor_reads_back_and_a_foreign_one_is_refused() {
        let c = time_cursor("2026-12-01T08:00:00.000000Z", "5f1c-77");
        assert_eq!(
            parse_time_cursor(&c).unwrap(),
            ("2026-12-01T08:00:00.000000Z".into(), "5f1c-77".into())
        );
        for bad in ["", "42", "yesterday_5f1c", "2026-12-01T08:00:00Z_"] {
            assert!(parse_time_cursor(bad).is_err(), "{bad}");
        }
    }
}

//! The audit log: recent entries and chain verification.

use super::Endpoint;
use super::error::ApiError;
use super::extract::ApiQuery;
use super::openapi::{Io, list, one, params};
use super::paging::{NextLink, Page, PageSize};
use crate::audit::{self, Entry, Verification};
use crate::auth::Allow;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, Uri};
use axum::routing::get;
use serde::Deserialize;

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/api/v1/audit", get(recent))
            .allow(Allow::MANAGER)
            .doc(
                "audit",
                "Recent audit entries, a page at a time (Link: rel=next)",
            )
            .io(Io::ok(list::<Entry>).params(&[params::<RecentQuery>])),
        Endpoint::new(Method::GET, "/api/v1/audit/verify", get(verify))
            .allow(Allow::MANAGER)
            .doc("audit", "Recompute the audit hash chain")
            .io(Io::ok(one::<Verification>)),
    ]
}

/// `?limit=` for the recent entries (default 100, at most 1000) and the page's cursor.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecentQuery {
    /// How many (1 to 1000, default 100).
    #[param(format = Int64, minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The page after the one whose `Link: <…>; rel="next"` header gave this cursor.
    pub before: Option<i64>,
}

/// The audit list's page size.
const AUDIT_PAGE: PageSize = PageSize {
    default: 100,
    max: 1000,
};

async fn recent(
    State(state): State<AppState>,
    uri: Uri,
    ApiQuery(q): ApiQuery<RecentQuery>,
) -> Result<(NextLink, Json<Vec<Entry>>), ApiError> {
    let limit = AUDIT_PAGE.limit(q.limit)?;
    let found = state
        .db
        .call(move |c| audit::page(c, q.before, limit + 1).map_err(ApiError::from))
        .await?;
    let page = Page::of(found, limit, |e| e.seq.to_string());
    Ok((NextLink(page.next_href(&uri, "before")), Json(page.rows)))
}

async fn verify(State(state): State<AppState>) -> Result<Json<Verification>, ApiError> {
    Ok(Json(
        state
            .db
            .call(|c| audit::verify(c).map_err(ApiError::from))
            .await?,
    ))
}

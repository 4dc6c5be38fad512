//! The audit log: recent entries and chain verification.

use super::Endpoint;
use super::act;
use super::error::ApiError;
use super::extract::ApiQuery;
use super::openapi::{Io, list, one, params};
use super::paging::{Listed, Page, PageSize};
use super::renovations::read;
use crate::audit::{self, Entry, Verification};
use crate::auth::Allow;
use crate::domain::desk_error::DeskError;
use crate::domain::history::DateRange;
use crate::domain::settings;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, Uri};
use axum::routing::get;
use chrono::NaiveDate;
use chrono_tz::Tz;
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
            .io(Io::ok(list::<Entry>).params(&[params::<RecentQuery>, params::<DateRange>])),
        Endpoint::new(Method::GET, "/api/v1/audit/verify", get(verify))
            .allow(Allow::MANAGER)
            .doc(
                "audit",
                "Recompute the audit chain (keyed MACs, the sequence, the head kept outside the database)",
            )
            .io(Io::ok(one::<Verification>)),
    ]
}

/// `?limit=&before=&action=&actor=&from=&to=` for the entries (default the newest 100, at
/// most 1000; dates are local and both included).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecentQuery {
    /// How many (1 to 1000, default 100).
    #[param(format = Int64, minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Only entries before this position: the next page after one whose last entry is it.
    pub before: Option<i64>,
    /// Only actions that start with this, e.g. `staff.`.
    pub action: Option<String>,
    /// Only actors whose name contains this.
    pub actor: Option<String>,
    /// Its local dates: `from` and `to` (neither: any date), the parameters [`DateRange`] declares.
    #[serde(flatten)]
    #[param(ignore)]
    pub range: DateRange,
}

impl RecentQuery {
    /// The log's filter for the estate's time zone `tz` and `today`.
    pub fn filter(&self, tz: Tz, today: NaiveDate) -> Result<audit::Filter, DeskError> {
        let dated = self.range.from.is_some() || self.range.to.is_some();
        let period = if dated {
            Some(self.range.period(tz, today)?)
        } else {
            None
        };
        let given = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Ok(audit::Filter {
            limit: self.limit.unwrap_or(AUDIT_PAGE.default).min(AUDIT_PAGE.max),
            before: self.before,
            action: given(&self.action),
            actor: given(&self.actor),
            since: period.map(|p| p.start),
            until: period.map(|p| p.end),
        })
    }
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
) -> Result<Listed<Entry>, ApiError> {
    let limit = AUDIT_PAGE.limit(q.limit)?;
    let now = state.now();
    let found = read(&state, move |c| {
        let tz = settings::time_zone(c)?;
        let filter = audit::Filter {
            // One more than shown, to tell whether a next page exists.
            limit: limit + 1,
            ..q.filter(tz, settings::local_date(tz, now))?
        };
        Ok(audit::page(c, &filter)?)
    })
    .await?;
    let page = Page::of(found, limit, |e| e.seq.to_string());
    Ok(page.answer(&uri, "before"))
}

async fn verify(State(state): State<AppState>) -> Result<Json<Verification>, ApiError> {
    let head_file = audit::anchor::path(&state.config.data_dir);
    let verification = match audit::anchor::read(&head_file) {
        Ok(anchor) => act::call(&state, move |c| audit::verify(c, anchor.as_ref())).await?,
        // An unreadable head file is itself a finding, not a server failure.
        Err(e) => {
            let mut v = act::call(&state, |c| audit::verify(c, None)).await?;
            if v.ok {
                v.ok = false;
                v.first_bad_seq = v.head_seq.map(|s| s + 1).or(Some(1));
                v.problem = Some(format!(
                    "the head recorded outside the database cannot be read: {e}"
                ));
            }
            v
        }
    };
    Ok(Json(verification))
}

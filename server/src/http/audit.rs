//! The audit log: recent entries and chain verification.

use super::Endpoint;
use super::error::ApiError;
use super::extract::ApiQuery;
use super::openapi::{Io, list, one, params};
use crate::audit::{self, Entry, Verification};
use crate::auth::Allow;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use axum::routing::get;
use serde::Deserialize;

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/api/v1/audit", get(recent))
            .allow(Allow::MANAGER)
            .doc("audit", "Recent audit entries")
            .io(Io::ok(list::<Entry>).params(&[params::<RecentQuery>])),
        Endpoint::new(Method::GET, "/api/v1/audit/verify", get(verify))
            .allow(Allow::MANAGER)
            .doc(
                "audit",
                "Recompute the audit chain (keyed MACs, the sequence, the head kept outside the database)",
            )
            .io(Io::ok(one::<Verification>)),
    ]
}

/// `?limit=` for the recent entries (default 100, at most 1000).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecentQuery {
    /// How many.
    #[param(format = Int64, maximum = 4_294_967_295.0)]
    pub limit: Option<u32>,
}

async fn recent(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RecentQuery>,
) -> Result<Json<Vec<Entry>>, ApiError> {
    let limit = q.limit.unwrap_or(100).min(1000);
    Ok(Json(
        state
            .db
            .call(move |c| audit::recent(c, limit).map_err(ApiError::from))
            .await?,
    ))
}

async fn verify(State(state): State<AppState>) -> Result<Json<Verification>, ApiError> {
    let head_file = audit::anchor::path(&state.config.data_dir);
    let verification = match audit::anchor::read(&head_file) {
        Ok(anchor) => {
            state
                .db
                .call(move |c| audit::verify(c, anchor.as_ref()).map_err(ApiError::from))
                .await?
        }
        // An unreadable head file is itself a finding, not a server failure.
        Err(e) => {
            let mut v = state
                .db
                .call(|c| audit::verify(c, None).map_err(ApiError::from))
                .await?;
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

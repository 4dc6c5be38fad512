//! What the guard page (`/guard`, in [`super::pages`]) calls: the permit scans after a number,
//! as a long poll answered the moment a gate reports one, and the handheld scanner's or typed
//! permit number.

use super::Endpoint;
use super::extract::{ApiJson, ApiQuery};
use super::openapi;
use super::renovations::{read, write};
use crate::auth::Allow;
use crate::domain::desk_error::DeskError;
use crate::domain::goods::{self, Scan};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use axum::routing::{get, post};
use serde::Deserialize;
use std::time::Duration;

/// The longest the guard page's long poll is held.
pub const MAX_WAIT_MS: u64 = 30_000;

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/api/v1/guard/scans", get(scans))
            .allow(Allow::ANY_STAFF)
            .doc(
                "goods",
                "Permit scans after a number (long poll): what the guard page shows",
            )
            .io(openapi::Io::ok(openapi::list::<crate::domain::goods::Scan>)
                .params(&[openapi::params::<ScansQuery>])),
        Endpoint::new(Method::POST, "/api/v1/guard/scans", post(hand_scan))
            .allow(Allow::ANY_STAFF)
            .doc(
                "goods",
                "A handheld scan or a typed permit number at the guard page",
            )
            .io(openapi::Io::ok(openapi::one::<crate::domain::goods::Scan>)
                .body(openapi::one::<HandScan>)),
    ]
}

/// `?after=N&wait_ms=M`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScansQuery {
    /// The last scan number the page has shown (0: from the start).
    #[serde(default)]
    pub after: i64,
    /// How long to wait when nothing is new (0 = answer at once; at most 30 000).
    #[serde(default)]
    pub wait_ms: u64,
}

async fn scans(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ScansQuery>,
) -> Result<Json<Vec<Scan>>, DeskError> {
    let after = q.after;
    let found = on_goods_feed(&state, q.wait_ms, || {
        let state = state.clone();
        async move {
            let now = state.now();
            read(&state, move |c| goods::scans_after(c, after, now)).await
        }
    })
    .await?;
    Ok(Json(found))
}

/// What `check` finds: at once when it finds something, else as soon as it does after the
/// goods feed moves (a permit scanned, decided or sent to a printer), or nothing after
/// `wait_ms` (at most [`MAX_WAIT_MS`]) or when the server stops.
pub(super) async fn on_goods_feed<T, F, Fut>(
    state: &AppState,
    wait_ms: u64,
    mut check: F,
) -> Result<Vec<T>, DeskError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, DeskError>>,
{
    // Subscribe before reading, so a change made between the read and the wait still wakes us.
    let mut fed = state.goods_feed.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(wait_ms.min(MAX_WAIT_MS));
    let mut shutdown = state.shutdown.clone();
    loop {
        fed.borrow_and_update();
        let found = check().await?;
        if !found.is_empty() || tokio::time::Instant::now() >= deadline {
            return Ok(found);
        }
        // Tests wait on this gauge to know a poll is parked before they wake it.
        let waiting = metrics::gauge!("goods_long_polls_waiting");
        waiting.increment(1.0);
        let woke = tokio::select! {
            r = fed.changed() => r.is_ok(),
            () = tokio::time::sleep_until(deadline) => false,
            _ = shutdown.wait_for(|down| *down) => false,
        };
        waiting.decrement(1.0);
        if !woke {
            return Ok(Vec::new());
        }
    }
}

/// What the handheld scanner read, or the typed permit number.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct HandScan {
    /// The scanned credential text or the permit number.
    pub text: String,
}

async fn hand_scan(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<HandScan>,
) -> Result<Json<Scan>, DeskError> {
    let now = state.now();
    let signer = state.signer.clone();
    let scan = write(&state, move |tx| {
        goods::hand_scan(tx, &signer, &body.text, now)
    })
    .await?;
    state.goods_feed.send_modify(|n| *n += 1);
    Ok(Json(scan))
}

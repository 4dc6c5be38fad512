//! Operations: health, metrics, the OpenAPI document.

use super::Endpoint;
use crate::auth::Allow;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Json};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Serialize;
use std::sync::Arc;
use utoipa::openapi::OpenApi;

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/healthz", get(healthz))
            .allow(Allow::ANYONE)
            .doc("ops", "Liveness, version and database status"),
        Endpoint::new(Method::GET, "/metrics", get(metrics_text))
            .allow(Allow::ANYONE)
            .doc("ops", "Prometheus metrics"),
        Endpoint::new(Method::GET, "/api/openapi.json", get(openapi_json))
            .allow(Allow::ANYONE)
            .doc("ops", "This OpenAPI document"),
    ]
}

/// The process-wide metrics recorder (installed once, shared by every server in a process).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; the handle then stays empty.
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            handle
        })
        .clone()
}

/// The `/healthz` body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` or `degraded`.
    pub status: &'static str,
    /// The server's version.
    pub version: &'static str,
    /// `ok` or what is wrong with the database.
    pub database: String,
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let database = state
        .db
        .call(|conn| {
            conn.query_row("SELECT COUNT(*) FROM staff", [], |r| r.get::<_, i64>(0))
                .map_err(crate::db::DbError::from)
        })
        .await;
    let (status, code, database) = match database {
        Ok(_) => (StatusCode::OK, "ok", "ok".to_owned()),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, "degraded", e.to_string()),
    };
    (
        status,
        Json(Health {
            status: code,
            version: env!("CARGO_PKG_VERSION"),
            database,
        }),
    )
}

async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    state.metrics.run_upkeep();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// The document [`super::router`] built from the route declarations.
async fn openapi_json(Extension(doc): Extension<Arc<OpenApi>>) -> Json<OpenApi> {
    Json(OpenApi::clone(&doc))
}

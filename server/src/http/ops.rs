//! Operations: health, metrics, the OpenAPI document.

use super::Endpoint;
use crate::auth::matrix::MATRIX;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Serialize;
use utoipa::openapi::path::{HttpMethod, OperationBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, ResponseBuilder,
};

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/healthz", get(healthz)),
        Endpoint::new(Method::GET, "/metrics", get(metrics_text)),
        Endpoint::new(Method::GET, "/api/openapi.json", get(openapi_json)),
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

async fn openapi_json() -> Json<OpenApi> {
    Json(openapi())
}

fn http_method(m: &Method) -> Option<HttpMethod> {
    Some(match *m {
        Method::GET => HttpMethod::Get,
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::DELETE => HttpMethod::Delete,
        Method::PATCH => HttpMethod::Patch,
        _ => return None,
    })
}

/// The OpenAPI 3 document, generated from the authorization matrix: every `/api/v1` route with
/// its summary, who may call it and the error answers it can give.
pub fn openapi() -> OpenApi {
    let mut paths = Paths::new();
    for rule in MATRIX.iter().filter(|r| r.path.starts_with("/api/v1/")) {
        let Some(method) = http_method(&rule.method) else {
            continue;
        };
        let allowed: Vec<&str> = rule.allow.kinds().map(|k| k.name()).collect();
        let mut op = OperationBuilder::new()
            .tag(rule.tag)
            .summary(Some(rule.summary))
            .description(Some(format!("Allowed callers: {}.", allowed.join(", "))))
            .operation_id(Some(format!("{} {}", rule.method, rule.path)))
            .response("200", ResponseBuilder::new().description("Success"))
            .response(
                "400",
                ResponseBuilder::new().description("Malformed request (ErrorBody)"),
            )
            .response(
                "422",
                ResponseBuilder::new().description("Invalid values (ErrorBody)"),
            );
        if !rule.allow.admits(crate::auth::ActorKind::Anonymous) {
            op = op
                .response(
                    "401",
                    ResponseBuilder::new().description("No or invalid credentials (ErrorBody)"),
                )
                .response(
                    "403",
                    ResponseBuilder::new().description("Caller not allowed (ErrorBody)"),
                )
                .security(utoipa::openapi::security::SecurityRequirement::new(
                    "bearer",
                    Vec::<String>::new(),
                ));
        }
        paths.add_path_operation(rule.path, vec![method], op.build());
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Gatehouse server")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Front desk, devices and gate sync. Errors are {\"error\", \"message\"}.",
                )),
        )
        .paths(paths)
        .components(Some(
            ComponentsBuilder::new()
                .security_scheme(
                    "bearer",
                    SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
                )
                .build(),
        ))
        .build()
}

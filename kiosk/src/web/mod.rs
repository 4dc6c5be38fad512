//! The kiosk's own HTTP side: the embedded touch UI and the JSON endpoints the page calls.

pub(crate) mod api;

use crate::config::Language;
use crate::printer::{PaperStatus, PrintOutcome, Printer};
use crate::server::ServerClient;
use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");

/// Everything a request handler needs.
#[derive(Clone)]
pub struct KioskState {
    /// The server link.
    pub server: ServerClient,
    /// The printer.
    pub printer: Printer,
    /// Estate name for screen and paper.
    pub estate_name: String,
    /// Estate time zone for printed times.
    pub time_zone: chrono_tz::Tz,
    /// Idle timeout in seconds, for the page.
    pub idle_timeout_secs: u64,
    /// Offered languages, default first.
    pub languages: Vec<Language>,
    /// Logo bytes and content type, read at start.
    pub logo: Option<(&'static str, Arc<Vec<u8>>)>,
    /// Lines from the scanner.
    pub scans: broadcast::Sender<String>,
    /// Outcome of each print by card id, kept in memory only until the page asks.
    pub prints: Arc<Mutex<HashMap<u32, Option<PrintOutcome>>>>,
    /// The last printer alarm, for the health page.
    pub printer_alarm: Arc<Mutex<Option<PrinterAlarm>>>,
    /// What the front desk has been told about the printer.
    pub desk_alarms: crate::desk_alarm::DeskAlarms,
}

/// When the printer last needed the desk, and what it reported.
pub type PrinterAlarm = (chrono::DateTime<chrono::Utc>, PaperStatus);

/// The kiosk's router.
pub fn router(state: KioskState) -> Router {
    Router::new()
        .route("/", get(|| async { Html(INDEX_HTML) }))
        .route(
            "/assets/app.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    APP_JS,
                )
            }),
        )
        .route(
            "/assets/app.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], APP_CSS) }),
        )
        .route("/assets/logo", get(logo))
        .route("/health", get(api::health))
        .route("/api/settings", get(api::settings))
        .route("/api/status", get(api::status))
        .route("/api/units", get(api::units))
        .route("/api/visitors", post(api::visitor))
        .route("/api/invites", post(api::invite))
        .route("/api/sign-out", post(api::sign_out))
        .route("/api/worker-cards", post(api::worker_card))
        .route("/api/prints/{card_id}", get(api::print_outcome))
        .route("/api/scans", get(api::scans))
        .with_state(state)
}

async fn logo(axum::extract::State(state): axum::extract::State<KioskState>) -> impl IntoResponse {
    match state.logo {
        Some((kind, bytes)) => {
            ([(header::CONTENT_TYPE, kind)], bytes.as_ref().clone()).into_response()
        }
        None => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}

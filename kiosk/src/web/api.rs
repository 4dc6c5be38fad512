//! JSON endpoints the page calls. Thin: check the form, call the server, show, print.

use super::KioskState;
use crate::flows::{self, Flow, Invalid, Notice};
use crate::printer::{PaperStatus, PrintOutcome, ticket};
use crate::server::ServerError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::Stream;
use gatehouse_credential::api::kiosk::IssuedPass;
use gatehouse_credential::{Kind, Qr};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

/// Pixels per QR module in the on-screen SVG (the page scales it; this sets its native size).
const SCREEN_MODULE_PX: u32 = 8;

/// A failed kiosk call, as the page sees it.
pub enum ApiError {
    /// A form field is wrong.
    Invalid(Invalid),
    /// A flow ended without a pass.
    Notice(Notice),
    /// Something inside the kiosk failed.
    Internal(String),
    /// The body is not the JSON the call takes (400 `bad_request`).
    BadRequest(String),
    /// The request names a host or comes from a page that is not the kiosk's own (403
    /// `foreign_origin`).
    ForeignOrigin(String),
}

/// A JSON body whose rejection (not JSON, wrong shape, wrong content type) is answered as JSON
/// like every other error.
pub struct Body<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for Body<T>
where
    Json<T>: axum::extract::FromRequest<S, Rejection = axum::extract::rejection::JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(ApiError::BadRequest(rejection.body_text())),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::Invalid(i) => (
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_input", "field": i.field, "message": i.to_string()}),
            ),
            ApiError::Notice(n) => {
                let status = match &n {
                    Notice::ServerUnreachable => StatusCode::SERVICE_UNAVAILABLE,
                    Notice::SeeFrontDesk => StatusCode::FORBIDDEN,
                    Notice::InvalidCode => StatusCode::NOT_FOUND,
                    Notice::AlreadyCollected
                    | Notice::IssuedAtDesk { .. }
                    | Notice::HostApprovalPending
                    | Notice::AlreadyRedeemed
                    | Notice::NotToday
                    | Notice::AlreadySignedOut => StatusCode::CONFLICT,
                    Notice::InvalidInput(_) => StatusCode::BAD_REQUEST,
                };
                let message = match &n {
                    Notice::InvalidInput(m) => m.clone(),
                    other => other.code().replace('_', " "),
                };
                let mut body = json!({"error": n.code(), "message": message});
                // The page words the time in the estate's time zone (`/api/settings`).
                if let Notice::IssuedAtDesk {
                    issued_at: Some(at),
                } = &n
                {
                    body["issued_at"] = json!(at);
                }
                (status, body)
            }
            ApiError::BadRequest(message) => (
                StatusCode::BAD_REQUEST,
                json!({"error": "bad_request", "message": message}),
            ),
            ApiError::ForeignOrigin(message) => (
                StatusCode::FORBIDDEN,
                json!({"error": "foreign_origin", "message": message}),
            ),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "kiosk internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": "internal", "message": "internal error"}),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}

impl From<Invalid> for ApiError {
    fn from(i: Invalid) -> Self {
        ApiError::Invalid(i)
    }
}

fn server_failed(flow: Flow, err: ServerError) -> ApiError {
    match &err {
        ServerError::Unreachable(_) => tracing::warn!(error = %err, ?flow, "server unreachable"),
        _ => tracing::warn!(error = %err, ?flow, "server refused"),
    }
    ApiError::Notice(flows::notice_for(flow, &err))
}

/// A pass ready for the screen: the QR as SVG and the words around it.
#[derive(Serialize)]
pub struct PassAnswer {
    card_id: u32,
    kind: Kind,
    credential: String,
    short_id: String,
    holder_masked: String,
    unit_label: String,
    not_after: DateTime<Utc>,
    validity_zh: String,
    validity_en: String,
    extended_to: Option<NaiveDate>,
    qr_svg: String,
}

/// Renders the pass, answers the page at once, and prints in the background; the page asks
/// `/api/prints/{card_id}` how the print went.
async fn show_and_print(state: KioskState, pass: IssuedPass) -> Result<Json<PassAnswer>, ApiError> {
    let qr = Qr::new(&pass.credential)
        .map_err(|e| ApiError::Internal(format!("credential does not fit a QR code: {e}")))?;
    let (validity_zh, validity_en) = ticket::validity_words(&pass, state.time_zone);
    let slip = ticket::ticket_for(&pass, &state.estate_name, state.time_zone);
    let card = pass.card_id.0;
    {
        let mut prints = lock(&state.prints);
        if prints.len() > 256 {
            prints.retain(|_, outcome| outcome.is_none());
        }
        prints.insert(card, None);
    }
    let printing = state.clone();
    tokio::spawn(async move {
        let outcome = printing.printer.print(&slip).await;
        if outcome.needs_desk() {
            raise_printer_alarm(&printing, outcome, Some(card));
        } else if let PrintOutcome::Printed(paper) = outcome {
            tell_desk(&printing, paper);
        }
        lock(&printing.prints).insert(card, Some(outcome));
    });
    Ok(Json(PassAnswer {
        card_id: card,
        kind: pass.kind,
        credential: pass.credential,
        short_id: pass.short_id,
        holder_masked: pass.holder_masked,
        unit_label: pass.unit_label,
        not_after: pass.not_after,
        validity_zh,
        validity_en,
        extended_to: pass.extended_to,
        qr_svg: qr.to_svg(SCREEN_MODULE_PX),
    }))
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data; keep serving.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Logs the alarm (target `gatehouse_kiosk::alarm`), keeps it for `/health`, and tells the
/// front desk through the server.
pub(crate) fn raise_printer_alarm(state: &KioskState, outcome: PrintOutcome, card: Option<u32>) {
    let paper = match outcome {
        PrintOutcome::Printed(p) | PrintOutcome::NotPrinted(p) => p,
    };
    tracing::error!(target: "gatehouse_kiosk::alarm", ?outcome, ?card, "printer needs the front desk");
    *lock(&state.printer_alarm) = Some((Utc::now(), paper));
    tell_desk(state, paper);
}

/// Brings the desk's view of the printer up to date, in the background.
fn tell_desk(state: &KioskState, paper: PaperStatus) {
    let state = state.clone();
    tokio::spawn(async move { state.desk_alarms.tell(&state.server, paper).await });
}

/// How often the kiosk asks the printer while nobody uses it, so a refilled roll clears the
/// desk's alarm (and an empty one raises it) without waiting for a visitor.
pub const PAPER_WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);

/// Checks the paper now and then every [`PAPER_WATCH_INTERVAL`], telling the desk of changes.
pub fn spawn_paper_watch(state: KioskState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PAPER_WATCH_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let paper = state.printer.status().await;
            state.desk_alarms.tell(&state.server, paper).await;
        }
    });
}

pub async fn visitor(
    State(state): State<KioskState>,
    Body(form): Body<flows::visitor::VisitorForm>,
) -> Result<Json<PassAnswer>, ApiError> {
    let request = form.validate()?;
    let pass = state
        .server
        .register_visitor(&request)
        .await
        .map_err(|e| server_failed(Flow::Visitor, e))?;
    show_and_print(state, pass).await
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    code: String,
}

pub async fn invite(
    State(state): State<KioskState>,
    Body(form): Body<InviteForm>,
) -> Result<Json<PassAnswer>, ApiError> {
    let request = flows::invite::parse_code(&form.code)?;
    let pass = state
        .server
        .redeem_invite(&request)
        .await
        .map_err(|e| server_failed(Flow::Invite, e))?;
    show_and_print(state, pass).await
}

#[derive(Deserialize)]
pub struct WorkerForm {
    #[serde(default)]
    renovation_code: String,
    #[serde(default)]
    id_last4: String,
    #[serde(default)]
    collection_code: String,
}

pub async fn worker_card(
    State(state): State<KioskState>,
    Body(form): Body<WorkerForm>,
) -> Result<Json<PassAnswer>, ApiError> {
    let request =
        flows::worker::parse_request(&form.renovation_code, &form.id_last4, &form.collection_code)?;
    let pass = state
        .server
        .collect_worker_card(&request)
        .await
        .map_err(|e| server_failed(Flow::WorkerCard, e))?;
    show_and_print(state, pass).await
}

#[derive(Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    pass: String,
}

pub async fn sign_out(
    State(state): State<KioskState>,
    Body(form): Body<SignOutForm>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let request = flows::sign_out::parse_pass(&form.pass)?;
    let done = state
        .server
        .sign_out(&request)
        .await
        .map_err(|e| server_failed(Flow::SignOut, e))?;
    Ok(Json(
        json!({"card_id": done.card_id.0, "holder_masked": done.holder_masked}),
    ))
}

pub async fn print_outcome(State(state): State<KioskState>, Path(card_id): Path<u32>) -> Response {
    let mut prints = lock(&state.prints);
    match prints.get(&card_id).copied() {
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "not_found", "message": "no print for that card"})),
        )
            .into_response(),
        Some(None) => Json(json!({"done": false})).into_response(),
        Some(Some(outcome)) => {
            prints.remove(&card_id);
            Json(json!({"done": true, "outcome": outcome, "desk_needed": outcome.needs_desk()}))
                .into_response()
        }
    }
}

pub async fn units(State(state): State<KioskState>) -> Result<Response, ApiError> {
    let units = state
        .server
        .units()
        .await
        .map_err(|e| server_failed(Flow::Visitor, e))?;
    Ok(Json(units).into_response())
}

/// The paper sensor, asked when a person starts a flow.
pub async fn status(State(state): State<KioskState>) -> Json<serde_json::Value> {
    let paper = state.printer.status().await;
    if matches!(paper, PaperStatus::Ok | PaperStatus::Unchecked) {
        tell_desk(&state, paper);
    } else {
        raise_printer_alarm(&state, PrintOutcome::NotPrinted(paper), None);
    }
    Json(json!({"paper": paper, "can_print": paper.can_print()}))
}

/// Whether the server answers, for the welcome screen's out-of-service banner.
pub async fn online(State(state): State<KioskState>) -> Json<serde_json::Value> {
    let online = !matches!(state.server.units().await, Err(ServerError::Unreachable(_)));
    Json(json!({ "online": online }))
}

pub async fn settings(State(state): State<KioskState>) -> Json<serde_json::Value> {
    Json(json!({
        "estate_name": state.estate_name,
        "idle_timeout_secs": state.idle_timeout.as_secs(),
        "idle_timeout_ms": u64::try_from(state.idle_timeout.as_millis()).unwrap_or(u64::MAX),
        "languages": state.languages,
        "has_logo": state.logo.is_some(),
        "time_zone": state.time_zone.name(),
    }))
}

pub async fn health(State(state): State<KioskState>) -> Json<serde_json::Value> {
    let paper = state.printer.status().await;
    let alarm = *lock(&state.printer_alarm);
    Json(json!({
        "status": "ok",
        "paper": paper,
        "last_printer_alarm": alarm.map(|(at, paper)| json!({"at": at, "paper": paper})),
    }))
}

pub async fn scans(
    State(state): State<KioskState>,
) -> Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>> {
    let staff_ring = state.muster_config.staff_card_ring();
    // A staff card is not a pass to sign out: the page only learns that the list is printing.
    let lines = BroadcastStream::new(state.scans.subscribe())
        .filter_map(|line| line.ok())
        .map(move |line| {
            let staff = staff_ring
                .as_ref()
                .and_then(|ring| crate::muster::staff_card(ring, &line, Utc::now()));
            Ok(match staff {
                Some(_) => Event::default().event("staff").data("muster"),
                None => Event::default().event("scan").data(line),
            })
        });
    Sse::new(lines).keep_alive(KeepAlive::default())
}

/// Keeps the muster copy fresh and prints it when the server reports an emergency starting.
pub fn spawn_muster_watch(state: KioskState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(state.muster_config.refresh);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut auto = crate::muster::AutoPrint::default();
        loop {
            tick.tick().await;
            let (list, header) = match state.server.muster().await {
                Ok(answer) => answer,
                Err(e) => {
                    // The last copy stays: that is what it is for.
                    tracing::warn!(error = %e, "muster list not refreshed; keeping the last copy");
                    continue;
                }
            };
            let emergency = header.as_deref().and_then(|h| {
                let parsed = crate::muster::Emergency::from_header(h);
                if parsed.is_none() {
                    tracing::warn!(value = h, "unknown emergency header from the server");
                }
                parsed
            });
            *lock(&state.muster) = Some(crate::muster::MusterCopy {
                list,
                fetched_at: Utc::now(),
            });
            if auto.observe(emergency) && state.muster_config.print_on_emergency {
                tracing::error!(target: "gatehouse_kiosk::alarm", ?emergency, "emergency: printing the muster list");
                print_muster(&state, emergency).await;
            }
        }
    });
}

/// Prints the list when a staff card the server signed is scanned, server or not.
pub fn spawn_staff_cards(state: KioskState) {
    let Some(ring) = state.muster_config.staff_card_ring() else {
        return;
    };
    let mut lines = state.scans.subscribe();
    tokio::spawn(async move {
        // A scanner repeats a card held under it: one list per card and half minute.
        let mut last: Option<(gatehouse_credential::CardId, tokio::time::Instant)> = None;
        loop {
            let line = match lines.recv().await {
                Ok(line) => line,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            let Some(card) = crate::muster::staff_card(&ring, &line, Utc::now()) else {
                continue;
            };
            let now = tokio::time::Instant::now();
            if last
                .is_some_and(|(c, at)| c == card && now - at < std::time::Duration::from_secs(30))
            {
                continue;
            }
            last = Some((card, now));
            tracing::warn!(target: "gatehouse_kiosk::alarm", card = card.0, "staff card scanned: printing the muster list");
            if print_muster(&state, None).await.is_none() {
                tracing::warn!("staff card scanned but the kiosk holds no copy of the muster list");
            }
        }
    });
}

/// Prints the current copy; `None` when there is none yet.
async fn print_muster(
    state: &KioskState,
    why: Option<crate::muster::Emergency>,
) -> Option<(PrintOutcome, DateTime<Utc>)> {
    let copy = lock(&state.muster).clone()?;
    let slip =
        crate::muster::muster_ticket(&copy, &state.estate_name, state.time_zone, Utc::now(), why);
    let outcome = state.printer.print(&slip).await;
    if outcome.needs_desk() {
        raise_printer_alarm(state, outcome, None);
    }
    Some((outcome, copy.list.generated_at))
}

/// Whether a copy is held and how old it is (no names: the page is public).
pub async fn muster_status(State(state): State<KioskState>) -> Json<serde_json::Value> {
    let copy = lock(&state.muster).clone();
    Json(json!({
        "staff_print": state.muster_config.staff_pin.is_some(),
        "list_as_of": copy.as_ref().map(|c| c.list.generated_at),
        "fetched_at": copy.as_ref().map(|c| c.fetched_at),
        "people": copy.as_ref().map(|c| c.list.people.len()),
    }))
}

#[derive(Deserialize)]
pub struct MusterPrintForm {
    #[serde(default)]
    pin: String,
}

/// A staff member asks for the list with the PIN; it prints from the copy, server or not.
pub async fn muster_print(
    State(state): State<KioskState>,
    Body(form): Body<MusterPrintForm>,
) -> Response {
    let refuse = |status: StatusCode, code: &str, message: &str| {
        (status, Json(json!({"error": code, "message": message}))).into_response()
    };
    let Some(pin) = &state.muster_config.staff_pin else {
        return refuse(
            StatusCode::FORBIDDEN,
            "no_staff_pin",
            "no staff PIN is configured on this kiosk",
        );
    };
    if !crate::muster::pin_matches(pin, &form.pin) {
        tracing::warn!("muster list asked for with a wrong PIN");
        return refuse(StatusCode::FORBIDDEN, "wrong_pin", "wrong PIN");
    }
    match print_muster(&state, None).await {
        None => refuse(
            StatusCode::CONFLICT,
            "no_copy",
            "the kiosk has no copy of the list yet",
        ),
        Some((outcome, as_of)) => Json(json!({
            "outcome": outcome,
            "list_as_of": as_of,
            "desk_needed": outcome.needs_desk(),
        }))
        .into_response(),
    }
}

/// Whether `host` (a `Host` header, or an origin's host and port) names this machine's loopback
/// interface, the only one the kiosk serves.
fn loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(name, "127.0.0.1" | "localhost" | "[::1]")
}

/// The page's own origin only: a request must name a loopback `Host` (so a foreign name that
/// resolves to 127.0.0.1 — DNS rebinding — is refused), and an `Origin`, when sent, must be
/// that same `http://` host. Another web page open on the kiosk's browser cannot drive it.
pub fn origin_refusal(headers: &axum::http::HeaderMap) -> Option<ApiError> {
    use axum::http::header::{HOST, ORIGIN};
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !loopback_host(host) {
        return Some(ApiError::ForeignOrigin(format!(
            "the kiosk answers only for its own address, not {host:?}"
        )));
    }
    match headers.get(ORIGIN).map(|o| o.to_str().unwrap_or("")) {
        None => None,
        Some(origin) if origin.strip_prefix("http://") == Some(host) => None,
        Some(origin) => Some(ApiError::ForeignOrigin(format!(
            "requests from {origin:?} are refused; only the kiosk's own page may call it"
        ))),
    }
}

/// Refuses requests [`origin_refusal`] finds foreign, before any handler runs.
pub async fn same_origin(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    match origin_refusal(req.headers()) {
        Some(refusal) => {
            tracing::warn!(uri = %req.uri(), "foreign request refused");
            refusal.into_response()
        }
        None => next.run(req).await,
    }
}

#[cfg(test)]
mod origin_tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    fn headers(host: &str, origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            h.insert("origin", HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn only_the_kiosks_own_page_passes() {
        for (host, origin) in [
            ("127.0.0.1:8080", None),
            ("localhost:8080", Some("http://localhost:8080")),
            ("[::1]:8080", Some("http://[::1]:8080")),
            ("127.0.0.1", None),
        ] {
            assert!(origin_refusal(&headers(host, origin)).is_none(), "{host}");
        }
        for (host, origin) in [
            ("evil.example:8080", None),
            ("127.0.0.1.evil.example", None),
            ("127.0.0.1:8080", Some("https://evil.example")),
            ("127.0.0.1:8080", Some("null")),
            ("127.0.0.1:8080", Some("http://127.0.0.1:9999")),
            ("127.0.0.1:8080", Some("https://127.0.0.1:8080")),
        ] {
            assert!(
                origin_refusal(&headers(host, origin)).is_some(),
                "{host} {origin:?}"
            );
        }
        assert!(origin_refusal(&HeaderMap::new()).is_some());
    }
}

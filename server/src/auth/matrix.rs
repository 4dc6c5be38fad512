//! THE AUTHORIZATION MATRIX: every route, and which callers may use it.
//!
//! The router is built from this table: a handler registered without a row here makes startup
//! fail, and the layer that admits or refuses a caller takes its set from the row. The
//! integration test `authz::matrix_is_enforced_for_every_route_and_actor` calls every row as
//! every kind of caller. Add a row when you add a route (append to your section).

use super::{Actor, Allow};
use crate::http::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// One row of the matrix.
#[derive(Debug)]
pub struct Rule {
    /// HTTP method.
    pub method: Method,
    /// The route as axum writes it, e.g. `/api/v1/devices/{id}`.
    pub path: &'static str,
    /// Who may call it.
    pub allow: Allow,
    /// OpenAPI tag.
    pub tag: &'static str,
    /// One line for the OpenAPI document.
    pub summary: &'static str,
}

const fn rule(
    method: Method,
    path: &'static str,
    allow: Allow,
    tag: &'static str,
    summary: &'static str,
) -> Rule {
    Rule {
        method,
        path,
        allow,
        tag,
        summary,
    }
}

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const DELETE: Method = Method::DELETE;
const GATE: Allow = Allow::GATE;
const ANYONE: Allow = Allow::ANYONE;
const STAFF: Allow = Allow::STAFF;
const MANAGER: Allow = Allow::MANAGER;

/// Every route of the server.
pub const MATRIX: &[Rule] = &[
    // operations
    rule(
        GET,
        "/healthz",
        ANYONE,
        "ops",
        "Liveness, version and database status",
    ),
    rule(GET, "/metrics", ANYONE, "ops", "Prometheus metrics"),
    rule(
        GET,
        "/api/openapi.json",
        ANYONE,
        "ops",
        "This OpenAPI document",
    ),
    // staff authentication and accounts
    rule(
        POST,
        "/api/v1/auth/login",
        ANYONE,
        "auth",
        "Log in; returns a bearer token and sets the page cookie",
    ),
    rule(
        POST,
        "/api/v1/auth/logout",
        STAFF,
        "auth",
        "End the current session",
    ),
    rule(
        GET,
        "/api/v1/auth/me",
        STAFF,
        "auth",
        "The logged-in staff member",
    ),
    rule(GET, "/api/v1/staff", MANAGER, "auth", "List staff accounts"),
    rule(
        POST,
        "/api/v1/staff",
        MANAGER,
        "auth",
        "Create a staff account",
    ),
    // audit
    rule(
        GET,
        "/api/v1/audit",
        MANAGER,
        "audit",
        "Recent audit entries",
    ),
    rule(
        GET,
        "/api/v1/audit/verify",
        MANAGER,
        "audit",
        "Recompute the audit hash chain",
    ),
    // devices
    rule(
        POST,
        "/api/v1/devices",
        MANAGER,
        "devices",
        "Create a kiosk or gate; returns a one-time enrolment token",
    ),
    rule(GET, "/api/v1/devices", MANAGER, "devices", "List devices"),
    rule(
        DELETE,
        "/api/v1/devices/{id}",
        MANAGER,
        "devices",
        "Revoke a device and its key",
    ),
    rule(
        POST,
        "/api/v1/devices/enrol",
        ANYONE,
        "devices",
        "Exchange an enrolment token for the device's API key",
    ),
    // estate layout and calendar
    rule(
        GET,
        "/api/v1/estate",
        STAFF,
        "estate",
        "Buildings, units, zones, schedules, blackout dates, time zone, lockdown",
    ),
    rule(
        PUT,
        "/api/v1/estate/time-zone",
        MANAGER,
        "estate",
        "Set the estate's IANA time zone",
    ),
    rule(
        POST,
        "/api/v1/buildings",
        MANAGER,
        "estate",
        "Add a building (number 0–254, floor range)",
    ),
    rule(
        POST,
        "/api/v1/units",
        MANAGER,
        "estate",
        "Add a unit on a floor of a building",
    ),
    rule(
        POST,
        "/api/v1/zones",
        MANAGER,
        "estate",
        "Add a named zone (door, gate, lift floor)",
    ),
    rule(
        PUT,
        "/api/v1/schedules/{id}",
        MANAGER,
        "estate",
        "Create or replace schedule 1–15",
    ),
    rule(
        POST,
        "/api/v1/blackout-dates",
        MANAGER,
        "estate",
        "Add a blackout date",
    ),
    rule(
        DELETE,
        "/api/v1/blackout-dates/{date}",
        MANAGER,
        "estate",
        "Remove a blackout date",
    ),
    // gate sync and journal (gate devices only)
    rule(
        GET,
        "/api/v1/gate/snapshot",
        GATE,
        "gate",
        "Keys, calendar, lockdown and the cursor they reflect",
    ),
    rule(
        GET,
        "/api/v1/gate/changes",
        GATE,
        "gate",
        "Changes after a cursor; long poll with wait_ms",
    ),
    rule(
        POST,
        "/api/v1/gate/journal",
        GATE,
        "gate",
        "Upload journal entries, stored once by id",
    ),
    // gate events for staff
    rule(
        GET,
        "/api/v1/events",
        STAFF,
        "events",
        "Gate events filtered by card, device, result, time",
    ),
    rule(
        GET,
        "/api/v1/events.csv",
        STAFF,
        "events",
        "Gate events as CSV",
    ),
    // remote control (managers)
    rule(
        POST,
        "/api/v1/doors/{device_id}/unlock",
        MANAGER,
        "control",
        "Open one gate's door remotely",
    ),
    rule(
        GET,
        "/api/v1/lockdown",
        STAFF,
        "control",
        "Whether the estate is in lockdown",
    ),
    rule(
        PUT,
        "/api/v1/lockdown",
        MANAGER,
        "control",
        "Switch estate-wide lockdown on or off",
    ),
    // front desk (server-desk): renovations, workers, cards, deposits, visitors, kiosk, retention
    rule(
        GET,
        "/api/v1/renovations",
        STAFF,
        "renovations",
        "List renovations",
    ),
    rule(
        POST,
        "/api/v1/renovations",
        STAFF,
        "renovations",
        "Register a renovation (at most 3 months)",
    ),
    rule(
        GET,
        "/api/v1/renovations/{id}",
        STAFF,
        "renovations",
        "A renovation with workers, cards, extensions, ledger and refund rules",
    ),
    rule(
        PUT,
        "/api/v1/renovations/{id}/documents",
        STAFF,
        "renovations",
        "Record checklist documents as received or missing",
    ),
    rule(
        PUT,
        "/api/v1/renovations/{id}/progress",
        STAFF,
        "renovations",
        "Record inspection, occupancy, downstairs sign-off and presented papers",
    ),
    rule(
        POST,
        "/api/v1/renovations/{id}/extensions",
        STAFF,
        "renovations",
        "Extend a renovation (at most 3 months more); cards follow without reprint",
    ),
    rule(
        POST,
        "/api/v1/renovations/{id}/workers",
        STAFF,
        "renovations",
        "Register a worker on a renovation",
    ),
    rule(
        POST,
        "/api/v1/renovations/{id}/ledger",
        STAFF,
        "deposits",
        "Record a deposit, rubbish-removal fee or deduction",
    ),
    rule(
        GET,
        "/api/v1/renovations/{id}/refund-check",
        STAFF,
        "deposits",
        "Every refund rule with met/unmet and why",
    ),
    rule(
        POST,
        "/api/v1/renovations/{id}/refund",
        STAFF,
        "deposits",
        "Refund the deposit (409 unless every rule holds)",
    ),
    rule(
        POST,
        "/api/v1/workers/{id}/card",
        STAFF,
        "cards",
        "Issue a worker's card",
    ),
    rule(
        POST,
        "/api/v1/cards/return",
        STAFF,
        "cards",
        "Take a card back by its scanned text",
    ),
    rule(
        GET,
        "/api/v1/cards/outstanding",
        STAFF,
        "cards",
        "Worker cards not yet returned, overdue first",
    ),
    rule(
        POST,
        "/api/v1/cards/{id}/reprint",
        STAFF,
        "cards",
        "Reprint a worker card (the old one is revoked)",
    ),
    rule(
        POST,
        "/api/v1/cards/{id}/lost",
        STAFF,
        "cards",
        "Declare a card lost (revoked, fee deducted)",
    ),
    rule(
        POST,
        "/api/v1/cards/{id}/revoke",
        STAFF,
        "cards",
        "Revoke a card",
    ),
    rule(
        POST,
        "/api/v1/visitors",
        STAFF,
        "visitors",
        "Register a visitor and issue a pass",
    ),
    rule(
        GET,
        "/api/v1/visitors/on-site",
        STAFF,
        "visitors",
        "Visitors on site now",
    ),
    rule(
        POST,
        "/api/v1/visitors/cards/{id}/sign-out",
        STAFF,
        "visitors",
        "Sign a visitor pass out",
    ),
    rule(
        POST,
        "/api/v1/deny-list",
        STAFF,
        "visitors",
        "Add a person to the visitor deny list",
    ),
    rule(
        POST,
        "/api/v1/invites",
        STAFF,
        "visitors",
        "Create a visitor invite code for the kiosk",
    ),
    rule(
        POST,
        "/api/v1/retention/run",
        MANAGER,
        "retention",
        "Purge personal data past the retention period now",
    ),
    rule(
        GET,
        "/api/v1/kiosk/units",
        KIOSK_ONLY,
        "kiosk",
        "Units a visitor can pick",
    ),
    rule(
        POST,
        "/api/v1/kiosk/visitors",
        KIOSK_ONLY,
        "kiosk",
        "Register a visitor at the kiosk",
    ),
    rule(
        POST,
        "/api/v1/kiosk/invites/redeem",
        KIOSK_ONLY,
        "kiosk",
        "Redeem an invite code",
    ),
    rule(
        POST,
        "/api/v1/kiosk/sign-out",
        KIOSK_ONLY,
        "kiosk",
        "Sign a visitor out by pass text or short id",
    ),
    rule(
        POST,
        "/api/v1/kiosk/worker-cards",
        KIOSK_ONLY,
        "kiosk",
        "A worker collects their card",
    ),
    // front-desk pages (server-desk)
    rule(GET, "/login", ANYONE, "pages", "Front-desk log-in page"),
    rule(
        GET,
        "/",
        STAFF,
        "pages",
        "Front-desk home (to the renovations page)",
    ),
    rule(
        GET,
        "/desk/renovations",
        STAFF,
        "pages",
        "Page: renovations and registration",
    ),
    rule(
        GET,
        "/desk/renovations/{id}",
        STAFF,
        "pages",
        "Page: one renovation with workers, cards, ledger and refund checklist",
    ),
    rule(
        GET,
        "/desk/return",
        STAFF,
        "pages",
        "Page: scan-to-return field for the desk scanner",
    ),
    rule(
        GET,
        "/desk/visitors",
        STAFF,
        "pages",
        "Page: visitors on site",
    ),
    rule(
        GET,
        "/desk/cards/outstanding",
        STAFF,
        "pages",
        "Page: outstanding and overdue worker cards",
    ),
    rule(
        GET,
        "/desk/cards/outstanding.csv",
        STAFF,
        "pages",
        "CSV export of outstanding worker cards",
    ),
];

// Used by the front-desk rows.
const KIOSK_ONLY: Allow = Allow::KIOSK;

/// The row for `method` and `path`, if there is one.
pub fn find(method: &Method, path: &str) -> Option<&'static Rule> {
    MATRIX
        .iter()
        .find(|r| r.method == *method && r.path == path)
}

/// Where a browser is sent when a page needs a login (the page itself belongs to the desk UI).
pub const LOGIN_PAGE: &str = "/login";

/// The layer in front of every route: resolves the caller and applies the row's `allow`.
pub async fn authorize(
    State((state, allow)): State<(AppState, Allow)>,
    mut request: Request,
    next: Next,
) -> Response {
    let actor = match resolve(&state, request.headers()).await {
        Ok(actor) => actor,
        Err(e) => return e.into_response(),
    };
    if !allow.admits(actor.kind()) {
        let is_page = !request.uri().path().starts_with("/api/");
        return match actor {
            Actor::Anonymous if is_page => Redirect::to(LOGIN_PAGE).into_response(),
            Actor::Anonymous => {
                ApiError::Unauthorized("log in or send `Authorization: Bearer <token>`".into())
                    .into_response()
            }
            other => ApiError::Forbidden(format!(
                "a {} may not do this (allowed: {})",
                other.kind().name(),
                allow
                    .kinds()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .into_response(),
        };
    }
    request.extensions_mut().insert(actor);
    next.run(request).await
}

/// The caller of a request: from the bearer token or session cookie, else anonymous.
pub async fn resolve(state: &AppState, headers: &axum::http::HeaderMap) -> Result<Actor, ApiError> {
    let Some(token) = super::session::token_from_headers(headers) else {
        return Ok(Actor::Anonymous);
    };
    let now = state.now();
    state
        .db
        .call(move |conn| super::session::resolve(conn, &token, now).map_err(ApiError::from))
        .await
}

/// Handlers take `actor: Actor` to learn who called; [`authorize`] put it there.
impl FromRequestParts<AppState> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Actor>().cloned().ok_or_else(|| {
            ApiError::internal(std::io::Error::other(
                "route registered without the authorization layer",
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_unique_and_well_formed() {
        for (i, a) in MATRIX.iter().enumerate() {
            assert!(a.path.starts_with('/'), "{}", a.path);
            assert!(!a.summary.is_empty());
            for b in &MATRIX[i + 1..] {
                assert!(
                    !(a.method == b.method && a.path == b.path),
                    "duplicate row {} {}",
                    a.method,
                    a.path
                );
            }
        }
    }
}

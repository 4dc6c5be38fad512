//! THE AUTHORIZATION MATRIX: every route, and which callers may use it.
//!
//! The router is built from this table: a handler registered without a row here makes startup
//! fail, and the layer that admits or refuses a caller takes its set from the row. The
//! integration test `authz::matrix_is_enforced_for_every_route_and_actor` calls every row as
//! every kind of caller. Add a row when you add a route, in the section of its resource.

use super::{Actor, Allow};
use crate::domain::ledger;
use crate::domain::{
    alarms, card, deposit, devices, emergency, estate, journal, muster, overstay, refund,
    renovation, retention, staff, visitor, worker,
};
use crate::http::error::ApiError;
use crate::http::openapi::{
    BlackoutDate, CardNumber, DeviceId, DoorDevice, Io, RowId, ScheduleNumber, documents_body,
    list, one, params,
};
use crate::http::{self, auth, control, renovations, visitors};
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use gatehouse_credential::api::{device, gate, kiosk};

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
    /// Parameters, request and response bodies, for the OpenAPI document.
    pub io: Io,
}

const fn rule(
    method: Method,
    path: &'static str,
    allow: Allow,
    tag: &'static str,
    summary: &'static str,
    io: Io,
) -> Rule {
    Rule {
        method,
        path,
        allow,
        tag,
        summary,
        io,
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
/// Pages, health and metrics: outside the `/api/v1` document.
const NOT_API: Io = Io::NOT_API;

/// Every route of the server.
pub const MATRIX: &[Rule] = &[
    // operations
    rule(
        GET,
        "/healthz",
        ANYONE,
        "ops",
        "Liveness, version and database status",
        NOT_API,
    ),
    rule(
        GET,
        "/metrics",
        ANYONE,
        "ops",
        "Prometheus metrics",
        NOT_API,
    ),
    rule(
        GET,
        "/api/openapi.json",
        ANYONE,
        "ops",
        "This OpenAPI document",
        NOT_API,
    ),
    // staff authentication and accounts
    rule(
        POST,
        "/api/v1/auth/login",
        ANYONE,
        "auth",
        "Log in; returns a bearer token and sets the page cookie",
        Io::ok(one::<auth::LoginResponse>).body(one::<auth::LoginRequest>),
    ),
    rule(
        POST,
        "/api/v1/auth/logout",
        STAFF,
        "auth",
        "End the current session",
        Io::NO_CONTENT,
    ),
    rule(
        GET,
        "/api/v1/auth/me",
        STAFF,
        "auth",
        "The logged-in staff member",
        Io::ok(one::<auth::Me>),
    ),
    rule(
        GET,
        "/api/v1/staff",
        MANAGER,
        "auth",
        "List staff accounts",
        Io::ok(list::<staff::StaffAccount>),
    ),
    rule(
        POST,
        "/api/v1/staff",
        MANAGER,
        "auth",
        "Create a staff account",
        Io::created(one::<staff::StaffAccount>).body(one::<auth::NewStaff>),
    ),
    rule(
        POST,
        "/api/v1/auth/password",
        STAFF,
        "auth",
        "Change one's own password; every session of the account ends and a new one starts",
        Io::ok(one::<auth::LoginResponse>).body(one::<auth::ChangePassword>),
    ),
    rule(
        POST,
        "/api/v1/staff/{id}/password",
        MANAGER,
        "auth",
        "Set another account's password; its sessions end",
        Io::NO_CONTENT
            .body(one::<auth::ResetPassword>)
            .params(&[params::<RowId>]),
    ),
    rule(
        PUT,
        "/api/v1/staff/{id}/disabled",
        MANAGER,
        "auth",
        "Disable (its sessions end) or enable a staff account",
        Io::ok(one::<staff::StaffAccount>)
            .body(one::<auth::SetDisabled>)
            .params(&[params::<RowId>]),
    ),
    // audit
    rule(
        GET,
        "/api/v1/audit",
        MANAGER,
        "audit",
        "Recent audit entries",
        Io::ok(list::<crate::audit::Entry>).params(&[params::<http::audit::RecentQuery>]),
    ),
    rule(
        GET,
        "/api/v1/audit/verify",
        MANAGER,
        "audit",
        "Recompute the audit hash chain",
        Io::ok(one::<crate::audit::Verification>),
    ),
    // devices
    rule(
        POST,
        "/api/v1/devices",
        MANAGER,
        "devices",
        "Create a kiosk or gate; returns a one-time enrolment token",
        Io::created(one::<devices::NewDevice>).body(one::<http::devices::CreateDevice>),
    ),
    rule(
        GET,
        "/api/v1/devices",
        MANAGER,
        "devices",
        "List devices",
        Io::ok(list::<devices::DeviceInfo>),
    ),
    rule(
        DELETE,
        "/api/v1/devices/{id}",
        MANAGER,
        "devices",
        "Revoke a device and its key",
        Io::NO_CONTENT.params(&[params::<DeviceId>]),
    ),
    rule(
        POST,
        "/api/v1/devices/enrol",
        ANYONE,
        "devices",
        "Exchange an enrolment token for the device's API key",
        Io::ok(one::<device::EnrolResponse>).body(one::<device::EnrolRequest>),
    ),
    // estate layout and calendar
    rule(
        GET,
        "/api/v1/estate",
        STAFF,
        "estate",
        "Buildings, units, zones, schedules, blackout dates, time zone, lockdown",
        Io::ok(one::<estate::Estate>),
    ),
    rule(
        PUT,
        "/api/v1/estate/time-zone",
        MANAGER,
        "estate",
        "Set the estate's IANA time zone",
        Io::NO_CONTENT.body(one::<http::estate::TimeZoneBody>),
    ),
    rule(
        POST,
        "/api/v1/buildings",
        MANAGER,
        "estate",
        "Add a building (number 0–254, floor range)",
        Io::created(one::<estate::Building>).body(one::<estate::Building>),
    ),
    rule(
        POST,
        "/api/v1/units",
        MANAGER,
        "estate",
        "Add a unit on a floor of a building",
        Io::created(one::<estate::Unit>).body(one::<estate::Unit>),
    ),
    rule(
        POST,
        "/api/v1/zones",
        MANAGER,
        "estate",
        "Add a named zone (door, gate, lift floor)",
        Io::created(one::<estate::NamedZone>).body(one::<estate::NamedZone>),
    ),
    rule(
        PUT,
        "/api/v1/schedules/{id}",
        MANAGER,
        "estate",
        "Create or replace schedule 1–15",
        Io::ok(one::<gatehouse_credential::Schedule>)
            .body(one::<http::estate::ScheduleBody>)
            .params(&[params::<ScheduleNumber>]),
    ),
    rule(
        POST,
        "/api/v1/blackout-dates",
        MANAGER,
        "estate",
        "Add a blackout date",
        Io::created(one::<estate::Blackout>).body(one::<estate::Blackout>),
    ),
    rule(
        DELETE,
        "/api/v1/blackout-dates/{date}",
        MANAGER,
        "estate",
        "Remove a blackout date",
        Io::NO_CONTENT.params(&[params::<BlackoutDate>]),
    ),
    // gate sync and journal (gate devices only)
    rule(
        GET,
        "/api/v1/gate/snapshot",
        GATE,
        "gate",
        "Keys, calendar, lockdown and the cursor they reflect",
        Io::ok(one::<gate::GateSnapshot>),
    ),
    rule(
        GET,
        "/api/v1/gate/changes",
        GATE,
        "gate",
        "Changes after a cursor; long poll with wait_ms",
        Io::ok(one::<gate::ChangeBatch>).params(&[params::<http::gate::ChangesQuery>]),
    ),
    rule(
        POST,
        "/api/v1/gate/journal",
        GATE,
        "gate",
        "Upload journal entries, stored once by id",
        Io::ok(one::<gate::JournalAck>).body(one::<gate::JournalUpload>),
    ),
    // device alarms: devices raise and clear, staff see and acknowledge
    rule(
        POST,
        "/api/v1/device/alarms",
        Allow::KIOSK.or(Allow::GATE),
        "alarms",
        "Raise or clear an alarm of the calling device",
        Io::NO_CONTENT.body(one::<device::AlarmReport>),
    ),
    rule(
        GET,
        "/api/v1/alarms",
        STAFF,
        "alarms",
        "Alarms the desk has not yet seen or whose cause lasts, newest first",
        Io::ok(list::<alarms::Alarm>),
    ),
    rule(
        POST,
        "/api/v1/alarms/{id}/acknowledge",
        STAFF,
        "alarms",
        "A staff member has seen the alarm",
        Io::ok(one::<alarms::Alarm>).params(&[params::<RowId>]),
    ),
    // gate events for staff
    rule(
        GET,
        "/api/v1/events",
        STAFF,
        "events",
        "Gate events filtered by card, device, result, time",
        Io::ok(list::<journal::EventRow>).params(&[params::<journal::EventFilter>]),
    ),
    rule(
        GET,
        "/api/v1/events.csv",
        STAFF,
        "events",
        "Gate events as CSV",
        Io::CSV.params(&[params::<journal::EventFilter>]),
    ),
    // remote control (managers)
    rule(
        POST,
        "/api/v1/doors/{device_id}/unlock",
        MANAGER,
        "control",
        "Open one gate's door remotely",
        Io::ok(one::<control::Pushed>)
            .body(one::<control::UnlockBody>)
            .params(&[params::<DoorDevice>]),
    ),
    rule(
        GET,
        "/api/v1/lockdown",
        STAFF,
        "control",
        "Whether the estate is in lockdown",
        Io::ok(one::<control::Lockdown>),
    ),
    rule(
        PUT,
        "/api/v1/lockdown",
        MANAGER,
        "control",
        "Switch estate-wide lockdown on or off",
        Io::ok(one::<control::Pushed>).body(one::<control::Lockdown>),
    ),
    // front desk: renovations, workers, cards, deposits, visitors, kiosk, retention
    rule(
        GET,
        "/api/v1/renovations",
        STAFF,
        "renovations",
        "List renovations",
        Io::ok(list::<renovation::Renovation>),
    ),
    rule(
        POST,
        "/api/v1/renovations",
        STAFF,
        "renovations",
        "Register a renovation (at most 3 months)",
        Io::created(one::<renovation::Renovation>).body(one::<renovation::NewRenovation>),
    ),
    rule(
        GET,
        "/api/v1/renovations/{id}",
        STAFF,
        "renovations",
        "A renovation with workers, cards, extensions, ledger and refund rules",
        Io::ok(one::<renovations::RenovationDetail>).params(&[params::<RowId>]),
    ),
    rule(
        PUT,
        "/api/v1/renovations/{id}/documents",
        STAFF,
        "renovations",
        "Record checklist documents as received or missing",
        Io::ok(one::<renovation::Renovation>)
            .body(documents_body)
            .params(&[params::<RowId>]),
    ),
    rule(
        PUT,
        "/api/v1/renovations/{id}/progress",
        STAFF,
        "renovations",
        "Record inspection, occupancy, downstairs sign-off and presented papers",
        Io::ok(one::<renovation::Renovation>)
            .body(one::<renovation::Progress>)
            .params(&[params::<RowId>]),
    ),
    rule(
        POST,
        "/api/v1/renovations/{id}/extensions",
        STAFF,
        "renovations",
        "Extend a renovation (at most 3 months more); cards follow without reprint",
        Io::ok(one::<renovations::Extended>)
            .body(one::<renovations::ExtendRequest>)
            .params(&[params::<RowId>]),
    ),
    rule(
        POST,
        "/api/v1/renovations/{id}/workers",
        STAFF,
        "renovations",
        "Register a worker on a renovation",
        Io::created(one::<worker::Worker>)
            .body(one::<worker::NewWorker>)
            .params(&[params::<RowId>]),
    ),
    rule(
        POST,
        "/api/v1/renovations/{id}/ledger",
        STAFF,
        "deposits",
        "Record a deposit, rubbish-removal fee or deduction",
        Io::created(one::<refund::LedgerLine>)
            .body(one::<ledger::NewLine>)
            .params(&[params::<RowId>]),
    ),
    rule(
        GET,
        "/api/v1/renovations/{id}/refund-check",
        STAFF,
        "deposits",
        "Every refund rule with met/unmet and why",
        Io::ok(list::<refund::RuleResult>).params(&[params::<RowId>]),
    ),
    rule(
        POST,
        "/api/v1/renovations/{id}/refund",
        STAFF,
        "deposits",
        "Refund the deposit (409 unless every rule holds; a desk clerk's refund may await approval)",
        Io::ok(one::<deposit::Refund>).params(&[params::<RowId>]),
    ),
    rule(
        POST,
        "/api/v1/workers/{id}/card",
        STAFF,
        "cards",
        "Issue a worker's card",
        Io::created(one::<card::Issued>)
            .body(one::<renovations::IssueRequest>)
            .params(&[params::<RowId>]),
    ),
    rule(
        POST,
        "/api/v1/cards/return",
        STAFF,
        "cards",
        "Take a card back by its scan, number or printed code, whatever happened to it",
        Io::ok(one::<card::Returned>).body(one::<renovations::ReturnRequest>),
    ),
    rule(
        GET,
        "/api/v1/cards/outstanding",
        STAFF,
        "cards",
        "Worker cards not yet returned, overdue first",
        Io::ok(list::<card::Outstanding>),
    ),
    rule(
        POST,
        "/api/v1/cards/{id}/reprint",
        STAFF,
        "cards",
        "Reprint a worker card (the old one is revoked)",
        Io::created(one::<card::Issued>).params(&[params::<CardNumber>]),
    ),
    rule(
        POST,
        "/api/v1/cards/{id}/lost",
        STAFF,
        "cards",
        "Declare a card lost (revoked, fee deducted)",
        Io::ok(one::<card::Card>)
            .body(one::<renovations::LostRequest>)
            .params(&[params::<CardNumber>]),
    ),
    rule(
        POST,
        "/api/v1/cards/{id}/revoke",
        STAFF,
        "cards",
        "Revoke a card",
        Io::ok(one::<card::Card>).params(&[params::<CardNumber>]),
    ),
    rule(
        GET,
        "/api/v1/cards/lookup",
        STAFF,
        "cards",
        "Find a card by typed number, printed code or scan: holder (masked) and renovation",
        Io::ok(one::<card::CardView>).params(&[params::<renovations::LookupQuery>]),
    ),
    rule(
        GET,
        "/api/v1/cards/overdue-alarms",
        STAFF,
        "cards",
        "Overdue worker cards not yet acknowledged (each raised once)",
        Io::ok(list::<card::OverdueAlarm>),
    ),
    rule(
        POST,
        "/api/v1/cards/{id}/overdue/acknowledge",
        STAFF,
        "cards",
        "A staff member has seen an overdue card's alarm",
        Io::NO_CONTENT.params(&[params::<CardNumber>]),
    ),
    rule(
        POST,
        "/api/v1/ledger/{id}/reverse",
        MANAGER,
        "deposits",
        "Reverse a deduction, with a reason",
        Io::created(one::<refund::LedgerLine>)
            .body(one::<renovations::ReverseRequest>)
            .params(&[params::<RowId>]),
    ),
    rule(
        GET,
        "/api/v1/settings/refund-approval",
        STAFF,
        "deposits",
        "Who must approve a refund a desk clerk pays",
        Io::ok(one::<renovations::RefundApproval>),
    ),
    rule(
        PUT,
        "/api/v1/settings/refund-approval",
        MANAGER,
        "deposits",
        "Set who must approve a refund a desk clerk pays",
        Io::ok(one::<renovations::RefundApproval>).body(one::<renovations::RefundApproval>),
    ),
    rule(
        POST,
        "/api/v1/visitors",
        STAFF,
        "visitors",
        "Register a visitor and issue a pass",
        Io::created(one::<visitor::VisitorPass>).body(one::<visitor::NewVisitor>),
    ),
    rule(
        GET,
        "/api/v1/visitors/on-site",
        STAFF,
        "visitors",
        "Visitors on site now",
        Io::ok(list::<visitor::OnSite>),
    ),
    rule(
        POST,
        "/api/v1/visitors/cards/{id}/sign-out",
        STAFF,
        "visitors",
        "Sign a visitor pass out",
        Io::ok(one::<card::Card>).params(&[params::<CardNumber>]),
    ),
    rule(
        POST,
        "/api/v1/deny-list",
        STAFF,
        "visitors",
        "Add a person to the visitor deny list",
        Io::created(one::<visitors::Denied>).body(one::<visitor::NewDenial>),
    ),
    rule(
        GET,
        "/api/v1/deny-list",
        STAFF,
        "visitors",
        "The visitor deny list, names and phones masked",
        Io::ok(list::<visitor::Denial>),
    ),
    rule(
        DELETE,
        "/api/v1/deny-list/{id}",
        MANAGER,
        "visitors",
        "Remove a person from the deny list",
        Io::NO_CONTENT.params(&[params::<RowId>]),
    ),
    rule(
        POST,
        "/api/v1/invites",
        STAFF,
        "visitors",
        "Create a visitor invite code for the kiosk",
        Io::created(one::<visitor::Invite>).body(one::<visitor::NewInvite>),
    ),
    rule(
        POST,
        "/api/v1/retention/run",
        MANAGER,
        "retention",
        "Purge personal data past the retention period now",
        Io::ok(one::<retention::PurgeReport>),
    ),
    rule(
        GET,
        "/api/v1/kiosk/units",
        KIOSK_ONLY,
        "kiosk",
        "Units a visitor can pick",
        Io::ok(list::<kiosk::UnitChoice>),
    ),
    rule(
        POST,
        "/api/v1/kiosk/visitors",
        KIOSK_ONLY,
        "kiosk",
        "Register a visitor at the kiosk",
        Io::created(one::<kiosk::IssuedPass>).body(one::<kiosk::VisitorRequest>),
    ),
    rule(
        POST,
        "/api/v1/kiosk/invites/redeem",
        KIOSK_ONLY,
        "kiosk",
        "Redeem an invite code",
        Io::ok(one::<kiosk::IssuedPass>).body(one::<kiosk::InviteRedeem>),
    ),
    rule(
        POST,
        "/api/v1/kiosk/sign-out",
        KIOSK_ONLY,
        "kiosk",
        "Sign a visitor out by pass text or short id",
        Io::ok(one::<kiosk::SignOutResponse>).body(one::<kiosk::SignOutRequest>),
    ),
    rule(
        POST,
        "/api/v1/kiosk/worker-cards",
        KIOSK_ONLY,
        "kiosk",
        "A worker collects their card",
        Io::ok(one::<kiosk::IssuedPass>).body(one::<kiosk::WorkerCardRequest>),
    ),
    // front-desk pages
    rule(
        GET,
        "/login",
        ANYONE,
        "pages",
        "Front-desk log-in page",
        NOT_API,
    ),
    rule(
        GET,
        "/",
        STAFF,
        "pages",
        "Front-desk home (to the renovations page)",
        NOT_API,
    ),
    rule(
        GET,
        "/desk/renovations",
        STAFF,
        "pages",
        "Page: renovations and registration",
        NOT_API,
    ),
    rule(
        GET,
        "/desk/renovations/{id}",
        STAFF,
        "pages",
        "Page: one renovation with workers, cards, ledger and refund checklist",
        NOT_API,
    ),
    rule(
        GET,
        "/desk/return",
        STAFF,
        "pages",
        "Page: scan-to-return field for the desk scanner",
        NOT_API,
    ),
    rule(
        GET,
        "/desk/visitors",
        STAFF,
        "pages",
        "Page: visitors on site",
        NOT_API,
    ),
    rule(
        GET,
        "/desk/cards/outstanding",
        STAFF,
        "pages",
        "Page: outstanding and overdue worker cards",
        NOT_API,
    ),
    rule(
        GET,
        "/desk/cards/outstanding.csv",
        STAFF,
        "pages",
        "CSV export of outstanding worker cards",
        NOT_API,
    ),
    rule(
        GET,
        "/static/desk.css",
        ANYONE,
        "pages",
        "The front-desk pages' style sheet",
        NOT_API,
    ),
    rule(
        GET,
        "/static/desk.js",
        ANYONE,
        "pages",
        "The front-desk pages' script",
        NOT_API,
    ),
    rule(
        GET,
        "/desk/password",
        STAFF,
        "pages",
        "Page: change one's own password",
        NOT_API,
    ),
    // emergencies: evacuation, fire alarms, muster list (roll call)
    rule(
        POST,
        "/api/v1/evacuation",
        STAFF,
        "emergency",
        "Start an evacuation: every door whose fire_release is set is released",
        Io::ok(one::<http::emergency::EvacuationSwitched>),
    ),
    rule(
        DELETE,
        "/api/v1/evacuation",
        MANAGER,
        "emergency",
        "End the evacuation",
        Io::ok(one::<http::emergency::EvacuationSwitched>),
    ),
    rule(
        GET,
        "/api/v1/emergency",
        STAFF,
        "emergency",
        "The evacuation and the fire alarms every desk page shows first",
        Io::ok(one::<emergency::EmergencyState>),
    ),
    rule(
        POST,
        "/api/v1/emergency/fire-reset",
        STAFF,
        "emergency",
        "Reset latched fire releases on every gate (409 while a gate's fire alarm is active)",
        Io::ok(one::<http::emergency::FireResetSent>),
    ),
    rule(
        GET,
        "/api/v1/muster",
        STAFF.or(KIOSK_ONLY),
        "emergency",
        "Everyone who may be inside now, with ticks and counts by building and floor",
        Io::ok(one::<gatehouse_credential::api::muster::MusterList>),
    ),
    rule(
        POST,
        "/api/v1/muster/{kind}/{card_id}/found",
        STAFF,
        "emergency",
        "Tick a person off as found in the current roll call",
        Io::ok(one::<muster::Tick>).params(&[params::<http::muster::MusterEntry>]),
    ),
    rule(
        GET,
        "/desk/muster",
        STAFF,
        "pages",
        "Page: the muster list (roll call), ticks, A4 print",
        NOT_API,
    ),
    rule(
        GET,
        "/api/v1/visitors/overstays",
        STAFF,
        "visitors",
        "Visitor passes past their end and not signed out",
        Io::ok(list::<overstay::Overstay>),
    ),
    rule(
        POST,
        "/api/v1/visitors/overstays/{id}/acknowledge",
        STAFF,
        "visitors",
        "A staff member has seen an overstay notice",
        Io::NO_CONTENT.params(&[params::<CardNumber>]),
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

//! Front desk API: visitors, the deny list, invites, retention; and the kiosk's calls
//! (exactly as `credential::api::kiosk` documents them).

use super::Endpoint;
use super::act::Act;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::openapi::{CardNumber, Io, RowId, list, one, params};
use super::paging::{self, Dated, Latest, Listed, Page};
use super::renovations::{read, write};
use super::switch;
use crate::auth::Actor;
use crate::auth::Allow;
use crate::db::ts;
use crate::domain::card::{self, Card};
use crate::domain::desk_error::DeskError;
use crate::domain::history::{self, DateRange, InviteRecord, VisitRecord, VisitorSearch};
use crate::domain::retention::{self, PurgeReport};
use crate::domain::visitor::{
    self, Arrival, Invite, NewDenial, NewInvite, NewVisitor, OnSite, PendingVisit, VisitorPass,
    WalkInApproval,
};
use crate::domain::{collection, renovation, settings, units};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::routing::{delete, get, post};
use gatehouse_credential::Kind;
use gatehouse_credential::api::kiosk::{
    InviteRedeem, IssuedPass, SignOutRequest, SignOutResponse, UnitChoice, VisitorRequest,
    WorkerCardRequest,
};
use serde::{Deserialize, Serialize};

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::POST, "/api/v1/visitors", post(register))
            .allow(Allow::STAFF)
            .doc("visitors", "Register a visitor and issue a pass")
            .io(Io::created(one::<visitor::VisitorPass>).body(one::<visitor::NewVisitor>)),
        Endpoint::new(Method::GET, "/api/v1/visitors/on-site", get(on_site))
            .allow(Allow::STAFF)
            .doc("visitors", "Visitors on site now")
            .io(Io::ok(list::<visitor::OnSite>)),
        Endpoint::new(Method::GET, "/api/v1/visitors/pending", get(pending))
            .allow(Allow::STAFF)
            .doc("visitors", "Walk-in visits waiting for the host's approval")
            .io(Io::ok(list::<PendingVisit>)),
        Endpoint::new(Method::POST, "/api/v1/visitors/{id}/approve", post(approve))
            .allow(Allow::STAFF)
            .doc(
                "visitors",
                "Approve a pending walk-in (the host agreed): the pass is issued",
            )
            .io(Io::created(one::<VisitorPass>).params(&[params::<RowId>])),
        Endpoint::new(Method::POST, "/api/v1/visitors/{id}/refuse", post(refuse))
            .allow(Allow::STAFF)
            .doc("visitors", "Refuse a pending walk-in")
            .io(Io::NO_CONTENT.params(&[params::<RowId>])),
        Endpoint::new(
            Method::POST,
            "/api/v1/visitors/cards/{id}/sign-out",
            post(desk_sign_out),
        )
        .allow(Allow::STAFF)
        .doc("visitors", "Sign a visitor pass out")
        .io(Io::ok(one::<card::Card>).params(&[params::<CardNumber>])),
        Endpoint::new(Method::POST, "/api/v1/deny-list", post(deny))
            .allow(Allow::STAFF)
            .doc("visitors", "Add a person to the visitor deny list")
            .io(Io::created(one::<Denied>).body(one::<visitor::NewDenial>)),
        Endpoint::new(Method::GET, "/api/v1/deny-list", get(denials))
            .allow(Allow::STAFF)
            .doc("visitors", "The visitor deny list, names and phones masked")
            .io(Io::ok(list::<visitor::Denial>)),
        Endpoint::new(Method::DELETE, "/api/v1/deny-list/{id}", delete(undeny))
            .allow(Allow::MANAGER)
            .doc("visitors", "Remove a person from the deny list")
            .io(Io::NO_CONTENT.params(&[params::<RowId>])),
        Endpoint::new(Method::POST, "/api/v1/invites", post(invite))
            .allow(Allow::STAFF)
            .doc("visitors", "Create a visitor invite code for the kiosk")
            .io(Io::created(one::<visitor::Invite>).body(one::<visitor::NewInvite>)),
        Endpoint::new(Method::GET, "/api/v1/invites", get(invites))
            .allow(Allow::STAFF)
            .doc(
                "visitors",
                "Invites valid from a week ago on, and those made since, newest first; a page at a time (Link: rel=next)",
            )
            .io(Io::ok(list::<InviteRecord>).params(&[params::<Latest>])),
        Endpoint::new(Method::GET, "/api/v1/visitors/history", get(visit_history))
            .allow(Allow::STAFF)
            .doc(
                "visitors",
                "Visitors registered in a range of local dates, searched by name, unit, host or purpose; a page at a time (Link: rel=next)",
            )
            .io(Io::ok(list::<VisitRecord>).params(&[params::<VisitorSearch>, params::<DateRange>])),
        Endpoint::new(Method::POST, "/api/v1/retention/run", post(run_retention))
            .allow(Allow::MANAGER)
            .doc(
                "retention",
                "Purge personal data past the retention period now",
            )
            .io(Io::ok(one::<retention::PurgeReport>)),
        Endpoint::new(Method::GET, "/api/v1/kiosk/units", get(kiosk_units))
            .allow(Allow::KIOSK)
            .doc("kiosk", "Units a visitor can pick")
            .io(Io::ok(list::<UnitChoice>)),
        Endpoint::new(Method::POST, "/api/v1/kiosk/visitors", post(kiosk_visitor))
            .allow(Allow::KIOSK)
            .doc("kiosk", "Register a visitor at the kiosk")
            .io(Io::created(one::<IssuedPass>).body(one::<VisitorRequest>)),
        Endpoint::new(
            Method::POST,
            "/api/v1/kiosk/invites/redeem",
            post(kiosk_redeem),
        )
        .allow(Allow::KIOSK)
        .doc("kiosk", "Redeem an invite code")
        .io(Io::ok(one::<IssuedPass>).body(one::<InviteRedeem>)),
        Endpoint::new(Method::POST, "/api/v1/kiosk/sign-out", post(kiosk_sign_out))
            .allow(Allow::KIOSK)
            .doc("kiosk", "Sign a visitor out by pass text or short id")
            .io(Io::ok(one::<SignOutResponse>).body(one::<SignOutRequest>)),
        Endpoint::new(
            Method::POST,
            "/api/v1/kiosk/worker-cards",
            post(kiosk_worker_card),
        )
        .allow(Allow::KIOSK)
        .doc("kiosk", "A worker collects their card")
        .io(Io::ok(one::<IssuedPass>).body(one::<WorkerCardRequest>)),
    ]
    .into_iter()
    .chain(switch::endpoints::<WalkInSetting>())
    .collect()
}

async fn register(
    act: Act,
    ApiJson(body): ApiJson<NewVisitor>,
) -> Result<(StatusCode, Json<VisitorPass>), DeskError> {
    let signer = act.state.signer.clone();
    let pass = act
        .write(move |tx, actor, now| {
            visitor::register(tx, &signer, actor, &body, Arrival::Expected, now)
        })
        .await??;
    Ok((StatusCode::CREATED, Json(pass)))
}

async fn on_site(State(state): State<AppState>) -> Result<Json<Vec<OnSite>>, DeskError> {
    let now = state.now();
    Ok(Json(read(&state, move |c| visitor::on_site(c, now)).await?))
}

async fn desk_sign_out(act: Act, ApiPath(card_id): ApiPath<u32>) -> Result<Json<Card>, DeskError> {
    Ok(Json(
        act.write(move |tx, actor, now| card::sign_out(tx, actor, card_id, now))
            .await?,
    ))
}

/// A created deny-list entry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Denied {
    /// Its id.
    pub id: i64,
}

async fn denials(State(state): State<AppState>) -> Result<Json<Vec<visitor::Denial>>, DeskError> {
    Ok(Json(read(&state, visitor::denials).await?))
}

async fn undeny(act: Act, ApiPath(id): ApiPath<i64>) -> Result<StatusCode, DeskError> {
    act.write(move |tx, actor, now| visitor::undeny(tx, actor, id, now))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn deny(
    act: Act,
    ApiJson(body): ApiJson<NewDenial>,
) -> Result<(StatusCode, Json<Denied>), DeskError> {
    let id = act
        .write(move |tx, actor, now| visitor::deny(tx, actor, &body, now))
        .await?;
    Ok((StatusCode::CREATED, Json(Denied { id })))
}

async fn invite(
    act: Act,
    ApiJson(body): ApiJson<NewInvite>,
) -> Result<(StatusCode, Json<Invite>), DeskError> {
    let invite = act
        .write(move |tx, actor, now| visitor::invite(tx, actor, &body, now))
        .await?;
    Ok((StatusCode::CREATED, Json(invite)))
}

/// How far back the invite list reaches.
pub const INVITES_SHOWN_DAYS: u64 = 7;

/// One page of the invites valid from a week ago on, and those made since, newest first.
pub async fn invites_page(state: &AppState, q: Latest) -> Result<Page<InviteRecord>, DeskError> {
    let limit = paging::NEWEST_FIRST.limit(q.limit)?;
    let before = q
        .before
        .as_deref()
        .map(paging::parse_time_cursor)
        .transpose()?;
    let now = state.now();
    let found = read(state, move |c| {
        let today = settings::local_date(settings::time_zone(c)?, now);
        let before = before
            .as_ref()
            .map(|(at, code)| (at.as_str(), code.as_str()));
        let since = today - chrono::Days::new(INVITES_SHOWN_DAYS);
        history::invites(c, since, before, limit + 1)
    })
    .await?;
    Ok(Page::of(found, limit, |i| {
        paging::time_cursor(&ts(i.created_at), &i.code)
    }))
}

async fn invites(
    State(state): State<AppState>,
    uri: Uri,
    ApiQuery(q): ApiQuery<Latest>,
) -> Result<Listed<InviteRecord>, DeskError> {
    let page = invites_page(&state, q).await?;
    Ok(page.answer(&uri, "before"))
}

/// One page of the visitor history `q` asks for, and the period it covers.
pub async fn visits_page(
    state: &AppState,
    q: VisitorSearch,
) -> Result<Dated<VisitRecord>, DeskError> {
    let (limit, before) = (q.limit, q.before.clone());
    paging::dated_page(
        state,
        history::VISITS_PAGE,
        limit,
        before.as_deref(),
        move |tz, today| Ok((q.range.period(tz, today)?, q)),
        |c, period, q, before, limit| history::visits(c, period, q.q.as_deref(), before, limit),
        |v| (v.visit.registered_at, v.visitor_id),
    )
    .await
}

async fn visit_history(
    State(state): State<AppState>,
    uri: Uri,
    ApiQuery(q): ApiQuery<VisitorSearch>,
) -> Result<Listed<VisitRecord>, DeskError> {
    let (_, page) = visits_page(&state, q).await??;
    Ok(page.answer(&uri, "before"))
}

async fn run_retention(act: Act) -> Result<Json<PurgeReport>, DeskError> {
    Ok(Json(
        act.write(move |tx, actor, now| retention::purge(tx, actor, now))
            .await?,
    ))
}

async fn kiosk_units(State(state): State<AppState>) -> Result<Json<Vec<UnitChoice>>, DeskError> {
    let units = read(&state, |c| Ok(units::units(c)?)).await?;
    Ok(Json(
        units
            .into_iter()
            .map(|u| UnitChoice {
                unit_id: u.id,
                label: u.label,
                building: u.building,
                floor: u.floor,
            })
            .collect(),
    ))
}

fn to_issued(pass: VisitorPass) -> IssuedPass {
    IssuedPass {
        card_id: gatehouse_credential::CardId(pass.issued.card.card_id),
        kind: Kind::Visitor,
        credential: pass.issued.credential,
        short_id: pass.issued.card.short_id,
        holder_masked: pass.holder_masked,
        unit_label: pass.unit_label,
        not_before: pass.issued.card.not_before,
        not_after: pass.issued.card.not_after,
        extended_to: None,
    }
}

async fn kiosk_visitor(
    act: Act,
    ApiJson(body): ApiJson<VisitorRequest>,
) -> Result<(StatusCode, Json<IssuedPass>), DeskError> {
    let signer = act.state.signer.clone();
    let v = NewVisitor {
        name: body.name,
        unit_id: body.unit_id,
        host_name: body.host_name,
        purpose: body.purpose,
        party_size: body.party_size,
        phone: body.phone,
    };
    let pass = act
        .write(move |tx, actor, now| {
            visitor::register(tx, &signer, actor, &v, Arrival::WalkIn, now)
        })
        .await??;
    Ok((StatusCode::CREATED, Json(to_issued(pass))))
}

async fn kiosk_redeem(
    act: Act,
    ApiJson(body): ApiJson<InviteRedeem>,
) -> Result<Json<IssuedPass>, DeskError> {
    let signer = act.state.signer.clone();
    let pass = act
        .write(move |tx, actor, now| visitor::redeem(tx, &signer, actor, &body.code, now))
        .await??;
    Ok(Json(to_issued(pass)))
}

async fn kiosk_sign_out(
    act: Act,
    ApiJson(body): ApiJson<SignOutRequest>,
) -> Result<Json<SignOutResponse>, DeskError> {
    let signer = act.state.signer.clone();
    let (card, holder_masked) = act
        .write(move |tx, actor, now| visitor::sign_out(tx, &signer, actor, &body.pass, now))
        .await?;
    Ok(Json(SignOutResponse {
        card_id: gatehouse_credential::CardId(card.card_id),
        holder_masked,
    }))
}

async fn kiosk_worker_card(
    act: Act,
    ApiJson(body): ApiJson<WorkerCardRequest>,
) -> Result<Json<IssuedPass>, DeskError> {
    let signer = act.state.signer.clone();
    let key = act.state.personal.clone();
    let (issued, holder_masked, unit_label, extended_to) = act
        .write(move |tx, actor, now| {
            let attempt = collection::Attempt {
                renovation_code: &body.renovation_code,
                id_last4: &body.id_last4,
                collection_code: body.collection_code.as_deref(),
            };
            // A refusal still commits: the wrong attempt it counted must stay counted.
            let (issued, holder, unit) =
                match collection::collect(tx, &signer, &key, actor, &attempt, now)? {
                    Ok(collected) => collected,
                    Err(refusal) => return Ok::<_, DeskError>(Err(refusal)),
                };
            let r = renovation::by_code(tx, &body.renovation_code)?;
            let extended_to = r
                .filter(|r| r.end_date != r.original_end_date)
                .map(|r| r.end_date);
            Ok(Ok((issued, holder, unit, extended_to)))
        })
        .await??;
    Ok(Json(IssuedPass {
        card_id: gatehouse_credential::CardId(issued.card.card_id),
        kind: Kind::Worker,
        credential: issued.credential,
        short_id: issued.card.short_id,
        holder_masked,
        unit_label,
        not_before: issued.card.not_before,
        not_after: issued.card.not_after,
        extended_to,
    }))
}

async fn pending(State(state): State<AppState>) -> Result<Json<Vec<PendingVisit>>, DeskError> {
    Ok(Json(read(&state, visitor::pending).await?))
}

async fn decide(
    state: AppState,
    actor: Actor,
    visitor_id: i64,
    approved: bool,
) -> Result<Option<VisitorPass>, DeskError> {
    let now = state.now();
    let signer = state.signer.clone();
    write(&state, move |tx| {
        visitor::decide(tx, &signer, &actor, visitor_id, approved, now)
    })
    .await
}

async fn approve(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, Json<VisitorPass>), DeskError> {
    match decide(state, actor, id, true).await? {
        Some(pass) => Ok((StatusCode::CREATED, Json(pass))),
        None => Err(DeskError::conflict("not_pending", "no pass was issued")),
    }
}

async fn refuse(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, DeskError> {
    decide(state, actor, id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET`/`PUT /api/v1/settings/walk-in-approval` body.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WalkInSetting {
    /// `none` (the kiosk issues walk-in passes at once) or `host` (they wait for the desk to
    /// approve, having reached the host).
    pub walk_in_approval: WalkInApproval,
}

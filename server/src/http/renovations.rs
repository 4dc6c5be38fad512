//! Front desk API: renovations, their workers, cards, deposit ledger and refund.

use super::Endpoint;
use super::act::Act;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::openapi::{self, CardNumber, Io, RowId, documents_body, one, params};
use super::paging::{self, Listed, Page, PageSize};
use super::switch;
use crate::auth::Allow;
use crate::domain::card::{self, Card, CardRef, CardView, Issued, Outstanding, Returned};
use crate::domain::collection::{self, CollectionCode};
use crate::domain::deposit::{self, Approval, Refund};
use crate::domain::desk_error::DeskError;
use crate::domain::ledger::{self, Ledger, LedgerLine, NewLine};
use crate::domain::refund::RuleResult;
use crate::domain::renovation::{self, Document, Extension, NewRenovation, Progress, Renovation};
use crate::domain::worker::{self, NewWorker, Worker};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::routing::{get, post, put};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/api/v1/renovations", get(list))
            .allow(Allow::STAFF)
            .doc("renovations", "List renovations, newest first, a page at a time (Link: rel=next)")
            .io(Io::ok(openapi::list::<renovation::Renovation>).params(&[params::<paging::NewestFirst>])),
        Endpoint::new(Method::POST, "/api/v1/renovations", post(create))
            .allow(Allow::STAFF)
            .doc("renovations", "Register a renovation (at most 3 months)")
            .io(Io::created(one::<renovation::Renovation>).body(one::<renovation::NewRenovation>)),
        Endpoint::new(Method::GET, "/api/v1/renovations/{id}", get(detail))
            .allow(Allow::STAFF)
            .doc("renovations", "A renovation with workers, cards, extensions, ledger and refund rules")
            .io(Io::ok(one::<RenovationDetail>).params(&[params::<RowId>])),
        Endpoint::new(
            Method::PUT,
            "/api/v1/renovations/{id}/documents",
            put(documents),
        )
        .allow(Allow::STAFF)
        .doc("renovations", "Record checklist documents as received or missing")
        .io(Io::ok(one::<renovation::Renovation>).body(documents_body).params(&[params::<RowId>])),
        Endpoint::new(
            Method::PUT,
            "/api/v1/renovations/{id}/progress",
            put(progress),
        )
        .allow(Allow::STAFF)
        .doc("renovations", "Record inspection, occupancy, downstairs sign-off and presented papers")
        .io(Io::ok(one::<renovation::Renovation>).body(one::<renovation::Progress>).params(&[params::<RowId>])),
        Endpoint::new(
            Method::POST,
            "/api/v1/renovations/{id}/extensions",
            post(extend),
        )
        .allow(Allow::STAFF)
        .doc("renovations", "Extend a renovation (at most 3 months more); cards follow without reprint")
        .io(Io::ok(one::<Extended>).body(one::<ExtendRequest>).params(&[params::<RowId>])),
        Endpoint::new(
            Method::POST,
            "/api/v1/renovations/{id}/workers",
            post(add_worker),
        )
        .allow(Allow::STAFF)
        .doc("renovations", "Register a worker on a renovation")
        .io(Io::created(one::<worker::Worker>).body(one::<worker::NewWorker>).params(&[params::<RowId>])),
        Endpoint::new(
            Method::POST,
            "/api/v1/renovations/{id}/ledger",
            post(add_ledger_line),
        )
        .allow(Allow::STAFF)
        .doc("deposits", "Record a deposit, rubbish-removal fee or deduction")
        .io(Io::created(one::<LedgerLine>).body(one::<ledger::NewLine>).params(&[params::<RowId>])),
        Endpoint::new(
            Method::GET,
            "/api/v1/renovations/{id}/refund-check",
            get(refund_check),
        )
        .allow(Allow::STAFF)
        .doc("deposits", "Every refund rule with met/unmet and why")
        .io(Io::ok(openapi::list::<RuleResult>).params(&[params::<RowId>])),
        Endpoint::new(
            Method::POST,
            "/api/v1/renovations/{id}/refund",
            post(refund),
        )
        .allow(Allow::STAFF)
        .doc("deposits", "Refund the deposit (409 unless every rule holds; a desk clerk's refund may await approval)")
        .io(Io::ok(one::<deposit::Refund>).params(&[params::<RowId>])),
        Endpoint::new(Method::POST, "/api/v1/workers/{id}/card", post(issue_card))
            .allow(Allow::STAFF)
            .doc("cards", "Issue a worker's card")
            .io(Io::created(one::<card::Issued>).body(one::<IssueRequest>).params(&[params::<RowId>])),
        Endpoint::new(
            Method::POST,
            "/api/v1/workers/{id}/collection-code",
            post(new_collection_code),
        )
        .allow(Allow::STAFF)
        .doc(
            "cards",
            "Give a worker a new one-time kiosk collection code (the old one stops working)",
        )
        .io(Io::created(one::<CollectionCode>).params(&[params::<RowId>])),
        Endpoint::new(
            Method::POST,
            "/api/v1/renovations/{id}/collection-release",
            post(release_collection),
        )
        .allow(Allow::STAFF)
        .doc(
            "cards",
            "Release a renovation's kiosk collection locked after wrong attempts",
        )
        .io(Io::NO_CONTENT.params(&[params::<RowId>])),
        Endpoint::new(Method::POST, "/api/v1/cards/return", post(return_card))
            .allow(Allow::STAFF)
            .doc("cards", "Take a card back by its scan, number or printed code, whatever happened to it")
            .io(Io::ok(one::<card::Returned>).body(one::<ReturnRequest>)),
        Endpoint::new(Method::GET, "/api/v1/cards/outstanding", get(outstanding))
            .allow(Allow::STAFF)
            .doc("cards", "Worker cards not yet returned, overdue first, a page at a time (Link: rel=next)")
            .io(Io::ok(openapi::list::<card::Outstanding>).params(&[params::<OutstandingQuery>])),
        Endpoint::new(Method::POST, "/api/v1/cards/{id}/reprint", post(reprint))
            .allow(Allow::STAFF)
            .doc("cards", "Reprint a worker card (the old one is revoked)")
            .io(Io::created(one::<card::Issued>).params(&[params::<CardNumber>])),
        Endpoint::new(Method::POST, "/api/v1/cards/{id}/lost", post(lost))
            .allow(Allow::STAFF)
            .doc("cards", "Declare a card lost (revoked, fee deducted)")
            .io(Io::ok(one::<card::Card>).body(one::<LostRequest>).params(&[params::<CardNumber>])),
        Endpoint::new(Method::POST, "/api/v1/cards/{id}/revoke", post(revoke))
            .allow(Allow::STAFF)
            .doc("cards", "Revoke a card")
            .io(Io::ok(one::<card::Card>).params(&[params::<CardNumber>])),
        Endpoint::new(Method::GET, "/api/v1/cards/lookup", get(lookup))
            .allow(Allow::STAFF)
            .doc("cards", "Find a card by typed number, printed code or scan: holder (masked) and renovation")
            .io(Io::ok(one::<card::CardView>).params(&[params::<LookupQuery>])),
        Endpoint::new(
            Method::GET,
            "/api/v1/cards/overdue-alarms",
            get(overdue_alarms),
        )
        .allow(Allow::STAFF)
        .doc("cards", "Overdue worker cards not yet acknowledged (each raised once)")
        .io(Io::ok(openapi::list::<card::OverdueAlarm>)),
        Endpoint::new(
            Method::POST,
            "/api/v1/cards/{id}/overdue/acknowledge",
            post(acknowledge_overdue),
        )
        .allow(Allow::STAFF)
        .doc("cards", "A staff member has seen an overdue card's alarm")
        .io(Io::NO_CONTENT.params(&[params::<CardNumber>])),
        Endpoint::new(
            Method::POST,
            "/api/v1/ledger/{id}/reverse",
            post(reverse_line),
        )
        .allow(Allow::MANAGER)
        .doc("deposits", "Reverse a deduction, with a reason")
        .io(Io::created(one::<LedgerLine>).body(one::<ReverseRequest>).params(&[params::<RowId>])),
    ]
    .into_iter()
    .chain(switch::endpoints::<RefundApproval>())
    .collect()
}

/// Runs `f` in one transaction on the database thread and commits it if it succeeds.
pub async fn write<T, F>(state: &AppState, f: F) -> Result<T, DeskError>
where
    F: FnOnce(&rusqlite::Savepoint<'_>) -> Result<T, DeskError> + Send + 'static,
    T: Send + 'static,
{
    super::act::write(state, f).await
}

/// Runs a read on the database thread.
pub async fn read<T, F>(state: &AppState, f: F) -> Result<T, DeskError>
where
    F: FnOnce(&rusqlite::Connection) -> Result<T, DeskError> + Send + 'static,
    T: Send + 'static,
{
    state.db.call(move |conn| f(conn)).await
}

/// One page of the renovations `filter` lets through, newest first: `limit` of them (the
/// default if `None`) registered before renovation `before`.
pub async fn renovations_page(
    state: &AppState,
    filter: renovation::Filter,
    before: Option<i64>,
    limit: Option<u32>,
) -> Result<Page<Renovation>, DeskError> {
    let limit = paging::NEWEST_FIRST.limit(limit)?;
    let found = read(state, move |c| {
        renovation::filtered(c, &filter, before, limit + 1)
    })
    .await?;
    Ok(Page::of(found, limit, |r| r.id.to_string()))
}

async fn list(
    State(state): State<AppState>,
    uri: Uri,
    ApiQuery(q): ApiQuery<paging::NewestFirst>,
) -> Result<Listed<Renovation>, DeskError> {
    let page = renovations_page(&state, renovation::Filter::default(), q.before, q.limit).await?;
    Ok(page.answer(&uri, "before"))
}

async fn create(
    act: Act,
    ApiJson(body): ApiJson<NewRenovation>,
) -> Result<(StatusCode, Json<Renovation>), DeskError> {
    let r = act
        .write(move |tx, actor, now| renovation::create(tx, actor, &body, now))
        .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// A renovation's ledger with its totals.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LedgerView {
    /// Every line.
    pub lines: Vec<LedgerLine>,
    /// Deposit received, cents.
    pub deposit_cents: i64,
    /// Deductions (reversed ones included), cents.
    pub deductions_cents: i64,
    /// Reversals, cents.
    pub reversals_cents: i64,
    /// What a refund would pay now, cents.
    pub refundable_cents: i64,
    /// What the deductions exceed the deposit by, owed by the owner, cents.
    pub owed_cents: i64,
}

impl From<Ledger> for LedgerView {
    fn from(l: Ledger) -> Self {
        LedgerView {
            deposit_cents: l.deposit(),
            deductions_cents: l.deductions(),
            reversals_cents: l.reversals(),
            refundable_cents: l.refundable(),
            owed_cents: l.owed(),
            lines: l.lines,
        }
    }
}

/// Everything the desk sees about one renovation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RenovationDetail {
    /// The registration.
    pub renovation: Renovation,
    /// Required checklist items still missing.
    pub missing_documents: Vec<Document>,
    /// Its workers, masked.
    pub workers: Vec<Worker>,
    /// Their cards.
    pub cards: Vec<Card>,
    /// Approved extensions.
    pub extensions: Vec<Extension>,
    /// The deposit ledger.
    pub ledger: LedgerView,
    /// Every refund rule with met/unmet and why.
    pub refund_check: Vec<RuleResult>,
    /// When kiosk collection of its cards was locked after wrong attempts (UTC), if it is.
    pub collection_locked_at: Option<String>,
}

/// Loads everything about renovation `id`.
pub fn load_detail(
    conn: &rusqlite::Connection,
    id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<RenovationDetail, DeskError> {
    let renovation = renovation::get(conn, id)?;
    Ok(RenovationDetail {
        missing_documents: renovation.missing_documents(),
        workers: worker::of_renovation(conn, id)?,
        cards: card::of_renovation(conn, id)?,
        extensions: renovation::extensions(conn, id)?,
        ledger: ledger::ledger(conn, id)?.into(),
        refund_check: deposit::check(conn, id, now)?,
        collection_locked_at: collection::locked_at(conn, id)?,
        renovation,
    })
}

async fn detail(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<RenovationDetail>, DeskError> {
    let now = state.now();
    Ok(Json(read(&state, move |c| load_detail(c, id, now)).await?))
}

async fn documents(
    act: Act,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<BTreeMap<Document, bool>>,
) -> Result<Json<Renovation>, DeskError> {
    Ok(Json(
        act.write(move |tx, actor, now| renovation::set_documents(tx, actor, id, &body, now))
            .await?,
    ))
}

async fn progress(
    act: Act,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Progress>,
) -> Result<Json<Renovation>, DeskError> {
    Ok(Json(
        act.write(move |tx, actor, now| {
            let tz = crate::domain::settings::time_zone(tx)?;
            let today = crate::domain::settings::local_date(tz, now);
            renovation::set_progress(tx, actor, id, &body, today, now)
        })
        .await?,
    ))
}

/// `POST /api/v1/renovations/{id}/extensions` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ExtendRequest {
    /// The new last day of work (at most three months after the current one).
    pub new_end_date: NaiveDate,
}

/// The answer to an extension.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Extended {
    /// The renovation as extended.
    pub renovation: Renovation,
    /// The cards that keep working to the new date (no reprint needed).
    pub cards_extended: Vec<u32>,
}

async fn extend(
    act: Act,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ExtendRequest>,
) -> Result<Json<Extended>, DeskError> {
    let (renovation, cards) = act
        .write(move |tx, actor, now| renovation::extend(tx, actor, id, body.new_end_date, now))
        .await?;
    Ok(Json(Extended {
        renovation,
        cards_extended: cards.into_iter().map(|c| c.0).collect(),
    }))
}

async fn add_worker(
    act: Act,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<NewWorker>,
) -> Result<(StatusCode, Json<Worker>), DeskError> {
    let key = act.state.personal.clone();
    let w = act
        .write(move |tx, actor, now| worker::create(tx, &key, actor, id, &body, now))
        .await?;
    Ok((StatusCode::CREATED, Json(w)))
}

async fn add_ledger_line(
    act: Act,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<NewLine>,
) -> Result<(StatusCode, Json<LedgerLine>), DeskError> {
    let line = act
        .write(move |tx, actor, now| ledger::add_line(tx, actor, id, &body, now))
        .await?;
    Ok((StatusCode::CREATED, Json(line)))
}

async fn refund_check(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<RuleResult>>, DeskError> {
    let now = state.now();
    Ok(Json(
        read(&state, move |c| deposit::check(c, id, now)).await?,
    ))
}

async fn refund(act: Act, ApiPath(id): ApiPath<i64>) -> Result<Json<Refund>, DeskError> {
    Ok(Json(
        act.write(move |tx, actor, now| deposit::refund(tx, actor, id, now))
            .await?,
    ))
}

/// `POST /api/v1/workers/{id}/card` body (may be `{}`).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct IssueRequest {
    /// A manager's reason to issue a card while cards of the renovation are overdue (audited).
    #[serde(default)]
    pub overdue_override: Option<String>,
}

async fn issue_card(
    act: Act,
    ApiPath(worker_id): ApiPath<i64>,
    ApiJson(body): ApiJson<IssueRequest>,
) -> Result<(StatusCode, Json<Issued>), DeskError> {
    let signer = act.state.signer.clone();
    let issued = act
        .write(move |tx, actor, now| {
            let reason = body.overdue_override.as_deref();
            card::issue_worker_card(tx, &signer, actor, worker_id, reason, now)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

async fn new_collection_code(
    act: Act,
    ApiPath(worker_id): ApiPath<i64>,
) -> Result<(StatusCode, Json<CollectionCode>), DeskError> {
    let key = act.state.personal.clone();
    let code = act
        .write(move |tx, actor, now| collection::new_code(tx, &key, actor, worker_id, now))
        .await?;
    Ok((StatusCode::CREATED, Json(code)))
}

async fn release_collection(act: Act, ApiPath(id): ApiPath<i64>) -> Result<StatusCode, DeskError> {
    act.write(move |tx, actor, now| collection::release(tx, actor, id, now))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn reprint(
    act: Act,
    ApiPath(card_id): ApiPath<u32>,
) -> Result<(StatusCode, Json<Issued>), DeskError> {
    let signer = act.state.signer.clone();
    let issued = act
        .write(move |tx, actor, now| card::reprint(tx, &signer, actor, card_id, now))
        .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// `POST /api/v1/cards/return` body: exactly one of the scanned text (a short typed code or
/// number in this field is read as typed), the card's number, or the code printed on it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReturnRequest {
    /// The credential text as the desk scanner read it.
    #[serde(default)]
    pub credential: Option<String>,
    /// The card's number, for a damaged or faded card.
    #[serde(default)]
    #[schema(format = Int64, maximum = 4_294_967_295.0)]
    pub card_id: Option<u32>,
    /// The code printed on the card after 编号 No.
    #[serde(default)]
    pub short_id: Option<String>,
}

impl ReturnRequest {
    fn card_ref(&self) -> Result<CardRef, DeskError> {
        match (&self.credential, self.card_id, &self.short_id) {
            (Some(text), None, None) => CardRef::from_field(text),
            (None, Some(n), None) => Ok(CardRef::Number(n)),
            (None, None, Some(code)) => CardRef::from_field(code),
            _ => Err(DeskError::invalid(
                "card_required",
                "send one of credential (the scan), card_id or short_id",
            )),
        }
    }
}

async fn return_card(
    act: Act,
    ApiJson(body): ApiJson<ReturnRequest>,
) -> Result<Json<Returned>, DeskError> {
    let signer = act.state.signer.clone();
    let by = body.card_ref()?;
    Ok(Json(
        act.write(move |tx, actor, now| card::take_back(tx, &signer, actor, &by, now))
            .await?,
    ))
}

/// `GET /api/v1/cards/lookup` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// What was typed or scanned: a card number, the printed code, or the scan.
    pub q: String,
}

async fn lookup(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<LookupQuery>,
) -> Result<Json<CardView>, DeskError> {
    let signer = state.signer.clone();
    let by = CardRef::from_field(&query.q)?;
    Ok(Json(
        read(&state, move |c| card::view(c, card::find(c, &signer, &by)?)).await?,
    ))
}

/// `POST /api/v1/ledger/{id}/reverse` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReverseRequest {
    /// Why the deduction is undone.
    pub reason: String,
}

async fn reverse_line(
    act: Act,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReverseRequest>,
) -> Result<(StatusCode, Json<LedgerLine>), DeskError> {
    let (_, line) = act
        .write(move |tx, actor, now| ledger::reverse(tx, actor, id, &body.reason, now))
        .await?;
    Ok((StatusCode::CREATED, Json(line)))
}

/// The refund approval setting.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RefundApproval {
    /// Who must approve a refund a desk clerk pays.
    pub refund_approval: Approval,
}

/// `POST /api/v1/cards/{id}/lost` body.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct LostRequest {
    /// The replacement fee in cents (default: the `lost_card_fee_cents` setting, else 5000).
    #[serde(default)]
    pub fee_cents: Option<i64>,
}

async fn lost(
    act: Act,
    ApiPath(card_id): ApiPath<u32>,
    ApiJson(body): ApiJson<LostRequest>,
) -> Result<Json<Card>, DeskError> {
    Ok(Json(
        act.write(move |tx, actor, now| {
            card::declare_lost(tx, actor, card_id, body.fee_cents, now)
        })
        .await?,
    ))
}

async fn revoke(act: Act, ApiPath(card_id): ApiPath<u32>) -> Result<Json<Card>, DeskError> {
    Ok(Json(
        act.write(move |tx, actor, now| card::revoke(tx, actor, card_id, now))
            .await?,
    ))
}

/// `?limit=&after=` of the outstanding cards.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutstandingQuery {
    /// How many (1 to 1000, default 200), overdue first, in the order they were due.
    #[param(format = Int64, minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The page after the one whose `Link: <…>; rel="next"` header gave this cursor.
    pub after: Option<String>,
}

/// The outstanding cards list's page size.
pub const OUTSTANDING_PAGE: PageSize = PageSize {
    default: 200,
    max: 1000,
};

/// One page of the outstanding worker cards.
pub async fn outstanding_page(
    state: &AppState,
    q: OutstandingQuery,
) -> Result<Page<Outstanding>, DeskError> {
    let limit = OUTSTANDING_PAGE.limit(q.limit)?;
    let after = match q.after.as_deref() {
        None => None,
        Some(text) => Some(card::DueCursor::parse(text).ok_or_else(|| {
            ApiError::invalid(format!(
                "the cursor {text:?} is not one this list gave: follow the Link header's next page"
            ))
        })?),
    };
    let now = state.now();
    let found = read(state, move |c| {
        card::outstanding_page(c, now, after, limit + 1)
    })
    .await?;
    Ok(Page::of(found, limit, |o| {
        card::DueCursor::after(&o.card).to_string()
    }))
}

async fn outstanding(
    State(state): State<AppState>,
    uri: Uri,
    ApiQuery(q): ApiQuery<OutstandingQuery>,
) -> Result<Listed<Outstanding>, DeskError> {
    let page = outstanding_page(&state, q).await?;
    Ok(page.answer(&uri, "after"))
}

async fn overdue_alarms(
    State(state): State<AppState>,
) -> Result<Json<Vec<card::OverdueAlarm>>, DeskError> {
    let now = state.now();
    Ok(Json(
        write(&state, move |tx| card::overdue_alarms(tx, now)).await?,
    ))
}

async fn acknowledge_overdue(
    act: Act,
    ApiPath(card_id): ApiPath<u32>,
) -> Result<StatusCode, DeskError> {
    act.write(move |tx, actor, now| card::acknowledge_overdue(tx, actor, card_id, now))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

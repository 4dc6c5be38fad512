//! Goods-release permits over HTTP: the desk writes them, a manager approves or refuses them
//! (or the desk, when the setting allows), and the guard's answers (see
//! [`crate::domain::goods`]; the pages are in [`super::pages`]).

use super::Endpoint;
use super::act::Act;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::openapi;
use super::paging::{self, Listed, NewestFirst, Page};
use super::renovations::{read, write};
use super::switch;
use crate::auth::Actor;
use crate::auth::Allow;
use crate::domain::desk_error::DeskError;
use crate::domain::goods::{self, GuardDecision, NewPermit, Permit};
use crate::domain::goods_print::{self, PrintJob};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gatehouse_credential::api::print::{PermitSlip, PrintResult};
use serde::{Deserialize, Serialize};

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/api/v1/goods-permits", get(list))
            .allow(Allow::ANY_STAFF)
            .doc(
                "goods",
                "Goods-release permits, newest first, names and phones masked; a page at a time (Link: rel=next)",
            )
            .io(openapi::Io::ok(
                openapi::list::<crate::domain::goods::Permit>,
            )
            .params(&[openapi::params::<NewestFirst>])),
        Endpoint::new(Method::POST, "/api/v1/goods-permits", post(create))
            .allow(Allow::STAFF)
            .doc("goods", "Write a goods-release permit (waits for approval)")
            .io(
                openapi::Io::created(openapi::one::<crate::domain::goods::Permit>)
                    .body(openapi::one::<crate::domain::goods::NewPermit>),
            ),
        Endpoint::new(Method::GET, "/api/v1/goods-permits/{id}", get(one))
            .allow(Allow::ANY_STAFF)
            .doc("goods", "One goods-release permit")
            .io(
                openapi::Io::ok(openapi::one::<crate::domain::goods::Permit>)
                    .params(&[openapi::params::<openapi::RowId>]),
            ),
        Endpoint::new(
            Method::POST,
            "/api/v1/goods-permits/{id}/approve",
            post(approve),
        )
        .allow(Allow::STAFF)
        .doc(
            "goods",
            "Approve a permit and sign it (a manager, or the desk when the setting allows)",
        )
        .io(openapi::Io::ok(openapi::one::<Approved>).params(&[openapi::params::<openapi::RowId>])),
        Endpoint::new(
            Method::POST,
            "/api/v1/goods-permits/{id}/refuse",
            post(refuse),
        )
        .allow(Allow::STAFF)
        .doc(
            "goods",
            "Refuse a permit with a reason (a manager, or the desk when the setting allows)",
        )
        .io(
            openapi::Io::ok(openapi::one::<crate::domain::goods::Permit>)
                .params(&[openapi::params::<openapi::RowId>])
                .body(openapi::one::<Refusal>),
        ),
        Endpoint::new(
            Method::POST,
            "/api/v1/goods-permits/{id}/guard",
            post(guard_decides),
        )
        .allow(Allow::ANY_STAFF)
        .doc("goods", "The guard releases the goods or stops them (once)")
        .io(
            openapi::Io::ok(openapi::one::<crate::domain::goods::Permit>)
                .params(&[openapi::params::<openapi::RowId>])
                .body(openapi::one::<crate::domain::goods::GuardDecision>),
        ),
        Endpoint::new(
            Method::POST,
            "/api/v1/goods-permits/{id}/kiosk-print",
            post(send_to_kiosk),
        )
        .allow(Allow::STAFF)
        .doc(
            "goods",
            "Print an approved permit on a kiosk's receipt printer",
        )
        .io(openapi::Io::created(openapi::one::<PrintJob>)
            .params(&[openapi::params::<openapi::RowId>])
            .body(openapi::one::<KioskChoice>)),
        Endpoint::new(Method::GET, "/api/v1/kiosk/print-jobs", get(print_jobs))
            .allow(Allow::KIOSK)
            .doc(
                "kiosk",
                "The slips the desk sent to this kiosk's printer, each once (long poll)",
            )
            .io(openapi::Io::ok(openapi::list::<PermitSlip>)
                .params(&[openapi::params::<WaitQuery>])),
        Endpoint::new(
            Method::POST,
            "/api/v1/kiosk/print-jobs/{id}/result",
            post(print_result),
        )
        .allow(Allow::KIOSK)
        .doc("kiosk", "What became of a slip at the kiosk's printer")
        .io(openapi::Io::NO_CONTENT
            .params(&[openapi::params::<openapi::RowId>])
            .body(openapi::one::<PrintResult>)),
    ]
    .into_iter()
    .chain(switch::endpoints::<ApprovalSetting>())
    .collect()
}

/// One page of permits, newest first.
pub async fn permits_page(state: &AppState, q: NewestFirst) -> Result<Page<Permit>, DeskError> {
    let limit = paging::NEWEST_FIRST.limit(q.limit)?;
    let found = read(state, move |c| goods::list(c, q.before, limit + 1)).await?;
    Ok(Page::of(found, limit, |p| p.id.to_string()))
}

async fn list(
    State(state): State<AppState>,
    uri: Uri,
    ApiQuery(q): ApiQuery<NewestFirst>,
) -> Result<Listed<Permit>, DeskError> {
    let page = permits_page(&state, q).await?;
    Ok(page.answer(&uri, "before"))
}

async fn one(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<u32>,
) -> Result<Json<Permit>, DeskError> {
    Ok(Json(read(&state, move |c| goods::get(c, id)).await?))
}

async fn create(act: Act, ApiJson(new): ApiJson<NewPermit>) -> Result<Response, DeskError> {
    let permit = act
        .write(move |tx, actor, now| goods::create(tx, actor, &new, now))
        .await?;
    Ok((StatusCode::CREATED, Json(permit)).into_response())
}

/// An approved permit with its credential text (what its QR code carries).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Approved {
    /// The permit.
    #[serde(flatten)]
    pub permit: Permit,
    /// The credential text.
    pub credential: String,
}

async fn approve(act: Act, ApiPath(id): ApiPath<u32>) -> Result<Json<Approved>, DeskError> {
    let signer = act.state.signer.clone();
    let (permit, credential) = act
        .write(move |tx, actor, now| goods::approve(tx, &signer, actor, id, now))
        .await?;
    Ok(Json(Approved { permit, credential }))
}

/// Why a permit is refused.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Refusal {
    /// The reason, for the desk to tell the applicant.
    pub reason: String,
}

async fn refuse(
    act: Act,
    ApiPath(id): ApiPath<u32>,
    ApiJson(body): ApiJson<Refusal>,
) -> Result<Json<Permit>, DeskError> {
    Ok(Json(
        act.write(move |tx, actor, now| goods::refuse(tx, actor, id, &body.reason, now))
            .await?,
    ))
}

async fn guard_decides(
    act: Act,
    ApiPath(id): ApiPath<u32>,
    ApiJson(body): ApiJson<GuardDecision>,
) -> Result<Json<Permit>, DeskError> {
    let permit = act
        .write(move |tx, actor, now| goods::guard_decides(tx, actor, id, &body, now))
        .await?;
    act.state.goods_feed.send_modify(|n| *n += 1);
    Ok(Json(permit))
}

/// Who approves goods-release permits.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApprovalSetting {
    /// `true`: desk staff approve and refuse too; `false`: managers only.
    pub desk_approves: bool,
}

/// Which kiosk prints the permit.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct KioskChoice {
    /// The kiosk's device id.
    pub device_id: String,
}

async fn send_to_kiosk(
    act: Act,
    ApiPath(id): ApiPath<u32>,
    ApiJson(body): ApiJson<KioskChoice>,
) -> Result<Response, DeskError> {
    let job = act
        .write(move |tx, actor, now| goods_print::send(tx, actor, id, &body.device_id, now))
        .await?;
    act.state.goods_feed.send_modify(|n| *n += 1);
    Ok((StatusCode::CREATED, Json(job)).into_response())
}

/// `?wait_ms=M`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// How long to wait when nothing is waiting (0 = answer at once; at most 30 000).
    #[serde(default)]
    pub wait_ms: u64,
}

fn kiosk_id(actor: &Actor) -> Result<String, DeskError> {
    match actor {
        Actor::Kiosk(d) => Ok(d.id.clone()),
        _ => Err(DeskError::invalid(
            "not_a_kiosk",
            "only a kiosk prints slips",
        )),
    }
}

async fn print_jobs(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<WaitQuery>,
) -> Result<Json<Vec<PermitSlip>>, DeskError> {
    let device = kiosk_id(&actor)?;
    let slips = super::guard::on_goods_feed(&state, q.wait_ms, || {
        let (state, device) = (state.clone(), device.clone());
        async move {
            let now = state.now();
            let asking = device.clone();
            // Read first: an empty poll writes nothing.
            if !read(&state, move |c| goods_print::waiting(c, &asking)).await? {
                return Ok(Vec::new());
            }
            write(&state, move |tx| goods_print::take(tx, &device, now)).await
        }
    })
    .await?;
    Ok(Json(slips))
}

async fn print_result(
    act: Act,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<PrintResult>,
) -> Result<StatusCode, DeskError> {
    let device = kiosk_id(&act.actor)?;
    act.write(move |tx, _, now| {
        goods_print::report(tx, &device, id, body.printed, &body.paper, now)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

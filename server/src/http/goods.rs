//! Goods-release permits over HTTP: the desk writes them, a manager approves or refuses them,
//! the desk prints the approved permit (A6 or a receipt-width slip, with its QR code), and the
//! guard's answers (see [`crate::domain::goods`] and the guard page in [`super::guard`]).

use super::Endpoint;
use super::extract::{ApiJson, ApiPath};
use super::openapi;
use super::pages::Viewer;
use super::renovations::{read, write};
use crate::auth::Actor;
use crate::auth::Allow;
use crate::domain::desk_error::DeskError;
use crate::domain::goods::{self, GuardDecision, NewPermit, Permit, PermitState};
use crate::domain::{privacy, settings, units};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/api/v1/goods-permits", get(list))
            .allow(Allow::ANY_STAFF)
            .doc(
                "goods",
                "Goods-release permits, newest first, names and phones masked",
            )
            .io(openapi::Io::ok(
                openapi::list::<crate::domain::goods::Permit>,
            )),
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
            Method::GET,
            "/api/v1/settings/goods-approval",
            get(approval_setting),
        )
        .allow(Allow::STAFF)
        .doc(
            "goods",
            "Whether the desk may approve goods-release permits",
        )
        .io(openapi::Io::ok(openapi::one::<ApprovalSetting>)),
        Endpoint::new(
            Method::PUT,
            "/api/v1/settings/goods-approval",
            put(set_approval_setting),
        )
        .allow(Allow::MANAGER)
        .doc(
            "goods",
            "Let the desk approve goods-release permits, or managers only",
        )
        .io(openapi::Io::ok(openapi::one::<ApprovalSetting>).body(openapi::one::<ApprovalSetting>)),
        Endpoint::new(Method::GET, "/desk/goods", get(goods_page))
            .allow(Allow::STAFF)
            .doc(
                "pages",
                "Page: goods-release permits, writing and approving them",
            ),
        Endpoint::new(Method::GET, "/desk/goods/print/{id}", get(print_page))
            .allow(Allow::STAFF)
            .doc(
                "pages",
                "Page: an approved permit to print (A6 or receipt width, with its QR code)",
            ),
        Endpoint::new(Method::GET, "/desk/goods/qr/{id}", get(qr_png))
            .allow(Allow::STAFF)
            .doc("pages", "An approved permit's QR code (PNG)"),
    ]
}

async fn list(State(state): State<AppState>) -> Result<Json<Vec<Permit>>, DeskError> {
    Ok(Json(read(&state, |c| goods::list(c, 200)).await?))
}

async fn one(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<u32>,
) -> Result<Json<Permit>, DeskError> {
    Ok(Json(read(&state, move |c| goods::get(c, id)).await?))
}

async fn create(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(new): ApiJson<NewPermit>,
) -> Result<Response, DeskError> {
    let now = state.now();
    let permit = write(&state, move |tx| goods::create(tx, &actor, &new, now)).await?;
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

async fn approve(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<u32>,
) -> Result<Json<Approved>, DeskError> {
    let now = state.now();
    let signer = state.signer.clone();
    let (permit, credential) = write(&state, move |tx| {
        goods::approve(tx, &signer, &actor, id, now)
    })
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
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<u32>,
    ApiJson(body): ApiJson<Refusal>,
) -> Result<Json<Permit>, DeskError> {
    let now = state.now();
    Ok(Json(
        write(&state, move |tx| {
            goods::refuse(tx, &actor, id, &body.reason, now)
        })
        .await?,
    ))
}

async fn guard_decides(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<u32>,
    ApiJson(body): ApiJson<GuardDecision>,
) -> Result<Json<Permit>, DeskError> {
    let now = state.now();
    let permit = write(&state, move |tx| {
        goods::guard_decides(tx, &actor, id, &body, now)
    })
    .await?;
    state.goods_feed.send_modify(|n| *n += 1);
    Ok(Json(permit))
}

/// Who approves goods-release permits.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApprovalSetting {
    /// `true`: desk staff approve and refuse too; `false`: managers only.
    pub desk_approves: bool,
}

async fn approval_setting(
    State(state): State<AppState>,
) -> Result<Json<ApprovalSetting>, DeskError> {
    let desk_approves = read(&state, goods::desk_approves).await?;
    Ok(Json(ApprovalSetting { desk_approves }))
}

async fn set_approval_setting(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<ApprovalSetting>,
) -> Result<Json<ApprovalSetting>, DeskError> {
    let now = state.now();
    let on = body.desk_approves;
    write(&state, move |tx| {
        settings::set_flag(tx, settings::GOODS_DESK_APPROVES, on)?;
        crate::audit::record(
            tx,
            &actor,
            "settings.goods_approval",
            "settings",
            serde_json::json!({"desk_approves": on}),
            now,
        )?;
        Ok(())
    })
    .await?;
    Ok(Json(ApprovalSetting { desk_approves: on }))
}

fn items_list(p: &Permit) -> Markup {
    html! {
        ul.items { @for i in &p.items { li { (i.description) " × " strong { (i.count) } } } }
    }
}

fn applicant(p: &Permit) -> String {
    match p.applicant {
        goods::Applicant::Owner => format!("业主 owner {}", p.applicant_masked),
        goods::Applicant::Tenant => format!(
            "租户 tenant {} (业主同意 owner consented: {} · 经办 taken by {})",
            p.applicant_masked,
            p.consent_how.clone().unwrap_or_default(),
            p.consent_taken_by
                .as_deref()
                .map(privacy::mask_name)
                .unwrap_or_default()
        ),
    }
}

async fn goods_page(v: Viewer, State(state): State<AppState>) -> Result<Markup, DeskError> {
    let (list, units, desk_approves) = read(&state, |c| {
        Ok((
            goods::list(c, 100)?,
            units::units(c)?,
            goods::desk_approves(c)?,
        ))
    })
    .await?;
    Ok(v.page(
        "物品放行 Goods-release permits",
        html! {
            h2 { "填写放行单 Write a permit" }
            form.inline #goods-new {
                label { "房号 Unit" select name="unit_id" { @for u in &units { option value=(u.id) { (u.label) } } } }
                label { "申请人 Applicant" select name="applicant" {
                    option value="owner" { "业主 Owner" } option value="tenant" { "租户 Tenant" } } }
                label { "姓名 Name" input name="applicant_name" required; }
                label { "电话 Phone" input name="applicant_phone"; }
                label { "业主同意方式 Owner's consent (tenant)" input name="consent_how" placeholder="电话 phone call / 书面 letter"; }
                label { "同意经办人 Consent taken by" input name="consent_taken_by"; }
                label { "物品（每行：名称 × 数量）Items (one a line: what × how many)" textarea name="items" rows="4" required {} }
                label { "车牌 Plate" input name="plate"; }
                label { "有效期自 Valid from" input name="valid_from" type="date"; }
                label { "至 to" input name="valid_to" type="date"; }
                label { "备注 Notes" input name="notes"; }
                button type="submit" { "提交 Submit" }
            }
            p { @if desk_approves { "前台可审批。 The desk may approve permits." } @else { "须经理审批。 A manager approves permits." } }
            h2 { "放行单 Permits" }
            table #permits {
                tr { th { "编号 No." } th { "房号 Unit" } th { "申请人 Applicant" } th { "物品 Items" } th { "车牌 Plate" }
                     th { "有效期 Valid" } th { "状态 State" } th {} }
                @for p in &list {
                    tr data-permit=(p.id) data-state=(p.state.as_str()) {
                        td { (p.id) } td { (p.unit_label) } td { (applicant(p)) } td { (items_list(p)) }
                        td { (p.plate.clone().unwrap_or_default()) } td { (p.valid_from) " → " (p.valid_to) }
                        td { (p.state.words())
                             @if let Some(n) = &p.decision_note { " · " (n) }
                             @if matches!(p.state, PermitState::Released | PermitState::Stopped) {
                                 " · " (p.closed_by.clone().unwrap_or_default()) " " (p.closed_gate.clone().unwrap_or_default())
                                 @if let Some(r) = &p.stop_reason { " · " (r) } } }
                        td {
                            @if p.state == PermitState::Requested {
                                form.inline data-api={ "/api/v1/goods-permits/" (p.id) "/approve" } data-go="/desk/goods/print/" {
                                    button.approve type="submit" { "批准 Approve" } }
                                form.inline data-api={ "/api/v1/goods-permits/" (p.id) "/refuse" } {
                                    input name="reason" placeholder="原因 Reason" required;
                                    button.refuse type="submit" { "不批准 Refuse" } }
                            }
                            @if p.state == PermitState::Approved {
                                a.print href={ "/desk/goods/print/" (p.id) } { "打印 Print" }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// The printed permit: A6 (or a receipt-width strip), the QR code, the unit and the goods.
async fn print_page(
    v: Viewer,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<u32>,
) -> Result<Markup, DeskError> {
    let p = read(&state, move |c| goods::get(c, id)).await?;
    if p.state != PermitState::Approved {
        return Err(DeskError::conflict(
            "permit_not_approved",
            format!(
                "permit {id} is {}: only an approved permit is printed",
                p.state.words()
            ),
        ));
    }
    Ok(v.page(
        "物品放行单 Goods-release permit",
        html! {
            p.no-print { button #print-permit type="button" { "打印 Print" } }
            div.permit-slip #permit-slip {
                h2 { "物品放行单 Goods-release permit" }
                p.permit-no { "No. " strong { (p.id) } }
                img.permit-qr src={ "/desk/goods/qr/" (p.id) } alt={ "permit " (p.id) };
                p { "房号 Unit: " strong { (p.unit_label) } }
                p { (applicant(&p)) }
                (items_list(&p))
                @if let Some(plate) = &p.plate { p { "车牌 Plate: " strong { (plate) } } }
                p { "有效期 Valid: " (p.valid_from) " → " (p.valid_to) }
                @if !p.notes.is_empty() { p { "备注 Notes: " (p.notes) } }
                p.small { "批准 Approved: " (p.decided_by.as_deref().map(goods::staff_masked).unwrap_or_default()) " · 限用一次 valid once" }
            }
        },
    ))
}

async fn qr_png(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<u32>,
) -> Result<Response, DeskError> {
    let text = read(&state, move |c| goods::credential(c, id))
        .await?
        .ok_or_else(|| DeskError::NotFound(format!("permit {id} has no QR code (not approved)")))?;
    let png = gatehouse_credential::qr::Qr::new(&text)
        .and_then(|q| q.to_png(6))
        .map_err(|e| DeskError::invalid("qr_failed", e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

/// The desk's permit page: the form's item lines become a list, the print button prints.
pub const SCRIPT: &str = r#"
{const f=document.getElementById('goods-new');if(f)f.addEventListener('submit',async ev=>{ev.preventDefault();const b={};
 for(const el of f.elements){if(el.name&&el.value!=='')b[el.name]=el.value;}b.unit_id=parseInt(b.unit_id,10);
 b.items=(b.items||'').split('\n').map(l=>l.trim()).filter(l=>l).map(l=>{const m=l.match(/^(.*?)\s*[×xX*]\s*(\d+)$/);
  return m?{description:m[1],count:parseInt(m[2],10)}:{description:l,count:1};});
 const r=await api('POST','/api/v1/goods-permits',b);if(r.ok)location.reload();else flash(false,(r.v&&r.v.message)||('HTTP '+r.status));});
const p=document.getElementById('print-permit');if(p)p.addEventListener('click',()=>window.print());}
"#;

/// The permit slip on screen and on paper (A6; narrow enough for a receipt roll too).
pub const CSS: &str = r#"
.permit-slip{background:#fff;border:1px solid #d0d4da;padding:4mm;width:95mm;page:slip}
.permit-slip h2{margin:0 0 2mm;font-size:14pt}.permit-qr{display:block;image-rendering:pixelated}
.permit-slip ul.items{font-size:12pt;padding-left:5mm}.permit-slip .small{font-size:8pt}
@page slip{size:A6;margin:5mm}
@media print{.permit-slip{border:0;width:auto;padding:0}.permit-qr{width:45mm;height:45mm}}
"#;

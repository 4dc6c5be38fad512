//! Goods-release permits at the desk: writing one, approving or refusing it, the manager's
//! switch that lets the desk approve, and the approved permit to print (A6 or a receipt-width
//! strip with its QR code), or to send to the kiosk's receipt printer.

use super::Viewer;
use crate::auth::Allow;
use crate::domain::desk_error::DeskError;
use crate::domain::goods::{self, Applicant, Permit, PermitState};
use crate::domain::goods_print::{self, PrintJob};
use crate::domain::{privacy, units};
use crate::http::Endpoint;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::goods::permits_page;
use crate::http::paging::NewestFirst;
use crate::http::renovations::read;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{Method, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};

/// This page's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
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

/// A permit's state in the page's language.
fn state_words(v: &Viewer, s: PermitState) -> &'static str {
    match s {
        PermitState::Requested => v.t("待审批", "waiting for approval"),
        PermitState::Approved => v.t("已批准", "approved"),
        PermitState::Refused => v.t("未批准", "refused"),
        PermitState::Released => v.t("已放行", "released"),
        PermitState::Stopped => v.t("已拦下", "stopped at the gate"),
    }
}

fn items_list(p: &Permit) -> Markup {
    html! {
        ul.items { @for i in &p.items { li { (i.description) " × " strong { (i.count) } } } }
    }
}

fn applicant(v: &Viewer, p: &Permit) -> String {
    match p.applicant {
        Applicant::Owner => format!("{} {}", v.t("业主", "owner"), p.applicant_masked),
        Applicant::Tenant => format!(
            "{} {} ({}: {} · {}: {})",
            v.t("租户", "tenant"),
            p.applicant_masked,
            v.t("业主同意", "owner consented"),
            p.consent_how.clone().unwrap_or_default(),
            v.t("经办", "taken by"),
            p.consent_taken_by
                .as_deref()
                .map(privacy::mask_name)
                .unwrap_or_default()
        ),
    }
}

/// The manager's switch: whether the desk may approve and refuse permits too.
fn approval_setting(v: &Viewer, desk_approves: bool) -> Markup {
    let may_set = v.may(&Method::PUT, "/api/v1/settings/goods-approval");
    html! {
        p #goods-approval-state {
            @if desk_approves { (v.t("前台可审批放行单。", "The desk may approve permits.")) }
            @else { (v.t("放行单须经理审批。", "A manager approves permits.")) }
        }
        @if may_set {
            form.inline #goods-approval data-api="/api/v1/settings/goods-approval" data-method="PUT"
                data-confirm=(if desk_approves { v.t("改为只由经理审批放行单？", "Let only managers approve permits?") }
                    else { v.t("允许前台审批放行单？", "Let the desk approve permits too?") })
                data-yes=(v.t("确认", "Confirm")) data-done=(v.t("已保存", "Saved")) {
                input type="hidden" name="desk_approves" value=(!desk_approves) data-type="bool";
                button type="submit" {
                    @if desk_approves { (v.t("改为只由经理审批", "Managers only")) }
                    @else { (v.t("允许前台审批", "Let the desk approve")) }
                }
            }
        }
    }
}

async fn goods_page(
    v: Viewer,
    State(state): State<AppState>,
    uri: Uri,
    ApiQuery(q): ApiQuery<NewestFirst>,
) -> Result<Markup, DeskError> {
    let first = q.before.is_none();
    let page = permits_page(&state, q).await?;
    let more = page.next_href(&uri, "before");
    let list = page.rows;
    let (units, desk_approves) =
        read(&state, |c| Ok((units::units(c)?, goods::desk_approves(c)?))).await?;
    Ok(v.page(
        v.t("物品放行", "Goods-release permits"),
        html! {
            h2 { (v.t("填写放行单", "Write a permit")) }
            form.inline #goods-new {
                label { (v.t("房号", "Unit")) select name="unit_id" { @for u in &units { option value=(u.id) { (u.label) } } } }
                label { (v.t("申请人", "Applicant")) select name="applicant" {
                    option value="owner" { (v.t("业主", "Owner")) } option value="tenant" { (v.t("租户", "Tenant")) } } }
                label { (v.t("姓名", "Name")) input name="applicant_name" required; }
                label { (v.t("电话", "Phone")) input name="applicant_phone"; }
                label { (v.t("业主同意方式（租户）", "Owner's consent (tenant)")) input name="consent_how" placeholder=(v.t("电话 / 书面", "phone call / letter")); }
                label { (v.t("同意经办人", "Consent taken by")) input name="consent_taken_by"; }
                label { (v.t("物品（每行：名称 × 数量）", "Items (one a line: what × how many)")) textarea name="items" rows="4" required {} }
                label { (v.t("车牌", "Plate")) input name="plate"; }
                label { (v.t("有效期自", "Valid from")) input name="valid_from" type="date"; }
                label { (v.t("至", "to")) input name="valid_to" type="date"; }
                label { (v.t("备注", "Notes")) input name="notes"; }
                button type="submit" { (v.t("提交", "Submit")) }
            }
            (approval_setting(&v, desk_approves))
            h2 { (v.t("放行单", "Permits")) }
            table #permits {
                tr { th { (v.t("编号", "No.")) } th { (v.t("房号", "Unit")) } th { (v.t("申请人", "Applicant")) } th { (v.t("物品", "Items")) }
                     th { (v.t("车牌", "Plate")) } th { (v.t("有效期", "Valid")) } th { (v.t("状态", "State")) } th {} }
                @for p in &list {
                    tr data-permit=(p.id) data-state=(p.state.as_str()) {
                        td { (p.id) } td { (p.unit_label) } td { (applicant(&v, p)) } td { (items_list(p)) }
                        td { (p.plate.clone().unwrap_or_default()) } td { (v.date(p.valid_from)) " → " (v.date(p.valid_to)) }
                        td { (state_words(&v, p.state))
                             @if let Some(n) = &p.decision_note { " · " (n) }
                             @if matches!(p.state, PermitState::Released | PermitState::Stopped) {
                                 " · " (p.closed_at.map(|t| v.time(t)).unwrap_or_default())
                                 " · " (p.closed_by.clone().unwrap_or_default())
                                 " · " (p.closed_gate.clone().unwrap_or_else(|| v.t("手持扫码", "handheld").to_owned()))
                                 @if let Some(r) = &p.stop_reason { " · " (r) } } }
                        td {
                            @if p.state == PermitState::Requested {
                                form.inline data-api={ "/api/v1/goods-permits/" (p.id) "/approve" } data-go="/desk/goods/print/" {
                                    button.approve type="submit" { (v.t("批准", "Approve")) } }
                                form.inline data-api={ "/api/v1/goods-permits/" (p.id) "/refuse" } {
                                    input name="reason" placeholder=(v.t("原因", "Reason")) required;
                                    button.refuse type="submit" { (v.t("不批准", "Refuse")) } }
                            }
                            @if p.state == PermitState::Approved {
                                a.print href={ "/desk/goods/print/" (p.id) } { (v.t("打印", "Print")) }
                            }
                        }
                    }
                }
            }
            (super::renovations::more_links(&v, more.as_deref(), first, "/desk/goods"))
        },
    ))
}

/// The printed permit: A6 (or a receipt-width strip), the QR code, the unit and the goods.
async fn print_page(
    v: Viewer,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<u32>,
) -> Result<Markup, DeskError> {
    let (p, kiosks, jobs) = read(&state, move |c| {
        Ok((
            goods::get(c, id)?,
            goods_print::kiosks(c)?,
            goods_print::jobs_of(c, id)?,
        ))
    })
    .await?;
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
        v.t("物品放行单", "Goods-release permit"),
        html! {
            p.no-print { button #print-permit type="button" { (v.t("打印", "Print")) } }
            (kiosk_print(&v, p.id, &kiosks, &jobs))
            div.permit-slip #permit-slip {
                h2 { (v.t("物品放行单", "Goods-release permit")) }
                p.permit-no { (v.t("编号", "No.")) " " strong { (p.id) } }
                img.permit-qr src={ "/desk/goods/qr/" (p.id) } alt={ "permit " (p.id) };
                p { (v.t("房号", "Unit")) ": " strong { (p.unit_label) } }
                p { (applicant(&v, &p)) }
                (items_list(&p))
                @if let Some(plate) = &p.plate { p { (v.t("车牌", "Plate")) ": " strong { (plate) } } }
                p { (v.t("有效期", "Valid")) ": " (v.date(p.valid_from)) " → " (v.date(p.valid_to)) }
                @if !p.notes.is_empty() { p { (v.t("备注", "Notes")) ": " (p.notes) } }
                p.small { (v.t("批准", "Approved")) ": " (p.decided_by.as_deref().map(goods::staff_masked).unwrap_or_default())
                    " · " (v.t("限用一次", "valid once")) }
            }
        },
    ))
}

/// Sending the permit to a kiosk's receipt printer, and what became of the slips sent.
fn kiosk_print(v: &Viewer, id: u32, kiosks: &[goods_print::Kiosk], jobs: &[PrintJob]) -> Markup {
    html! {
        @if !kiosks.is_empty() {
            form.inline.no-print #kiosk-print data-api={ "/api/v1/goods-permits/" (id) "/kiosk-print" }
                data-done=(v.t("已发送到自助机打印", "Sent to the kiosk's printer")) {
                label { (v.t("自助机", "Kiosk")) select name="device_id" { @for k in kiosks { option value=(k.id) { (k.name) } } } }
                button type="submit" { (v.t("在自助机小票打印机上打印", "Print on the kiosk's receipt printer")) }
            }
        }
        @if !jobs.is_empty() {
            ul.no-print #kiosk-jobs {
                @for j in jobs {
                    li data-job=(j.id) data-printed=(j.printed.map(|b| b.to_string()).unwrap_or_default()) {
                        (v.time(j.requested_at)) " · " (j.kiosk) " · "
                        @match (j.printed, j.paper.as_deref()) {
                            (None, _) if j.taken_at.is_none() => { (v.t("等待自助机", "waiting for the kiosk")) }
                            (None, _) => { (v.t("打印中", "printing")) }
                            (Some(true), Some("near_end")) => { span.met { (v.t("已打印（纸将用完）", "printed (paper nearly out)")) } }
                            (Some(true), _) => { span.met { (v.t("已打印", "printed")) } }
                            (Some(false), Some("withdrawn")) => { span.unmet { (v.t("未打印：放行单已不可用", "not printed: the permit is no longer valid")) } }
                            (Some(false), paper) => { span.unmet { (v.t("未打印", "not printed")) " (" (paper.unwrap_or_default()) ")" } }
                        }
                    }
                }
            }
        }
    }
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
 const r=await api('POST','/api/v1/goods-permits',b);if(r.ok)location.reload();else flash(false,errText(r));});
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

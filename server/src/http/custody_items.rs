//! Keys and radios over HTTP: the register and its printable sheet of QR labels, lending,
//! taking back by scan (the desk's return field reads labels too), losses, unit keys handed
//! over at move-in, the overdue alarm, and the shift handover page, sheet and confirmation
//! (see [`crate::domain::custody_items`]).

use super::Endpoint;
use super::extract::{ApiJson, ApiPath};
use super::openapi;
use super::pages::Viewer;
use super::renovations::{read, write};
use crate::auth::Actor;
use crate::auth::Allow;
use crate::domain::custody_items::{
    self, CheckIn, CheckOut, HandOver, Item, ItemKind, ItemState, NewItem, OverdueItem,
};
use crate::domain::desk_error::DeskError;
use crate::domain::{settings, units};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/api/v1/custody-items", get(list))
            .allow(Allow::STAFF)
            .doc(
                "custody",
                "Keys, radios and equipment: where each is, who holds it (masked)",
            )
            .io(openapi::Io::ok(
                openapi::list::<crate::domain::custody_items::Item>,
            )),
        Endpoint::new(Method::POST, "/api/v1/custody-items", post(register))
            .allow(Allow::STAFF)
            .doc("custody", "Register an item and make its QR label code")
            .io(
                openapi::Io::created(openapi::one::<crate::domain::custody_items::Item>)
                    .body(openapi::one::<crate::domain::custody_items::NewItem>),
            ),
        Endpoint::new(
            Method::POST,
            "/api/v1/custody-items/{id}/check-out",
            post(check_out),
        )
        .allow(Allow::STAFF)
        .doc("custody", "Lend an item with an expected return")
        .io(
            openapi::Io::ok(openapi::one::<crate::domain::custody_items::Item>)
                .params(&[openapi::params::<openapi::RowId>])
                .body(openapi::one::<crate::domain::custody_items::CheckOut>),
        ),
        Endpoint::new(
            Method::POST,
            "/api/v1/custody-items/check-in",
            post(check_in),
        )
        .allow(Allow::STAFF)
        .doc(
            "custody",
            "Take an item back by its scanned label, with its condition",
        )
        .io(
            openapi::Io::ok(openapi::one::<crate::domain::custody_items::Item>)
                .body(openapi::one::<crate::domain::custody_items::CheckIn>),
        ),
        Endpoint::new(Method::POST, "/api/v1/custody-items/{id}/lost", post(lost))
            .allow(Allow::STAFF)
            .doc("custody", "Declare an item lost, with a note")
            .io(
                openapi::Io::ok(openapi::one::<crate::domain::custody_items::Item>)
                    .params(&[openapi::params::<openapi::RowId>])
                    .body(openapi::one::<LostNote>),
            ),
        Endpoint::new(
            Method::POST,
            "/api/v1/custody-items/{id}/hand-over",
            post(hand_over),
        )
        .allow(Allow::STAFF)
        .doc(
            "custody",
            "Hand a unit's keys to its owner at move-in, with the count of keys",
        )
        .io(
            openapi::Io::ok(openapi::one::<crate::domain::custody_items::Item>)
                .params(&[openapi::params::<openapi::RowId>])
                .body(openapi::one::<crate::domain::custody_items::HandOver>),
        ),
        Endpoint::new(
            Method::GET,
            "/api/v1/custody-items/overdue-alarms",
            get(overdue_alarms),
        )
        .allow(Allow::STAFF)
        .doc(
            "custody",
            "Items out past their expected return: each raised once, until acknowledged",
        )
        .io(openapi::Io::ok(
            openapi::list::<crate::domain::custody_items::OverdueItem>,
        )),
        Endpoint::new(
            Method::POST,
            "/api/v1/custody-items/{id}/overdue/acknowledge",
            post(acknowledge_overdue),
        )
        .allow(Allow::STAFF)
        .doc("custody", "A staff member has seen an item's overdue alarm")
        .io(openapi::Io::NO_CONTENT.params(&[openapi::params::<openapi::RowId>])),
        Endpoint::new(Method::POST, "/api/v1/handovers", post(confirm_handover))
            .allow(Allow::STAFF)
            .doc(
                "custody",
                "The incoming clerk confirms the shift handover of the items out",
            )
            .io(
                openapi::Io::created(openapi::one::<crate::domain::custody_items::Handover>)
                    .body(openapi::one::<HandoverRequest>),
            ),
        Endpoint::new(Method::GET, "/desk/keys", get(keys_page))
            .allow(Allow::STAFF)
            .doc(
                "pages",
                "Page: keys and radios, registering, lending, losses, unit keys",
            ),
        Endpoint::new(Method::GET, "/desk/keys/labels", get(labels_page))
            .allow(Allow::STAFF)
            .doc("pages", "Page: a printable sheet of the items' QR labels"),
        Endpoint::new(Method::GET, "/desk/keys/qr/{id}", get(label_png))
            .allow(Allow::STAFF)
            .doc("pages", "An item's QR label (PNG)"),
        Endpoint::new(Method::GET, "/desk/handover", get(handover_page))
            .allow(Allow::STAFF)
            .doc(
                "pages",
                "Page: the shift handover list and sheet, and its confirmation",
            ),
    ]
}

async fn list(State(state): State<AppState>) -> Result<Json<Vec<Item>>, DeskError> {
    let now = state.now();
    Ok(Json(
        read(&state, move |c| custody_items::list(c, now)).await?,
    ))
}

async fn register(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(new): ApiJson<NewItem>,
) -> Result<Response, DeskError> {
    let now = state.now();
    let item = write(&state, move |tx| {
        custody_items::register(tx, &actor, &new, now)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(item)).into_response())
}

async fn check_out(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CheckOut>,
) -> Result<Json<Item>, DeskError> {
    let now = state.now();
    Ok(Json(
        write(&state, move |tx| {
            custody_items::check_out(tx, &actor, id, &body, now)
        })
        .await?,
    ))
}

async fn check_in(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<CheckIn>,
) -> Result<Json<Item>, DeskError> {
    let now = state.now();
    Ok(Json(
        write(&state, move |tx| {
            custody_items::check_in(tx, &actor, &body, now)
        })
        .await?,
    ))
}

/// A loss, with how it happened.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LostNote {
    /// How it was lost.
    pub note: String,
}

async fn lost(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<LostNote>,
) -> Result<Json<Item>, DeskError> {
    let now = state.now();
    Ok(Json(
        write(&state, move |tx| {
            custody_items::declare_lost(tx, &actor, id, &body.note, now)
        })
        .await?,
    ))
}

async fn hand_over(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<HandOver>,
) -> Result<Json<Item>, DeskError> {
    let now = state.now();
    Ok(Json(
        write(&state, move |tx| {
            custody_items::hand_over(tx, &actor, id, &body, now)
        })
        .await?,
    ))
}

async fn overdue_alarms(
    State(state): State<AppState>,
) -> Result<Json<Vec<OverdueItem>>, DeskError> {
    let now = state.now();
    Ok(Json(
        write(&state, move |tx| custody_items::overdue_alarms(tx, now)).await?,
    ))
}

async fn acknowledge_overdue(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, DeskError> {
    let now = state.now();
    write(&state, move |tx| {
        custody_items::acknowledge_overdue(tx, &actor, id, now)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The clerk going off shift, named by the one confirming.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct HandoverRequest {
    /// The outgoing clerk's username.
    pub outgoing: String,
}

async fn confirm_handover(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<HandoverRequest>,
) -> Result<Response, DeskError> {
    let now = state.now();
    let h = write(&state, move |tx| {
        custody_items::confirm_handover(tx, &actor, &body.outgoing, now)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(h)).into_response())
}

fn kind_words(k: ItemKind) -> &'static str {
    match k {
        ItemKind::Radio => "对讲机 radio",
        ItemKind::Key => "钥匙 key",
        ItemKind::UnitKey => "房屋钥匙 unit keys",
        ItemKind::Equipment => "设备 equipment",
    }
}

fn local(tz: chrono_tz::Tz, stored: Option<&str>) -> String {
    stored
        .and_then(|t| crate::db::parse_ts(t).ok())
        .map(|t| t.with_timezone(&tz).format("%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// The items out: who, since when, due when, overdue — the handover's table.
fn out_table(tz: chrono_tz::Tz, items: &[Item]) -> Markup {
    html! {
        table #items-out {
            tr { th { "物品 Item" } th { "标签 Label" } th { "借用人 Holder" } th { "借出 Since" } th { "应还 Due" } th { "经办 Lent by" } th { "逾期 Overdue" } }
            @for i in items {
                tr data-item=(i.id) {
                    td { (kind_words(i.kind)) " · " (i.label) } td { (i.code) }
                    td { (i.holder_masked.clone().unwrap_or_default()) }
                    td { (local(tz, i.since.as_deref())) } td { (local(tz, i.expected_back.as_deref())) }
                    td { (i.lent_by.clone().unwrap_or_default()) }
                    @if i.overdue { td.unmet { "逾期 overdue" } } @else { td { "—" } }
                }
            }
        }
    }
}

async fn keys_page(v: Viewer, State(state): State<AppState>) -> Result<Markup, DeskError> {
    let now = state.now();
    let (items, units, tz) = read(&state, move |c| {
        Ok((
            custody_items::list(c, now)?,
            units::units(c)?,
            settings::time_zone(c)?,
        ))
    })
    .await?;
    Ok(v.page(
        "钥匙与对讲机 Keys and radios",
        html! {
            p { a href="/desk/keys/labels" { "打印标签 Print labels" } " · " a href="/desk/handover" { "交接班 Shift handover" }
                " · 归还：在“扫码交卡”页扫描标签 Returns: scan the label on the Return cards page" }
            h2 { "登记物品 Register an item" }
            form.inline #item-new data-api="/api/v1/custody-items" {
                label { "类别 Kind" select name="kind" {
                    option value="radio" { "对讲机 Radio" } option value="key" { "钥匙 Key" }
                    option value="unit_key" { "房屋钥匙 Unit keys" } option value="equipment" { "设备 Equipment" } } }
                label { "名称 Name" input name="label" required; }
                label { "房号 Unit (房屋钥匙)" select name="unit_id" data-type="int" { option value="" { "—" }
                    @for u in &units { option value=(u.id) { (u.label) } } } }
                label { "钥匙数 Keys on the ring" input name="key_count" data-type="int"; }
                button type="submit" { "登记 Register" }
            }
            h2 { "全部物品 All items" }
            table #items {
                tr { th { "物品 Item" } th { "标签 Label" } th { "状态 State" } th { "借用人 Holder" } th { "应还 Due" } th {} }
                @for i in &items {
                    tr data-item=(i.id) data-state=(i.state.as_str()) {
                        td { (kind_words(i.kind)) " · " (i.label) @if let Some(u) = &i.unit_label { " · " (u) " (" (i.key_count.unwrap_or(0)) " 把 keys)" } }
                        td { (i.code) }
                        td { (i.state.words()) @if i.overdue { " · " span.unmet { "逾期 overdue" } } @if let Some(n) = &i.note { " · " (n) } }
                        td { (i.holder_masked.clone().unwrap_or_default()) }
                        td { (local(tz, i.expected_back.as_deref())) }
                        td {
                            @if i.state == ItemState::In && i.kind != ItemKind::UnitKey {
                                form.inline.check-out data-item=(i.id) {
                                    input name="holder_name" placeholder="借用人 Holder" required;
                                    input name="holder_phone" placeholder="电话 Phone";
                                    select name="holder_kind" { option value="staff" { "员工 staff" } option value="contractor" { "施工方 contractor" } option value="owner" { "业主 owner" } }
                                    input name="expected_back" type="datetime-local" required;
                                    button type="submit" { "借出 Lend" } }
                            }
                            @if i.state == ItemState::In && i.kind == ItemKind::UnitKey {
                                form.inline data-api={ "/api/v1/custody-items/" (i.id) "/hand-over" } {
                                    input name="owner_name" placeholder="业主 Owner" required;
                                    input name="key_count" data-type="int" placeholder="钥匙数 Keys counted" required;
                                    button type="submit" { "交付业主 Hand over" } }
                            }
                            @if matches!(i.state, ItemState::In | ItemState::Out) {
                                form.inline data-api={ "/api/v1/custody-items/" (i.id) "/lost" } {
                                    input name="note" placeholder="遗失说明 How lost" required;
                                    button type="submit" { "遗失 Lost" } }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// A sheet of QR labels (A4, cut apart) for every item.
async fn labels_page(v: Viewer, State(state): State<AppState>) -> Result<Markup, DeskError> {
    let now = state.now();
    let items = read(&state, move |c| custody_items::list(c, now)).await?;
    Ok(v.page(
        "物品标签 Item labels",
        html! {
            p.no-print { button #print-labels type="button" { "打印 Print" } }
            div #labels {
                @for i in items.iter().filter(|i| i.state != ItemState::HandedOver) {
                    div.label data-item=(i.id) {
                        img src={ "/desk/keys/qr/" (i.id) } alt=(i.code);
                        div { strong { (i.code) } br; (i.label) @if let Some(u) = &i.unit_label { br; (u) } }
                    }
                }
            }
        },
    ))
}

async fn label_png(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, DeskError> {
    let now = state.now();
    let item = read(&state, move |c| custody_items::get(c, id, now)).await?;
    let png = gatehouse_credential::qr::Qr::new(&item.code)
        .and_then(|q| q.to_png(4))
        .map_err(|e| DeskError::invalid("qr_failed", e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

async fn handover_page(v: Viewer, State(state): State<AppState>) -> Result<Markup, DeskError> {
    let now = state.now();
    let (out, last, tz) = read(&state, move |c| {
        Ok((
            custody_items::out_now(c, now)?,
            custody_items::handovers(c, 5)?,
            settings::time_zone(c)?,
        ))
    })
    .await?;
    let overdue = out.iter().filter(|i| i.overdue).count();
    Ok(v.page(
        "交接班 Shift handover",
        html! {
            p { "打印时间 Printed " (now.with_timezone(&tz).format("%Y-%m-%d %H:%M")) " · 借出 " (out.len()) " 件 out · 逾期 " (overdue) " 件 overdue" }
            (out_table(tz, &out))
            p.no-print { button #print-handover type="button" { "打印交接单 Print the sheet" } }
            h2.no-print { "接班确认 Incoming clerk confirms" }
            form.inline #handover-confirm data-api="/api/v1/handovers" {
                label { "交班人 Outgoing clerk (username)" input name="outgoing" required; }
                button type="submit" { "确认接班 Confirm handover" }
            }
            h2 { "最近交接 Recent handovers" }
            table #handovers {
                tr { th { "时间 At" } th { "交班 Outgoing" } th { "接班 Incoming" } th { "借出 Out" } th { "逾期 Overdue" } }
                @for h in &last {
                    tr { td { (local(tz, Some(&h.at))) } td { (h.outgoing) } td { (h.incoming) } td { (h.items_out) } td { (h.overdue) } }
                }
            }
            p.signatures { "交班人签字 Outgoing: ________  接班人签字 Incoming: ________" }
        },
    ))
}

/// The keys page's lend forms (a local date-time becomes UTC), the print buttons, and the
/// overdue alarm on every desk page (once per loan, until acknowledged).
pub const SCRIPT: &str = r#"
{for(const f of document.querySelectorAll('form.check-out'))f.addEventListener('submit',async ev=>{ev.preventDefault();
 const b={};for(const el of f.elements)if(el.name&&el.value!=='')b[el.name]=el.value;
 b.expected_back=new Date(b.expected_back).toISOString();
 const r=await api('POST','/api/v1/custody-items/'+f.dataset.item+'/check-out',b);if(r.ok)location.reload();else flash(false,(r.v&&r.v.message)||('HTTP '+r.status));});
for(const id of ['print-labels','print-handover']){const b=document.getElementById(id);if(b)b.addEventListener('click',()=>window.print());}
async function loadItemAlarms(){const top=document.getElementById('alarms');if(!top)return;let box=document.getElementById('item-alarms');
 if(!box){box=document.createElement('div');box.id='item-alarms';top.after(box);}
 let r;try{r=await fetch('/api/v1/custody-items/overdue-alarms');}catch(e){return;}if(!r.ok)return;const list=await r.json();box.replaceChildren();
 for(const a of list){const d=document.createElement('div');d.className='alarm overdue';d.dataset.item=a.id;const t=document.createElement('span');
  t.textContent='⚠ 物品逾期未还 item overdue — '+a.label+' ('+a.code+') · '+(a.holder_masked||'')+' · 应还 due '+new Date(a.expected_back).toLocaleString('zh-CN');
  const b=document.createElement('button');b.textContent='知道了 Acknowledge';
  b.onclick=async()=>{await fetch('/api/v1/custody-items/'+a.id+'/overdue/acknowledge',{method:'POST'});loadItemAlarms();};d.append(t,b);box.append(d);}}
loadItemAlarms();setInterval(loadItemAlarms,10000);
const out=document.getElementById('scan-result');
if(out)window.itemBack=text=>{let box=document.getElementById('item-return');
 if(!box){box=document.createElement('div');box.id='item-return';
  box.innerHTML='<label>状况 Condition <select id="item-condition"><option value="ok">完好 ok</option><option value="damaged">损坏 damaged</option>'+
   '<option value="missing_parts">缺件 missing parts</option></select></label> <input id="item-note" placeholder="说明 Note"> '+
   '<input id="item-received-by" placeholder="收回人 Taken back by (默认本人 me)"> <button type="button" id="item-return-yes">确认收回 Take back</button>';
  out.before(box);}
 box.hidden=false;box.dataset.code=text;out.className='';out.textContent='物品 Item '+text+': 选择状况后确认 pick its condition, then confirm';
 const c=document.getElementById('item-condition');c.value='ok';c.focus();
 document.getElementById('item-return-yes').onclick=async()=>{const body={code:box.dataset.code,condition:c.value,
   note:document.getElementById('item-note').value||null,received_by:document.getElementById('item-received-by').value||null};
  const r=await api('POST','/api/v1/custody-items/check-in',body);box.hidden=!r.ok;
  if(r.ok){out.className='ok';out.textContent='✔ 已收回 Taken back: '+r.v.label+' ('+r.v.code+')';document.getElementById('item-note').value='';}
  else{out.className='err';out.textContent='✘ '+((r.v&&r.v.message)||('HTTP '+r.status));}
  document.getElementById('scan').focus();};};}
"#;

/// The label sheet (A4, a grid to cut apart) and the alarm line.
pub const CSS: &str = r#"
#labels{display:grid;grid-template-columns:repeat(4,1fr);gap:4mm}#labels .label{border:1px dashed #999;padding:2mm;display:flex;gap:2mm;align-items:center;break-inside:avoid;font-size:9pt}
#labels img{width:22mm;height:22mm;image-rendering:pixelated}
#item-alarms div{background:#8a3a00;color:#fff;padding:.5em 1em;font-weight:700;display:flex;gap:1em;align-items:center}
#item-alarms button{background:#fff;color:#1d1d1f;margin-left:auto}
.signatures{margin-top:2em}
"#;

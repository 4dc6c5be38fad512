//! Keys and radios at the desk: the register, lending, losses, owners' unit keys handed over
//! at move-in, the printable sheet of QR labels, and the overdue alarm line on every page.
//! Returns are scanned on the return page (`/desk/return`).

use super::Viewer;
use crate::auth::Allow;
use crate::domain::custody_items::{self, Item, ItemKind, ItemState};
use crate::domain::desk_error::DeskError;
use crate::domain::units;
use crate::http::Endpoint;
use crate::http::extract::ApiPath;
use crate::http::renovations::read;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use maud::{Markup, html};

/// This page's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
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
    ]
}

/// An item's kind in the page's language.
pub(super) fn kind_words(v: &Viewer, k: ItemKind) -> &'static str {
    match k {
        ItemKind::Radio => v.t("对讲机", "radio"),
        ItemKind::Key => v.t("钥匙", "key"),
        ItemKind::UnitKey => v.t("房屋钥匙", "unit keys"),
        ItemKind::Equipment => v.t("设备", "equipment"),
    }
}

fn state_words(v: &Viewer, s: ItemState) -> &'static str {
    match s {
        ItemState::In => v.t("在前台", "at the desk"),
        ItemState::Out => v.t("借出", "out"),
        ItemState::Lost => v.t("遗失", "lost"),
        ItemState::HandedOver => v.t("已交业主", "handed over"),
    }
}

/// A moment, local and to the minute; empty when there is none.
pub(super) fn moment(v: &Viewer, at: Option<DateTime<Utc>>) -> String {
    at.map(|t| v.time(t)).unwrap_or_default()
}

fn item_name(v: &Viewer, i: &Item) -> String {
    let mut s = format!("{} · {}", kind_words(v, i.kind), i.label);
    if let Some(u) = &i.unit_label {
        s.push_str(&format!(
            " · {u} ({} {})",
            i.key_count.unwrap_or(0),
            v.t("把", "keys")
        ));
    }
    s
}

async fn keys_page(v: Viewer, State(state): State<AppState>) -> Result<Markup, DeskError> {
    let now = state.now();
    let (items, units) = read(&state, move |c| {
        Ok((custody_items::list(c, now)?, units::units(c)?))
    })
    .await?;
    Ok(v.page(
        v.t("钥匙与对讲机", "Keys and radios"),
        html! {
            p { a href="/desk/keys/labels" { (v.t("打印标签", "Print labels")) } " · " a href="/desk/handover" { (v.t("交接班", "Shift handover")) }
                " · " (v.t("归还：在“扫码交卡”页扫描标签", "Returns: scan the label on the Return cards page")) }
            h2 { (v.t("登记物品", "Register an item")) }
            form.inline #item-new data-api="/api/v1/custody-items" data-done=(v.t("已登记", "Registered")) {
                label { (v.t("类别", "Kind")) select name="kind" {
                    option value="radio" { (v.t("对讲机", "Radio")) } option value="key" { (v.t("钥匙", "Key")) }
                    option value="unit_key" { (v.t("房屋钥匙", "Unit keys")) } option value="equipment" { (v.t("设备", "Equipment")) } } }
                label { (v.t("名称", "Name")) input name="label" required; }
                label { (v.t("房号（房屋钥匙）", "Unit (unit keys)")) select name="unit_id" data-type="int" { option value="" { "—" }
                    @for u in &units { option value=(u.id) { (u.label) } } } }
                label { (v.t("钥匙数", "Keys on the ring")) input name="key_count" data-type="int"; }
                button type="submit" { (v.t("登记", "Register")) }
            }
            h2 { (v.t("全部物品", "All items")) }
            table #items {
                tr { th { (v.t("物品", "Item")) } th { (v.t("标签", "Label")) } th { (v.t("状态", "State")) } th { (v.t("借用人", "Holder")) }
                     th { (v.t("应还", "Due")) } th {} }
                @for i in &items {
                    tr data-item=(i.id) data-state=(i.state.as_str()) {
                        td { (item_name(&v, i)) }
                        td { (i.code) }
                        td { (state_words(&v, i.state)) @if i.overdue { " · " span.unmet { (v.t("逾期", "overdue")) } } @if let Some(n) = &i.note { " · " (n) } }
                        td { (i.holder_masked.clone().unwrap_or_default()) }
                        td { (moment(&v, i.expected_back)) }
                        td {
                            @if i.state == ItemState::In && i.kind != ItemKind::UnitKey {
                                form.inline.check-out data-item=(i.id) {
                                    input name="holder_name" placeholder=(v.t("借用人", "Holder")) required;
                                    input name="holder_phone" placeholder=(v.t("电话", "Phone"));
                                    select name="holder_kind" { option value="staff" { (v.t("员工", "staff")) } option value="contractor" { (v.t("施工方", "contractor")) }
                                        option value="owner" { (v.t("业主", "owner")) } }
                                    input name="expected_back" type="datetime-local" required;
                                    button type="submit" { (v.t("借出", "Lend")) } }
                            }
                            @if i.state == ItemState::In && i.kind == ItemKind::UnitKey {
                                form.inline data-api={ "/api/v1/custody-items/" (i.id) "/hand-over" } {
                                    input name="owner_name" placeholder=(v.t("业主", "Owner")) required;
                                    input name="key_count" data-type="int" placeholder=(v.t("钥匙数", "Keys counted")) required;
                                    button type="submit" { (v.t("交付业主", "Hand over")) } }
                            }
                            @if matches!(i.state, ItemState::In | ItemState::Out) {
                                form.inline.lost data-api={ "/api/v1/custody-items/" (i.id) "/lost" } {
                                    input name="note" placeholder=(v.t("遗失说明", "How lost")) required;
                                    button type="submit" { (v.t("遗失", "Lost")) } }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// A sheet of QR labels (A4, cut apart) for every item still kept by the desk.
async fn labels_page(v: Viewer, State(state): State<AppState>) -> Result<Markup, DeskError> {
    let now = state.now();
    let items = read(&state, move |c| custody_items::list(c, now)).await?;
    Ok(v.page(
        v.t("物品标签", "Item labels"),
        html! {
            p.no-print { button #print-labels type="button" { (v.t("打印", "Print")) } }
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

/// The keys page's lend forms (a local date-time becomes UTC), the print buttons, the
/// overdue alarm on every desk page (once per loan, until acknowledged), and taking an item
/// back when its label is scanned on the return page (condition, note, who took it).
pub const SCRIPT: &str = r#"
{for(const f of document.querySelectorAll('form.check-out'))f.addEventListener('submit',async ev=>{ev.preventDefault();
 const b={};for(const el of f.elements)if(el.name&&el.value!=='')b[el.name]=el.value;
 b.expected_back=new Date(b.expected_back).toISOString();
 const r=await api('POST','/api/v1/custody-items/'+f.dataset.item+'/check-out',b);if(r.ok)location.reload();else flash(false,errText(r));});
for(const id of ['print-labels','print-handover']){const b=document.getElementById(id);if(b)b.addEventListener('click',()=>window.print());}
async function loadItemAlarms(){const top=document.getElementById('alarms');if(!top)return;let box=document.getElementById('item-alarms');
 if(!box){box=document.createElement('div');box.id='item-alarms';top.after(box);}
 let r;try{r=await fetch('/api/v1/custody-items/overdue-alarms');}catch(e){return;}if(!r.ok)return;const list=await r.json();box.replaceChildren();
 for(const a of list){const d=document.createElement('div');d.className='alarm overdue';d.dataset.item=a.id;const t=document.createElement('span');
  t.textContent='⚠ '+T('物品逾期未还','item overdue')+' — '+a.label+' ('+a.code+') · '+(a.holder_masked||'')+' · '+T('应还','due')+' '+fmtTime(a.expected_back);
  const b=document.createElement('button');b.textContent=T('知道了','Acknowledge');
  b.onclick=async()=>{await fetch('/api/v1/custody-items/'+a.id+'/overdue/acknowledge',{method:'POST'});loadItemAlarms();};d.append(t,b);box.append(d);}}
loadItemAlarms();setInterval(loadItemAlarms,10000);
const out=document.getElementById('scan-result');
if(out)window.itemBack=text=>{let box=document.getElementById('item-return');
 if(!box){box=document.createElement('div');box.id='item-return';
  const lab=document.createElement('label');lab.append(T('状况','Condition')+' ');const sel=document.createElement('select');sel.id='item-condition';
  for(const [v,zh,en] of [['ok','完好','ok'],['damaged','损坏','damaged'],['missing_parts','缺件','missing parts']]){const o=document.createElement('option');o.value=v;o.textContent=T(zh,en);sel.append(o);}
  lab.append(sel);const note=document.createElement('input');note.id='item-note';note.placeholder=T('说明','Note');
  const by=document.createElement('input');by.id='item-received-by';by.placeholder=T('收回人（默认本人）','Taken back by (default: me)');
  const yes=document.createElement('button');yes.type='button';yes.id='item-return-yes';yes.textContent=T('确认收回','Take back');
  box.append(lab,' ',note,' ',by,' ',yes);out.before(box);}
 box.hidden=false;box.dataset.code=text;out.className='';out.textContent=T('物品 '+text+'：选择状况后确认','Item '+text+': pick its condition, then confirm');
 const c=document.getElementById('item-condition');c.value='ok';c.focus();
 document.getElementById('item-return-yes').onclick=async()=>{const body={code:box.dataset.code,condition:c.value,
   note:document.getElementById('item-note').value||null,received_by:document.getElementById('item-received-by').value||null};
  const r=await api('POST','/api/v1/custody-items/check-in',body);box.hidden=!r.ok;
  if(r.ok){out.className='ok';out.textContent='✔ '+T('已收回：','Taken back: ')+r.v.label+' ('+r.v.code+')';document.getElementById('item-note').value='';}
  else{out.className='err';const e=errText(r);out.textContent='✘ '+(Array.isArray(e)?e.join(' — '):e);}
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

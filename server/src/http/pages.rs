//! The front-desk web pages: server-rendered with maud (escaped by default), labelled in
//! Chinese and English, with their CSS and script in the binary (no CDN), served as
//! `/static/desk.css` and `/static/desk.js` because the pages' content security policy
//! allows no inline style or script. Forms post
//! JSON to the `/api/v1` endpoints with the session cookie, so the pages add no second way
//! to change state. Names, IDs and phones are masked.

use super::Endpoint;
use super::extract::ApiPath;
use super::renovations::{LedgerView, load_detail, read};
use crate::auth::Allow;
use crate::domain::card::{self, Outstanding};
use crate::domain::desk_error::DeskError;
use crate::domain::ledger::{Category, LedgerKind};
use crate::domain::renovation::{self, Document};
use crate::domain::{overstay, privacy, visitor};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/login", get(login))
            .allow(Allow::ANYONE)
            .doc("pages", "Front-desk log-in page"),
        Endpoint::new(Method::GET, "/", get(home))
            .allow(Allow::STAFF)
            .doc("pages", "Front-desk home (to the renovations page)"),
        Endpoint::new(Method::GET, "/desk/renovations", get(renovations))
            .allow(Allow::STAFF)
            .doc("pages", "Page: renovations and registration"),
        Endpoint::new(Method::GET, "/desk/renovations/{id}", get(renovation_page))
            .allow(Allow::STAFF)
            .doc(
                "pages",
                "Page: one renovation with workers, cards, ledger and refund checklist",
            ),
        Endpoint::new(Method::GET, "/desk/return", get(return_page))
            .allow(Allow::STAFF)
            .doc("pages", "Page: scan-to-return field for the desk scanner"),
        Endpoint::new(Method::GET, "/desk/visitors", get(visitors_page))
            .allow(Allow::STAFF)
            .doc("pages", "Page: visitors on site"),
        Endpoint::new(
            Method::GET,
            "/desk/cards/outstanding",
            get(outstanding_page),
        )
        .allow(Allow::STAFF)
        .doc("pages", "Page: outstanding and overdue worker cards"),
        Endpoint::new(
            Method::GET,
            "/desk/cards/outstanding.csv",
            get(outstanding_csv),
        )
        .allow(Allow::STAFF)
        .doc("pages", "CSV export of outstanding worker cards"),
        Endpoint::new(Method::GET, "/static/desk.css", get(desk_css))
            .allow(Allow::ANYONE)
            .doc("pages", "The front-desk pages' style sheet"),
        Endpoint::new(Method::GET, "/static/desk.js", get(desk_js))
            .allow(Allow::ANYONE)
            .doc("pages", "The front-desk pages' script"),
        Endpoint::new(Method::GET, "/desk/password", get(password_page))
            .allow(Allow::STAFF)
            .doc("pages", "Page: change one's own password"),
    ]
}

/// The pages' style sheet.
async fn desk_css() -> impl IntoResponse {
    static SHEET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sheet =
        SHEET.get_or_init(|| [CSS, super::emergency::CSS, super::muster::PRINT_CSS].concat());
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        sheet.as_str(),
    )
}

/// The pages' script: the form and alarm code every page uses, then each page's own part,
/// which acts only when its page's elements are present.
async fn desk_js() -> impl IntoResponse {
    static JS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let js = JS.get_or_init(|| {
        [
            SCRIPT,
            ALARMS_SCRIPT,
            LOGIN_SCRIPT,
            RETURN_SCRIPT,
            MUSTER_SCRIPT,
            OVERDUE_SCRIPT,
            // Last: it expects the emergency bar, which the log-in page does not have.
            super::emergency::SCRIPT,
        ]
        .concat()
    });
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        js.as_str(),
    )
}

/// The `<head>` links to the style sheet and the `<script>` at the end of every page.
fn stylesheet() -> Markup {
    html! { link rel="stylesheet" href="/static/desk.css"; }
}

fn script() -> Markup {
    html! { script src="/static/desk.js" {} }
}

/// The log-in page's form.
const LOGIN_SCRIPT: &str = r#"
{const lf=document.getElementById('login');if(lf&&lf.tagName==='FORM')lf.addEventListener('submit',async ev=>{ev.preventDefault();
 const r=await api('POST','/api/v1/auth/login',{username:document.getElementById('username').value,password:document.getElementById('password').value});
 if(r.ok)location='/desk/renovations';else flash(false,(r.v&&r.v.message)||'HTTP '+r.status);});}
"#;

/// The roll call page's print and refresh buttons.
const MUSTER_SCRIPT: &str = r#"
{const p=document.getElementById('print-muster'),r=document.getElementById('reload-muster');
if(p)p.addEventListener('click',()=>window.print());if(r)r.addEventListener('click',()=>location.reload());}
"#;

const CSS: &str = r#"
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;background:#f4f5f7;color:#1d1d1f}
nav{background:#1f3a5f;padding:.6em 1em}nav a{color:#fff;margin-right:1.4em;text-decoration:none;font-weight:600}
main{padding:1em 1.5em;max-width:1100px}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;background:#fff;width:100%}td,th{border:1px solid #d0d4da;padding:.35em .6em;text-align:left}
th{background:#e8ebef}.met{color:#0a7d32;font-weight:700}.unmet{color:#b3261e;font-weight:700}
form.inline{display:flex;flex-wrap:wrap;gap:.5em;align-items:end;background:#fff;padding:.6em;border:1px solid #d0d4da}
label{display:flex;flex-direction:column;font-size:.85em}input,select,button{font-size:1em;padding:.3em}
button{background:#1f3a5f;color:#fff;border:0;border-radius:4px;padding:.45em 1em;cursor:pointer}
#flash{padding:.6em;margin:.6em 0;display:none;font-weight:700}#flash.ok{display:block;background:#d9f5e1;color:#0a5d26}
#flash.err{display:block;background:#fde2e0;color:#8c1d18}
#scan{font-size:2em;width:100%;padding:.4em}#scan-result{font-size:2.4em;padding:1em;margin-top:.6em;text-align:center;font-weight:800}
#scan-result.ok{background:#0a7d32;color:#fff}#scan-result.err{background:#b3261e;color:#fff}
.cred{font-family:monospace;word-break:break-all;background:#fff8d6;padding:.5em}
#alarms div{background:#b3261e;color:#fff;padding:.5em 1em;font-weight:700;display:flex;gap:1em;align-items:center}
#alarms div.seen{background:#8a5a00}
#overdue-alarms div{background:#8a3a00;color:#fff;padding:.5em 1em;font-weight:700;display:flex;gap:1em;align-items:center}
#overdue-alarms button{background:#fff;color:#1d1d1f;margin-left:auto}#alarms div.cleared{background:#5f6368}#alarms button{background:#fff;color:#1d1d1f;margin-left:auto}
"#;

/// Shows the device alarms the desk has not yet seen (or whose cause lasts) at the top of every
/// page, refreshed every 10 s because the desk screen stays open all day; device text is put in
/// with `textContent`, never as HTML. Fire alarms are left to the emergency bar above it.
const ALARMS_SCRIPT: &str = r#"
const ALARM_WORDS={paper_out:'打印机缺纸 printer out of paper',paper_near_end:'打印纸即将用完 paper nearly used up',
 printer_offline:'打印机离线 printer offline',door_held_open:'门长时间未关 door held open',door_forced:'门被强行打开 door forced open',
 untrusted_clock:'门禁时钟不可信 gate clock not trusted',scanner_lost:'扫码器断开 scanner disconnected'};
async function loadAlarms(){const box=document.getElementById('alarms');if(!box)return;
 let r;try{r=await fetch('/api/v1/alarms');}catch(e){return;}if(!r.ok)return;const list=await r.json();box.replaceChildren();
 for(const a of list){if(a.kind==='fire_alarm')continue;const d=document.createElement('div');d.className='alarm'+(a.acknowledged_at?' seen':'')+(a.cleared_at?' cleared':'');
  d.dataset.kind=a.kind;const t=document.createElement('span');
  t.textContent='⚠ '+(ALARM_WORDS[a.kind]||a.kind)+' — '+a.device_name+' · '+new Date(a.raised_at).toLocaleString('zh-CN')+
   (a.repeats>1?' ×'+a.repeats:'')+(a.detail?' · '+a.detail:'')+(a.cleared_at?' (已恢复 resolved)':'')+(a.acknowledged_by?' (已知 seen: '+a.acknowledged_by+')':'');
  d.append(t);if(!a.acknowledged_at){const b=document.createElement('button');b.textContent='知道了 Acknowledge';
   b.onclick=async()=>{await fetch('/api/v1/alarms/'+a.id+'/acknowledge',{method:'POST'});loadAlarms();};d.append(b);}
  box.append(d);}}
loadAlarms();setInterval(loadAlarms,10000);
"#;

/// Posts a form's fields as JSON to its `data-api` with its `data-method`; numbers, booleans
/// and empty fields are typed by `data-type`; shows the answer's message; reloads on success
/// unless `data-stay`.
const SCRIPT: &str = r#"
function flash(ok,msg){const f=document.getElementById('flash');f.className=ok?'ok':'err';f.textContent=msg;}
async function api(method,url,body){const r=await fetch(url,{method,headers:{'content-type':'application/json'},body:body===undefined?undefined:JSON.stringify(body)});
 let v=null;try{v=await r.json();}catch(e){}return {ok:r.ok,status:r.status,v};}
document.addEventListener('submit',async ev=>{const f=ev.target;if(!f.dataset.api)return;ev.preventDefault();
 const body={};for(const el of f.elements){if(!el.name)continue;let v=el.type==='checkbox'?el.checked:el.value;
  if(el.dataset.type==='int')v=v===''?null:parseInt(v,10);if(el.dataset.type==='cents')v=v===''?null:Math.round(parseFloat(v)*100);
  if(el.dataset.type==='opt'&&v==='')continue;body[el.name]=v;}
 const r=await api(f.dataset.method||'POST',f.dataset.api,body);
 if(r.ok){if(f.dataset.show&&r.v){flash(true,f.dataset.show+': '+(r.v.credential||JSON.stringify(r.v)));return;}
  if(f.dataset.go&&r.v&&r.v.id!==undefined){location=f.dataset.go+r.v.id;return;}location.reload();}
 else flash(false,(r.v&&r.v.message)||('HTTP '+r.status));});
"#;

/// A desk page: navigation, the emergency bar, alarms, then `body`.
pub(crate) fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                title { (title) " — Gatehouse 物业前台" }
                (stylesheet())
            }
            body {
                nav {
                    a href="/desk/renovations" { "装修备案 Renovations" }
                    a href="/desk/return" { "扫码交卡 Return cards" }
                    a href="/desk/visitors" { "在场访客 Visitors on site" }
                    a href="/desk/cards/outstanding" { "未还卡 Outstanding cards" }
                    a href="/desk/muster" { "点名 Roll call" }
                    a href="/desk/password" { "修改密码 Password" }
                }
                (super::emergency::desk_bar())
                div #alarms {}
                main {
                    h1 { (title) }
                    div #flash {}
                    (body)
                }
                (script())
            }
        }
    }
}

/// Adds overdue worker cards to the alarm banner, each once until acknowledged, with the
/// contractor's phone to call.
const OVERDUE_SCRIPT: &str = r#"
async function loadOverdue(){let box=document.getElementById('overdue-alarms');
 if(!box){const top=document.getElementById('alarms');if(!top)return;box=document.createElement('div');box.id='overdue-alarms';top.after(box);}
 let r;try{r=await fetch('/api/v1/cards/overdue-alarms');}catch(e){return;}if(!r.ok)return;const list=await r.json();
 box.replaceChildren();
 for(const a of list){const d=document.createElement('div');d.className='alarm overdue';d.dataset.card=a.card_id;const t=document.createElement('span');
  t.textContent='⚠ 逾期未还卡 card overdue — #'+a.card_id+' '+a.holder_masked+' · '+a.renovation_code+' '+a.unit_label+' · 完工 ended '+a.renovation_end+
   ' · '+(a.contractor||'')+' '+(a.contact_phone||'');
  const b=document.createElement('button');b.textContent='知道了 Acknowledge';
  b.onclick=async()=>{await fetch('/api/v1/cards/'+a.card_id+'/overdue/acknowledge',{method:'POST'});loadOverdue();};d.append(t,b);box.append(d);}}
loadOverdue();setInterval(loadOverdue,10000);
"#;

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn cents(c: i64) -> String {
    format!("¥{}.{:02}", c / 100, (c % 100).abs())
}

async fn login() -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head { meta charset="utf-8"; title { "登录 Log in — Gatehouse" } (stylesheet()) }
            body {
                main {
                    h1 { "物业前台登录 Front desk log in" }
                    div #flash {}
                    form #login class="inline" {
                        label { "用户名 Username" input name="username" #username autocomplete="username" required; }
                        label { "密码 Password" input name="password" #password type="password" autocomplete="current-password" required; }
                        button type="submit" #login-button { "登录 Log in" }
                    }
                }
                (script())
            }
        }
    }
}

async fn home() -> Redirect {
    Redirect::to("/desk/renovations")
}

async fn renovations(State(state): State<AppState>) -> Result<Markup, DeskError> {
    let (list, units) = read(&state, |c| {
        Ok((
            renovation::list(c)?,
            crate::domain::desk_settings::units(c)?,
        ))
    })
    .await?;
    Ok(page(
        "装修备案 Renovations",
        html! {
            h2 { "登记装修 Register a renovation" }
            form.inline #register data-api="/api/v1/renovations" data-go="/desk/renovations/" {
                label { "房号 Unit" select name="unit_id" data-type="int" { @for u in &units { option value=(u.id) { (u.label) } } } }
                label { "业主 Owner" input name="owner_name" required; }
                label { "施工单位 Contractor" input name="contractor" required; }
                label { "现场负责人 Supervisor" input name="supervisor_name" required; }
                label { "负责人电话 Supervisor phone" input name="supervisor_phone" required; }
                label { "开工 Start" input name="start_date" type="date" required; }
                label { "完工 End (≤ 3 个月 months)" input name="end_date" type="date" required; }
                label { "破坏防水 Waterproofing" input name="waterproofing" type="checkbox"; }
                button type="submit" { "登记 Register" }
            }
            h2 { "全部装修 All renovations" }
            table #renovations {
                tr { th { "编号 Code" } th { "房号 Unit" } th { "业主 Owner" } th { "期限 Period" } th { "状态 Status" } }
                @for r in &list {
                    tr {
                        td { a href={ "/desk/renovations/" (r.id) } { (r.code) } }
                        td { (r.unit.label) }
                        td { (r.owner_name.as_deref().map(privacy::mask_name).unwrap_or_default()) }
                        td { (r.start_date) " → " (r.end_date) @if r.end_date != r.original_end_date { " (延期至 extended to " (r.end_date) ")" } }
                        td { (format!("{:?}", r.status).to_lowercase()) }
                    }
                }
            }
        },
    ))
}

async fn renovation_page(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Markup, DeskError> {
    let now = state.now();
    let d = read(&state, move |c| load_detail(c, id, now)).await?;
    let r = &d.renovation;
    let api = format!("/api/v1/renovations/{id}");
    Ok(page(
        &format!("装修 Renovation {} · {}", r.code, r.unit.label),
        html! {
            table {
                tr { th { "业主 Owner" } td { (r.owner_name.as_deref().map(privacy::mask_name).unwrap_or_default()) } }
                tr { th { "施工单位 Contractor" } td { (r.contractor.clone().unwrap_or_default()) } }
                tr { th { "现场负责人 Supervisor" } td { (r.supervisor_name.as_deref().map(privacy::mask_name).unwrap_or_default()) " "
                    (r.supervisor_phone.as_deref().map(privacy::mask_phone).unwrap_or_default()) } }
                tr { th { "期限 Period" } td { (r.start_date) " → " (r.end_date)
                    @if r.end_date != r.original_end_date { " · 延期至 extended to " (r.end_date) " (原 originally " (r.original_end_date) ")" } } }
                tr { th { "状态 Status" } td #status { (format!("{:?}", r.status).to_lowercase()) } }
                tr { th { "自助取卡码 Kiosk code" } td { strong { (r.code) } } }
            }

            h2 { "退还保证金核对 Refund checklist" }
            table #refund-check {
                tr { th { "规则 Rule" } th { "结果 Result" } th { "原因 Reason" } }
                @for rule in &d.refund_check {
                    tr data-rule=(format!("{:?}", rule.rule)) {
                        td { (rule.title_zh) br; (rule.title) }
                        @if rule.met { td.met { "✔ 满足 met" } } @else { td.unmet { "✘ 未满足 unmet" } }
                        td { (rule.reason) }
                    }
                }
            }
            form.inline data-api={ (api) "/refund" } { button type="submit" #refund { "退还保证金 Refund deposit" } }

            h2 { "施工人员与出入卡 Workers and cards" }
            table #workers {
                tr { th { "人员 Worker" } th { "电话 Phone" } th { "身份证 ID" } th { "卡 Cards" } th {} }
                @for w in &d.workers {
                    tr {
                        td { (w.name_masked) } td { (w.phone_masked) } td { (privacy::mask_id_last4(&w.id_last4)) }
                        td { @for c in d.cards.iter().filter(|c| c.worker_id == Some(w.id)) {
                            span.card data-card=(c.card_id) { "#" (c.card_id) " " (c.state.as_str()) " (至 until " (local(c.not_after)) ")" } br;
                        } }
                        td { form.inline data-api={ "/api/v1/workers/" (w.id) "/card" } data-show="卡 Card" { button type="submit" { "发卡 Issue card" } } }
                    }
                }
            }
            @for c in d.cards.iter().filter(|c| c.state == crate::domain::refund::CardState::Active) {
                form.inline data-api={ "/api/v1/cards/" (c.card_id) "/lost" } { "#" (c.card_id) " "
                    label { "补卡费 Fee (¥)" input name="fee_cents" data-type="cents" value="50"; }
                    button type="submit" { "挂失 Declare lost" } }
            }
            form.inline data-api={ (api) "/workers" } {
                label { "姓名 Name" input name="name" required; }
                label { "电话 Phone" input name="phone" required; }
                label { "身份证号 ID number" input name="id_number" required autocomplete="off"; }
                button type="submit" { "登记人员 Add worker" }
            }

            h2 { "延期 Extension" }
            form.inline data-api={ (api) "/extensions" } {
                label { "新完工日期 New end (≤ 当前 + 3 个月 current + 3 months)" input name="new_end_date" type="date" required; }
                button type="submit" { "批准延期 Approve extension" }
            }
            @for e in &d.extensions { p { (e.previous_end) " → " (e.new_end) " · " (e.approved_by) " · " (e.at) } }

            h2 { "资料清单 Document checklist" }
            form.inline data-api={ (api) "/documents" } data-method="PUT" {
                @for doc in r.required_documents() {
                    label { (doc.title_zh()) " " (doc.title())
                        input type="checkbox" name=(doc_key(doc)) checked[r.documents.get(&doc).copied().unwrap_or(false)]; }
                }
                button type="submit" { "保存 Save" }
            }

            h2 { "核查与入住 Inspection and occupancy" }
            form.inline data-api={ (api) "/progress" } data-method="PUT" {
                label { "核查通过 Inspection passed" input name="inspection_passed_on" type="date" data-type="opt" value=[r.inspection_passed_on]; }
                label { "入住 Occupied on" input name="occupied_on" type="date" data-type="opt" value=[r.occupied_on]; }
                label { "楼下业主签字 Downstairs signed off" input type="checkbox" name="downstairs_signed_off" checked[r.downstairs_signed_off]; }
                label { "登记证原件 Certificate presented" input type="checkbox" name="certificate_presented" checked[r.certificate_presented]; }
                label { "保证金收据 Receipt presented" input type="checkbox" name="receipt_presented" checked[r.receipt_presented]; }
                label { "更正原因 Reason for a correction (经理 manager)" input name="reason" data-type="opt"; }
                button type="submit" { "保存 Save" }
            }

            h2 { "保证金台账 Deposit ledger" }
            (ledger_table(&d.ledger))
            form.inline data-api={ (api) "/ledger" } {
                label { "类别 Kind" select name="kind" {
                    option value="deposit" { "装修保证金 Deposit" } option value="rubbish_fee" { "垃圾清运费 Rubbish fee" }
                    option value="deduction" { "扣款 Deduction" } } }
                label { "扣款项目 Deduction for" select name="category" data-type="opt" {
                    option value="" { "—" }
                    @for c in [Category::Damage, Category::Cleaning, Category::Violation, Category::LostCard, Category::Other] {
                        option value=(c.as_str()) { (c.words()) } } } }
                label { "卡号 Card (补卡费 lost card fee)" input name="card_id" data-type="int"; }
                label { "金额 Amount (¥)" input name="amount_cents" data-type="cents" required; }
                label { "收据号 Receipt no." input name="receipt_no" data-type="opt"; }
                label { "说明 Note" input name="note"; }
                button type="submit" { "记账 Record" }
            }
        },
    ))
}

/// Changing one's own password; the answer carries a fresh session, so the page reloads
/// logged in.
async fn password_page() -> Markup {
    page(
        "修改密码 Change password",
        html! {
            p { "新密码至少 10 个字符，不能是常见密码。修改后其他设备上的登录会退出。 At least 10 characters, not a common password. Other sessions of your account end." }
            form #change-password class="inline" data-api="/api/v1/auth/password" {
                label { "当前密码 Current password" input name="current_password" type="password" autocomplete="current-password" required; }
                label { "新密码 New password" input name="new_password" type="password" autocomplete="new-password" minlength="10" required; }
                button type="submit" { "修改 Change" }
            }
        },
    )
}

/// Every ledger line and the totals: what the refund slip shows.
fn ledger_table(l: &LedgerView) -> Markup {
    html! {
        table #ledger {
            tr { th { "#" } th { "类别 Kind" } th { "项目 For" } th { "金额 Amount" } th { "收据 Receipt" } th { "说明 Note" } th { "经办 By" } th { "时间 At" } }
            @for x in &l.lines {
                tr data-kind=(x.kind.as_str()) {
                    td { (x.id) } td { (x.kind.words()) }
                    td { (x.category.map(Category::words).unwrap_or_default())
                         @if let Some(c) = x.card_id { " · 卡 card #" (c) }
                         @if let Some(r) = x.reverses { " · 冲回 reverses #" (r) } }
                    td { @if matches!(x.kind, LedgerKind::Deduction | LedgerKind::Refund) { "−" } (cents(x.amount_cents)) }
                    td { (x.receipt_no.clone().unwrap_or_default()) } td { (x.note) }
                    td { (x.by) @if let Some(a) = &x.approved_by { " · 批准 approved: " (a) } } td { (x.at) }
                }
            }
            tr #refundable { th colspan="3" { "可退 Refundable" } td colspan="5" { (cents(l.refundable_cents)) " = " (cents(l.deposit_cents))
                " − " (cents(l.deductions_cents)) " + " (cents(l.reversals_cents)) } }
            @if l.owed_cents > 0 { tr #owed { th colspan="3" { "业主应补 Owed by the owner" } td.unmet colspan="5" { (cents(l.owed_cents)) } } }
        }
    }
}

fn doc_key(d: Document) -> String {
    serde_json::to_value(d)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

async fn return_page() -> Markup {
    page(
        "扫码交卡 Return cards",
        html! {
            p { "将卡放到扫码器下；每扫一次交回一张卡。二维码损坏时，输入卡上的编号或卡号并按回车，核对持卡人后确认。" br;
                "Hold the card under the desk scanner: one scan returns one card. If the QR code is damaged, type the code printed after 编号 No. (or the card number) and press Enter, check the holder, then confirm." }
            input #scan autofocus autocomplete="off" placeholder="扫码或输入编号 Scan, or type the number…";
            div #return-confirm hidden {
                p #return-card {}
                button #return-yes type="button" { "确认交回 Confirm return" }
                " "
                button #return-no type="button" { "取消 Cancel" }
            }
            div #scan-result {}
        },
    )
}

/// The return page: a scan (credential-length text) is returned at once; a typed number or
/// printed code is looked up first and returned only after the clerk confirms the holder.
const RETURN_SCRIPT: &str = r#"
{const scan=document.getElementById('scan'),out=document.getElementById('scan-result'),box=document.getElementById('return-confirm'),
 who=document.getElementById('return-card');let pending=null;
if(scan&&out&&box&&who){
function beep(ok){try{const a=new AudioContext(),o=a.createOscillator(),g=a.createGain();o.frequency.value=ok?880:220;o.type=ok?'sine':'square';
 g.gain.value=0.6;o.connect(g);g.connect(a.destination);o.start();o.stop(a.currentTime+(ok?0.2:0.7));}catch(e){}}
function fail(r){out.className='err';out.textContent='✘ '+((r.v&&r.v.message)||('HTTP '+r.status));beep(false);scan.focus();}
const WAS={revoked:'已停用 was revoked',lost:'已挂失 was declared lost',reissued:'已补打 was superseded by a reprint'};
async function giveBack(body){box.hidden=true;pending=null;const r=await api('POST','/api/v1/cards/return',body);if(!r.ok)return fail(r);
 const c=r.v;let t='✔ 卡 #'+c.card_id+' 已交回 Card #'+c.card_id+' returned';if(WAS[c.was])t+=' ('+WAS[c.was]+')';
 if(c.fee_reversed_cents)t+=' · 补卡费已冲回 fee reversed ¥'+(c.fee_reversed_cents/100).toFixed(2);
 out.className='ok';out.textContent=t;beep(true);scan.focus();}
scan.addEventListener('keydown',async ev=>{if(ev.key!=='Enter')return;ev.preventDefault();const text=scan.value.trim();scan.value='';if(!text)return;
 if(text.length>16)return giveBack({credential:text});
 const r=await api('GET','/api/v1/cards/lookup?q='+encodeURIComponent(text));if(!r.ok)return fail(r);const c=r.v;pending=c.card_id;
 who.textContent='卡 Card #'+c.card_id+' · 编号 No. '+c.short_id+' · '+c.holder_masked+' · '+(c.renovation_code?'装修 renovation '+c.renovation_code+' · ':'')+
  c.unit_label+' · '+c.state;
 out.className='';out.textContent='';box.hidden=false;document.getElementById('return-yes').focus();});
document.getElementById('return-yes').addEventListener('click',()=>{if(pending!==null)giveBack({card_id:pending});});
document.getElementById('return-no').addEventListener('click',()=>{box.hidden=true;pending=null;scan.focus();});
}}
"#;

async fn visitors_page(State(state): State<AppState>) -> Result<Markup, DeskError> {
    let now = state.now();
    let grace = state.config.overstay_grace;
    let (list, overstays) = read(&state, move |c| {
        Ok((visitor::on_site(c, now)?, overstay::list(c, grace)?))
    })
    .await?;
    Ok(page(
        "在场访客 Visitors on site",
        html! {
            p { (list.len()) " 位访客在场 visitor(s) on site" }
            table #on-site {
                tr { th { "访客 Visitor" } th { "房号 Unit" } th { "被访人 Host" } th { "事由 Purpose" } th { "人数 Party" } th { "登记 Registered" } th { "有效至 Until" } th {} }
                @for v in &list {
                    tr {
                        td { (v.name_masked) } td { (v.unit_label) } td { (v.host_masked.clone().unwrap_or_default()) } td { (v.purpose) }
                        td { (v.party_size) } td { (local(v.registered_at)) } td { (local(v.not_after)) }
                        td { form.inline data-api={ "/api/v1/visitors/cards/" (v.card_id) "/sign-out" } { button type="submit" { "签离 Sign out" } } }
                    }
                }
            }
            h2 { "超时未签离 Overstays (pass ended, not signed out)" }
            p { "通行证到期后 " (grace.num_minutes()) " 分钟自动签离。 Signed out automatically " (grace.num_minutes()) " minutes after the pass ends." }
            table #overstays {
                tr { th { "访客 Visitor" } th { "房号 Unit" } th { "被访人 Host" } th { "到期 Ended" } th { "自动签离 Auto sign-out" } th {} }
                @for o in &overstays {
                    tr data-card=(o.card_id) {
                        td { (o.name_masked) } td { (o.unit_label) } td { (o.host_masked.clone().unwrap_or_default()) }
                        td.unmet { (local(o.not_after)) } td { (local(o.sign_out_at)) }
                        td { form.inline data-api={ "/api/v1/visitors/cards/" (o.card_id) "/sign-out" } { button type="submit" { "签离 Sign out" } } }
                    }
                }
            }
        },
    ))
}

async fn outstanding_page(State(state): State<AppState>) -> Result<Markup, DeskError> {
    let now = state.now();
    let list = read(&state, move |c| card::outstanding(c, now)).await?;
    Ok(page(
        "未还卡 Outstanding cards",
        html! {
            p { a href="/desk/cards/outstanding.csv" { "导出 CSV Export CSV" } }
            table #outstanding {
                tr { th { "卡 Card" } th { "装修 Renovation" } th { "房号 Unit" } th { "持卡人 Holder" } th { "状态 State" } th { "完工 Ends" } th { "逾期 Overdue" } th { "施工单位电话 Contractor phone" } }
                @for o in &list {
                    tr data-card=(o.card.card_id) {
                        td { "#" (o.card.card_id) } td { a href={ "/desk/renovations/" (o.renovation_id) } { (o.renovation_code) } }
                        td { (o.unit_label) } td { (o.holder_masked) } td { (o.card.state.words()) } td { (o.renovation_end) }
                        @if o.overdue { td.unmet { "逾期 overdue" } } @else { td { "—" } }
                        td { (o.contractor.clone().unwrap_or_default()) " " (o.contact_phone.clone().unwrap_or_default()) }
                    }
                }
            }
        },
    ))
}

/// The outstanding cards as CSV (masked names).
pub fn outstanding_to_csv(list: &[Outstanding]) -> String {
    let mut out =
        String::from("card_id,renovation_code,unit,holder,state,not_after_utc,overdue\r\n");
    for o in list {
        let row = [
            o.card.card_id.to_string(),
            o.renovation_code.clone(),
            o.unit_label.clone(),
            o.holder_masked.clone(),
            o.card.state.as_str().to_owned(),
            o.card.not_after.to_rfc3339(),
            o.overdue.to_string(),
        ];
        out.push_str(
            &row.iter()
                .map(|f| crate::csv::field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    out
}

async fn outstanding_csv(State(state): State<AppState>) -> Result<Response, DeskError> {
    let now = state.now();
    let list = read(&state, move |c| card::outstanding(c, now)).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"outstanding-cards.csv\"",
            ),
        ],
        outstanding_to_csv(&list),
    )
        .into_response())
}

//! The guard page (`/guard`, phone or tablet size): the goods-release permit just scanned at a
//! gate, live (a long poll answered the moment a gate reports the scan), with large Release
//! and Refuse buttons, and a field for a handheld wedge scanner or a typed permit number.

use super::Endpoint;
use super::extract::{ApiJson, ApiQuery};
use super::openapi;
use super::renovations::{read, write};
use crate::auth::Allow;
use crate::domain::desk_error::DeskError;
use crate::domain::goods::{self, Scan};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use std::time::Duration;

/// The longest the guard page's long poll is held.
pub const MAX_WAIT_MS: u64 = 30_000;

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/guard", get(guard_page))
            .allow(Allow::ANY_STAFF)
            .doc(
                "pages",
                "Page: the guard's goods check (phone or tablet size)",
            ),
        Endpoint::new(Method::GET, "/api/v1/guard/scans", get(scans))
            .allow(Allow::ANY_STAFF)
            .doc(
                "goods",
                "Permit scans after a number (long poll): what the guard page shows",
            )
            .io(openapi::Io::ok(openapi::list::<crate::domain::goods::Scan>)
                .params(&[openapi::params::<ScansQuery>])),
        Endpoint::new(Method::POST, "/api/v1/guard/scans", post(hand_scan))
            .allow(Allow::ANY_STAFF)
            .doc(
                "goods",
                "A handheld scan or a typed permit number at the guard page",
            )
            .io(openapi::Io::ok(openapi::one::<crate::domain::goods::Scan>)
                .body(openapi::one::<HandScan>)),
    ]
}

/// `?after=N&wait_ms=M`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScansQuery {
    /// The last scan number the page has shown (0: from the start).
    #[serde(default)]
    pub after: i64,
    /// How long to wait when nothing is new (0 = answer at once; at most 30 000).
    #[serde(default)]
    pub wait_ms: u64,
}

async fn scans(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ScansQuery>,
) -> Result<Json<Vec<Scan>>, DeskError> {
    // Subscribe before reading, so a scan stored between the read and the wait still wakes us.
    let mut fed = state.goods_feed.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(q.wait_ms.min(MAX_WAIT_MS));
    let mut shutdown = state.shutdown.clone();
    loop {
        fed.borrow_and_update();
        let now = state.now();
        let after = q.after;
        let found = read(&state, move |c| goods::scans_after(c, after, now)).await?;
        if !found.is_empty() || tokio::time::Instant::now() >= deadline {
            return Ok(Json(found));
        }
        let woke = tokio::select! {
            r = fed.changed() => r.is_ok(),
            () = tokio::time::sleep_until(deadline) => false,
            _ = shutdown.wait_for(|down| *down) => false,
        };
        if !woke {
            return Ok(Json(Vec::new()));
        }
    }
}

/// What the handheld scanner read, or the typed permit number.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct HandScan {
    /// The scanned credential text or the permit number.
    pub text: String,
}

async fn hand_scan(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<HandScan>,
) -> Result<Json<Scan>, DeskError> {
    let now = state.now();
    let signer = state.signer.clone();
    let scan = write(&state, move |tx| {
        goods::hand_scan(tx, &signer, &body.text, now)
    })
    .await?;
    state.goods_feed.send_modify(|n| *n += 1);
    Ok(Json(scan))
}

async fn guard_page(State(state): State<AppState>) -> Result<Markup, DeskError> {
    let last = read(&state, goods::last_scan).await?;
    Ok(html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "门岗 Guard — Gatehouse" }
                link rel="stylesheet" href="/static/desk.css";
            }
            body.guard {
                main #guard data-after=(last) {
                    h1 { "物品放行 Goods release" }
                    input #guard-scan autocomplete="off" placeholder="扫码或输入放行单号 Scan, or type the permit number…";
                    div #flash {}
                    div #guard-waiting { "等待扫码… Waiting for a permit to be scanned…" }
                    section #guard-permit hidden {
                        div #guard-verdict {}
                        dl {
                            dt { "门岗 Gate" } dd #guard-gate {}
                            dt { "编号 Permit" } dd #guard-no {}
                            dt { "房号 Unit" } dd #guard-unit {}
                            dt { "申请人 Applicant" } dd #guard-applicant {}
                            dt { "物品 Items" } dd { ul #guard-items {} }
                            dt { "车牌 Plate" } dd #guard-plate {}
                            dt { "有效期 Valid" } dd #guard-valid {}
                            dt { "备注 Notes" } dd #guard-notes {}
                        }
                        div #guard-actions {
                            button #guard-release type="button" { "放行 Release" }
                            input #guard-reason placeholder="拦下原因 Reason for refusing";
                            button #guard-refuse type="button" { "拦下 Refuse" }
                        }
                    }
                }
                script src="/static/desk.js" {}
            }
        }
    })
}

/// The guard page: waits for scans (long poll), shows the newest, sends the guard's answer.
/// Everything from the server goes in with `textContent`, never as HTML.
pub const SCRIPT: &str = r#"
{const g=document.getElementById('guard');if(g){let after=parseInt(g.dataset.after,10)||0,cur=null;
const $=id=>document.getElementById(id),sec=$('guard-permit'),verdict=$('guard-verdict'),field=$('guard-scan');
function show(s){cur=s;const p=s.permit;$('guard-waiting').hidden=true;sec.hidden=false;
 $('guard-gate').textContent=(s.gate||'手持扫码 handheld')+' · '+new Date(s.at).toLocaleTimeString('zh-CN');
 $('guard-no').textContent=p.id;$('guard-unit').textContent=p.unit_label;
 $('guard-applicant').textContent=(p.applicant==='tenant'?'租户 tenant ':'业主 owner ')+p.applicant_masked;
 const ul=$('guard-items');ul.replaceChildren();for(const i of p.items){const li=document.createElement('li');li.textContent=i.description+' × '+i.count;ul.append(li);}
 $('guard-plate').textContent=p.plate||'—';$('guard-valid').textContent=p.valid_from+' → '+p.valid_to;$('guard-notes').textContent=p.notes||'—';
 verdict.className=s.verdict.ok?'ok':'err';verdict.dataset.code=s.verdict.code;verdict.textContent=(s.verdict.ok?'✔ ':'✘ ')+s.verdict.message;
 $('guard-actions').hidden=!s.verdict.ok;}
async function poll(){for(;;){let r=null;try{r=await fetch('/api/v1/guard/scans?after='+after+'&wait_ms=25000');}catch(e){}
 if(!r||!r.ok){await new Promise(ok=>setTimeout(ok,2000));continue;}const list=await r.json();
 if(list.length){after=Math.max(after,list[0].scan_id);show(list[0]);}}}
poll();
field.addEventListener('keydown',async ev=>{if(ev.key!=='Enter')return;ev.preventDefault();const text=field.value.trim();field.value='';if(!text)return;
 const r=await api('POST','/api/v1/guard/scans',{text});if(!r.ok){flash(false,(r.v&&r.v.message)||('HTTP '+r.status));return;}
 after=Math.max(after,r.v.scan_id);flash(true,'');show(r.v);});
async function decide(release){if(!cur)return;const reason=$('guard-reason').value.trim();
 if(!release&&!reason){flash(false,'请填写拦下原因 Say why the goods are refused');$('guard-reason').focus();return;}
 const r=await api('POST','/api/v1/goods-permits/'+cur.permit.id+'/guard',{scan_id:cur.scan_id,release,reason:reason||null});
 if(!r.ok){flash(false,(r.v&&r.v.message)||('HTTP '+r.status));return;}$('guard-reason').value='';
 verdict.className=release?'done':'err';verdict.dataset.code=r.v.state;
 verdict.textContent=release?'✔ 已放行 Released: '+r.v.closed_by:'✘ 已拦下 Refused: '+(r.v.stop_reason||'');$('guard-actions').hidden=true;field.focus();}
$('guard-release').addEventListener('click',()=>decide(true));$('guard-refuse').addEventListener('click',()=>decide(false));}}
"#;

/// Phone-sized, large touch targets.
pub const CSS: &str = r#"
body.guard main{max-width:40em;margin:0 auto;padding:.6em}body.guard h1{font-size:1.3em}
#guard-scan{font-size:1.4em;width:100%;box-sizing:border-box;padding:.4em}#guard-waiting{color:#5f6368;margin:1em 0}
#guard-verdict{font-size:1.5em;font-weight:800;padding:.6em;margin:.6em 0;text-align:center}
#guard-verdict.ok{background:#0a7d32;color:#fff}#guard-verdict.err{background:#b3261e;color:#fff}#guard-verdict.done{background:#1f3a5f;color:#fff}
#guard-permit dl{display:grid;grid-template-columns:auto 1fr;gap:.3em .8em;font-size:1.15em}#guard-permit dt{font-weight:700}#guard-permit dd{margin:0}
#guard-actions{display:flex;flex-direction:column;gap:.6em;margin-top:1em}#guard-actions[hidden]{display:none}
#guard-release,#guard-refuse{font-size:1.6em;padding:.8em;font-weight:800}#guard-release{background:#0a7d32}#guard-refuse{background:#b3261e}
#guard-reason{font-size:1.2em;padding:.4em}
"#;

//! The guard page (`/guard`, phone or tablet size): the goods-release permit just scanned at a
//! gate, live (the long poll of [`crate::http::guard`]), with large Release and Refuse
//! buttons, and a field for a handheld wedge scanner or a typed permit number.

use super::Viewer;
use crate::auth::Allow;
use crate::domain::desk_error::DeskError;
use crate::domain::goods;
use crate::http::Endpoint;
use crate::http::renovations::read;
use crate::state::AppState;
use axum::extract::State;
use axum::http::Method;
use axum::routing::get;
use maud::{Markup, html};

/// This page's endpoint.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/guard", get(guard_page))
            .allow(Allow::ANY_STAFF)
            .doc(
                "pages",
                "Page: the guard's goods check (phone or tablet size)",
            ),
    ]
}

async fn guard_page(v: Viewer, State(state): State<AppState>) -> Result<Markup, DeskError> {
    let last = read(&state, goods::last_scan).await?;
    Ok(v.page(
        v.t("物品放行", "Goods release"),
        html! {
            div #guard data-after=(last) {
                input #guard-scan autocomplete="off"
                    placeholder=(v.t("扫码或输入放行单号…", "Scan, or type the permit number…"));
                div #guard-waiting { (v.t("等待扫码…", "Waiting for a permit to be scanned…")) }
                section #guard-permit hidden {
                    div #guard-verdict {}
                    dl {
                        dt { (v.t("门岗", "Gate")) } dd #guard-gate {}
                        dt { (v.t("编号", "Permit")) } dd #guard-no {}
                        dt { (v.t("房号", "Unit")) } dd #guard-unit {}
                        dt { (v.t("申请人", "Applicant")) } dd #guard-applicant {}
                        dt { (v.t("物品", "Items")) } dd { ul #guard-items {} }
                        dt { (v.t("车牌", "Plate")) } dd #guard-plate {}
                        dt { (v.t("有效期", "Valid")) } dd #guard-valid {}
                        dt { (v.t("备注", "Notes")) } dd #guard-notes {}
                    }
                    div #guard-actions {
                        button #guard-release type="button" { (v.t("放行", "Release")) }
                        input #guard-reason placeholder=(v.t("拦下原因", "Reason for refusing"));
                        button #guard-refuse type="button" { (v.t("拦下", "Refuse")) }
                    }
                }
            }
        },
    ))
}

/// The guard page: waits for scans (long poll), shows the newest in the page's language,
/// sends the guard's answer. Everything from the server goes in with `textContent`.
pub const SCRIPT: &str = r#"
{const g=document.getElementById('guard');if(g){let after=parseInt(g.dataset.after,10)||0,cur=null;
const $=id=>document.getElementById(id),sec=$('guard-permit'),verdict=$('guard-verdict'),field=$('guard-scan');
function used(p){const at=fmtTime(p.closed_at),gate=p.closed_gate||T('手持扫码','handheld'),by=p.closed_by||'';
 return p.state==='stopped'?T('已于 '+at+' 在 '+gate+' 由 '+by+' 拦下：','already stopped at '+at+' at '+gate+' by '+by+': ')+(p.stop_reason||'')
  :T('已于 '+at+' 在 '+gate+' 由 '+by+' 放行','already released at '+at+' at '+gate+' by '+by);}
function verdictWords(v,p){switch(v.code){case 'ok':return T('有效，请核对物品','Valid: check the goods');
 case 'already_released':case 'already_stopped':return used(p);case 'permit_refused':return T('未获批准','The permit was refused');
 case 'permit_not_approved':return T('尚未批准','Not approved yet');case 'not_yet_valid':return T('未到有效期，自 ','Valid only from ')+fmtDate(p.valid_from);
 case 'expired':return T('已过期：','Expired on ')+fmtDate(p.valid_to);default:return v.message;}}
function show(s){cur=s;const p=s.permit;$('guard-waiting').hidden=true;sec.hidden=false;
 $('guard-gate').textContent=(s.gate||T('手持扫码','handheld'))+' · '+fmtTime(s.at);
 $('guard-no').textContent=p.id;$('guard-unit').textContent=p.unit_label;
 $('guard-applicant').textContent=(p.applicant==='tenant'?T('租户','tenant'):T('业主','owner'))+' '+p.applicant_masked;
 const ul=$('guard-items');ul.replaceChildren();for(const i of p.items){const li=document.createElement('li');li.textContent=i.description+' × '+i.count;ul.append(li);}
 $('guard-plate').textContent=p.plate||'—';$('guard-valid').textContent=fmtDate(p.valid_from)+' → '+fmtDate(p.valid_to);$('guard-notes').textContent=p.notes||'—';
 verdict.className=s.verdict.ok?'ok':'err';verdict.dataset.code=s.verdict.code;verdict.textContent=(s.verdict.ok?'✔ ':'✘ ')+verdictWords(s.verdict,p);
 $('guard-actions').hidden=!s.verdict.ok;}
async function poll(){for(;;){let r=null;try{r=await fetch('/api/v1/guard/scans?after='+after+'&wait_ms=25000');}catch(e){}
 if(!r||!r.ok){await new Promise(ok=>setTimeout(ok,2000));continue;}const list=await r.json();
 if(list.length){after=Math.max(after,list[0].scan_id);show(list[0]);}}}
poll();
field.addEventListener('keydown',async ev=>{if(ev.key!=='Enter')return;ev.preventDefault();const text=field.value.trim();field.value='';if(!text)return;
 const r=await api('POST','/api/v1/guard/scans',{text});if(!r.ok){flash(false,errText(r));return;}
 after=Math.max(after,r.v.scan_id);show(r.v);});
async function decide(release){if(!cur)return;const reason=$('guard-reason').value.trim();
 if(!release&&!reason){flash(false,T('请填写拦下原因','Say why the goods are refused'));$('guard-reason').focus();return;}
 const r=await api('POST','/api/v1/goods-permits/'+cur.permit.id+'/guard',{scan_id:cur.scan_id,release,reason:reason||null});
 if(!r.ok){flash(false,errText(r));return;}$('guard-reason').value='';
 verdict.className=release?'done':'err';verdict.dataset.code=r.v.state;
 verdict.textContent=release?'✔ '+T('已放行：','Released: ')+r.v.closed_by:'✘ '+T('已拦下：','Refused: ')+(r.v.stop_reason||'');$('guard-actions').hidden=true;field.focus();}
$('guard-release').addEventListener('click',()=>decide(true));$('guard-refuse').addEventListener('click',()=>decide(false));}}
"#;

/// Phone-sized, large touch targets.
pub const CSS: &str = r#"
#guard{max-width:40em}
#guard-scan{font-size:1.4em;width:100%;box-sizing:border-box;padding:.4em}#guard-waiting{color:#5f6368;margin:1em 0}
#guard-verdict{font-size:1.5em;font-weight:800;padding:.6em;margin:.6em 0;text-align:center}
#guard-verdict.ok{background:#0a7d32;color:#fff}#guard-verdict.err{background:#b3261e;color:#fff}#guard-verdict.done{background:#1f3a5f;color:#fff}
#guard-permit dl{display:grid;grid-template-columns:auto 1fr;gap:.3em .8em;font-size:1.15em}#guard-permit dt{font-weight:700}#guard-permit dd{margin:0}
#guard-actions{display:flex;flex-direction:column;gap:.6em;margin-top:1em}#guard-actions[hidden]{display:none}
#guard-release,#guard-refuse{font-size:1.6em;padding:.8em;font-weight:800}#guard-release{background:#0a7d32}#guard-refuse{background:#b3261e}
#guard-reason{font-size:1.2em;padding:.4em}
"#;

//! The live event monitor (`/desk/monitor`): gate decisions and alarms as they happen, newest
//! first, filterable by door. The page's script reads the server-sent event stream
//! (`/api/v1/monitor/events`) and resumes from the last event it showed after a lost
//! connection or a server restart, so nothing is missed or shown twice.

use super::Viewer;
use crate::domain::desk_error::DeskError;
use crate::http::renovations::read;
use crate::state::AppState;
use axum::extract::State;
use maud::{Markup, html};

pub(super) async fn monitor_page(
    State(state): State<AppState>,
    v: Viewer,
) -> Result<Markup, DeskError> {
    let gates = read(&state, super::doors::gates).await?;
    Ok(v.page(
        v.t("实时监控", "Live monitor"),
        html! {
            div #monitor-bar {
                label {
                    (v.t("门", "Door"))
                    select #monitor-door {
                        option value="" { (v.t("全部门", "All doors")) }
                        @for g in &gates {
                            option value=(g.device_id) { (g.name) }
                        }
                    }
                }
                span #monitor-state .connecting { (v.t("正在连接…", "Connecting…")) }
            }
            table #monitor {
                thead {
                    tr {
                        th { (v.t("时间", "Time")) }
                        th { (v.t("门", "Door")) }
                        th { (v.t("人员", "Who")) }
                        th { (v.t("结果", "Result")) }
                        th { (v.t("说明", "What happened")) }
                    }
                }
                tbody #monitor-rows {}
            }
            p #monitor-empty { (v.t("暂无门禁记录", "No gate events yet")) }
        },
    ))
}

/// Opens the stream (for the chosen door), puts each event at the top in the page's language
/// with its local time to the second, and reopens it after a failure from the last event
/// shown. Everything from the server goes in with `textContent`, never as HTML.
pub const SCRIPT: &str = r#"
{const m=document.getElementById('monitor');if(m){
const rows=document.getElementById('monitor-rows'),door=document.getElementById('monitor-door'),
 st=document.getElementById('monitor-state'),empty=document.getElementById('monitor-empty'),KEEP=500;
let es=null,last=null,again=null;
function monAt(iso){const d=new Date(iso),p={};if(isNaN(d))return String(iso);
 for(const x of new Intl.DateTimeFormat('en-GB',{timeZone:TZ,year:'numeric',month:'2-digit',day:'2-digit',hour:'2-digit',minute:'2-digit',second:'2-digit',hourCycle:'h23'}).formatToParts(d))p[x.type]=x.value;
 return fmtDate(p.year+'-'+p.month+'-'+p.day)+' '+p.hour+':'+p.minute+':'+p.second;}
function monStatus(cls,zh,en){st.className=cls;st.textContent=T(zh,en);}
function monResult(e){return e.alarm?T('报警','Alarm'):e.result==='admitted'?T('放行','Admitted'):e.result==='denied'?T('拒绝','Denied'):T('其他','Other');}
function monShow(e){const tr=document.createElement('tr');tr.dataset.id=e.id;tr.dataset.door=e.door_id;tr.className=e.alarm?'alarm':e.result;
 for(const text of [monAt(e.at),e.door,e.who||(e.card_id==null?'—':'#'+e.card_id),monResult(e),T(e.words.zh,e.words.en)]){
  const td=document.createElement('td');td.textContent=text;tr.append(td);}
 rows.prepend(tr);while(rows.children.length>KEEP)rows.lastElementChild.remove();empty.hidden=true;}
function monOpen(){clearTimeout(again);if(es)es.close();const q=new URLSearchParams();
 if(door.value)q.set('door',door.value);if(last!==null)q.set('after',last);
 es=new EventSource('/api/v1/monitor/events'+(q.toString()?'?'+q:''));
 es.onopen=()=>monStatus('live','● 实时','● Live');
 es.onmessage=ev=>{let e;try{e=JSON.parse(ev.data);}catch(x){return;}if(last!==null&&e.id<=last)return;last=e.id;monShow(e);};
 es.onerror=()=>{monStatus('lost','连接中断，正在重连…','Connection lost, reconnecting…');
  if(es.readyState===EventSource.CLOSED)again=setTimeout(monOpen,2000);};}
door.addEventListener('change',()=>{last=null;rows.replaceChildren();empty.hidden=false;monOpen();});
monOpen();}}
"#;

/// Alarms stand out; denials are red, admissions green.
pub const CSS: &str = r#"
#monitor-bar{display:flex;gap:1.5em;align-items:end;margin-bottom:.6em}#monitor-state{font-weight:700}
#monitor-state.live{color:#0a7d32}#monitor-state.lost{color:#b3261e}#monitor-state.connecting{color:#5f6368}
#monitor tr.admitted td:nth-child(4){color:#0a7d32;font-weight:700}#monitor tr.denied td:nth-child(4){color:#b3261e;font-weight:700}
#monitor tr.alarm{background:#b3261e;color:#fff;font-weight:700}#monitor td:first-child{white-space:nowrap;font-variant-numeric:tabular-nums}
"#;

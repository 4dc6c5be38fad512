//! Evacuation (desk and managers start it, managers end it) and the emergency state every desk
//! page shows above everything else (see [`crate::domain::emergency`]).

use super::Endpoint;
use super::act::{self, Act};
use super::error::ApiError;
use super::openapi::{Io, one};
use crate::auth::Actor;
use crate::auth::Allow;
use crate::domain::emergency::{self, EmergencyState, Evacuation};
use crate::domain::estate;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use axum::routing::{delete, get, post};
use serde::Serialize;

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::POST, "/api/v1/evacuation", post(start))
            .allow(Allow::STAFF)
            .doc(
                "emergency",
                "Start an evacuation: every door whose fire_release is set is released",
            )
            .io(Io::ok(one::<EvacuationSwitched>)),
        Endpoint::new(Method::DELETE, "/api/v1/evacuation", delete(end))
            .allow(Allow::MANAGER)
            .doc("emergency", "End the evacuation")
            .io(Io::ok(one::<EvacuationSwitched>)),
        Endpoint::new(Method::GET, "/api/v1/emergency", get(emergency_state))
            .allow(Allow::ANY_STAFF)
            .doc(
                "emergency",
                "The evacuation and the fire alarms every desk page shows first",
            )
            .io(Io::ok(one::<EmergencyState>)),
        Endpoint::new(
            Method::POST,
            "/api/v1/emergency/fire-reset",
            post(fire_reset),
        )
        .allow(Allow::STAFF)
        .doc(
            "emergency",
            "Reset latched fire releases on every gate (409 while a gate's fire alarm is active)",
        )
        .io(Io::ok(one::<FireResetSent>)),
    ]
}

/// The answer to a desk reset of latched fire releases.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FireResetSent {
    /// The change's sequence number in the gate change log: gates end their latched release
    /// when they hear of it, each once its own fire-alarm input is inactive.
    pub seq: u64,
}

/// Tells the gates to end their latched fire releases; 409 `fire_alarm_active` while a gate
/// still reports its fire alarm.
async fn fire_reset(act: Act) -> Result<Json<FireResetSent>, ApiError> {
    act.write(move |tx, actor, now| {
        let seq = emergency::reset_fire_release(tx, actor, now)?.map_err(|refused| {
            ApiError::Conflict {
                code: "fire_alarm_active",
                message: refused.to_string(),
            }
        })?;
        Ok::<_, ApiError>(Json(FireResetSent { seq }))
    })
    .await
}

/// The answer to starting or ending an evacuation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EvacuationSwitched {
    /// The change's sequence number in the gate change log (none when nothing changed).
    pub seq: Option<u64>,
    /// The evacuation as it now stands.
    pub evacuation: Evacuation,
    /// What else the operator must know, e.g. that lockdown is on too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

async fn switch(
    state: &AppState,
    actor: Actor,
    active: bool,
) -> Result<Json<EvacuationSwitched>, ApiError> {
    let now = state.now();
    act::write(state, move |tx| {
        let seq = emergency::set_evacuation(tx, &actor, active, now)?;
        let evacuation = emergency::evacuation(tx)?;
        let notice = if active && estate::lockdown(tx)? {
            Some(
                "lockdown is on as well: doors whose fire_release is set are released \
                     anyway; the other doors stay locked down"
                    .to_owned(),
            )
        } else if !active && estate::lockdown(tx)? {
            Some("lockdown is still on: the released doors lock down again".to_owned())
        } else {
            None
        };
        Ok::<_, ApiError>(Json(EvacuationSwitched {
            seq,
            evacuation,
            notice,
        }))
    })
    .await
}

async fn start(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<EvacuationSwitched>, ApiError> {
    switch(&state, actor, true).await
}

async fn end(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<EvacuationSwitched>, ApiError> {
    switch(&state, actor, false).await
}

async fn emergency_state(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<EmergencyState>, ApiError> {
    let s = act::call(&state, move |c| emergency::state(c, &actor)).await?;
    Ok(Json(s))
}

/// The emergency bar's look: the evacuate control, the evacuation banner and fire alarms in
/// red above every other alarm, kept in view while the page scrolls.
pub const CSS: &str = r#"
#emergency-bar{position:sticky;top:0;z-index:10}
#evacuate{background:#c5221f;color:#fff;font-size:1.3em;font-weight:800;padding:.5em 1.4em;border:3px solid #7a1410;border-radius:6px;margin:.5em 1em}
#emergency div{background:#c5221f;color:#fff;font-size:1.35em;font-weight:800;padding:.7em 1em;display:flex;gap:1em;align-items:center;border-bottom:2px solid #7a1410}
#emergency div.fire.cleared{background:#a8322d;font-size:1.05em}#emergency a{color:#fff}
#emergency button{background:#fff;color:#c5221f;font-weight:800;margin-left:auto}
dialog#confirm{border:4px solid #c5221f;font-size:1.2em;max-width:32em}dialog#confirm button{margin:.5em .5em 0 0;font-size:1.1em}
dialog#confirm #confirm-yes{background:#c5221f}
#notices div{background:#8a5a00;color:#fff;padding:.5em 1em;font-weight:700;display:flex;gap:1em;align-items:center}
#notices button{background:#fff;color:#1d1d1f;margin-left:auto}
"#;

/// Polls the emergency state every 2 s (the desk's screen must show a fire alarm at once,
/// not at the next 10 s alarm refresh) and draws it; asks for confirmation before starting or
/// ending an evacuation. Overstay notices are drawn below it every 10 s, like device alarms.
/// Device text goes in with `textContent`, never as HTML.
pub const SCRIPT: &str = r#"
function confirmThen(text,yes,action){const d=document.getElementById('confirm');document.getElementById('confirm-text').textContent=text;
 const y=document.getElementById('confirm-yes');y.textContent=yes;y.onclick=async()=>{d.close();await action();};d.showModal();}
async function loadEmergency(){const box=document.getElementById('emergency');if(!box)return;
 let r;try{r=await fetch('/api/v1/emergency');}catch(e){return;}if(!r.ok)return;const s=await r.json();box.replaceChildren();
 const ev=s.evacuation;document.getElementById('evacuate').hidden=ev.active;
 if(ev.active){const d=document.createElement('div');d.className='evacuation';const t=document.createElement('span');
  t.textContent='⚠ '+T('紧急疏散进行中','EVACUATION IN PROGRESS')+' — '+T('开始于','since')+' '+fmtTime(ev.since)+' · '+ev.started_by+' · ';
  const a=document.createElement('a');a.href='/desk/muster';a.textContent=T('点名','Roll call');d.append(t,a);
  if(s.can_end_evacuation){const b=document.createElement('button');b.id='end-evacuation';b.textContent=T('结束疏散','End evacuation');
   b.onclick=()=>confirmThen(T('结束疏散？门将恢复正常。','End the evacuation? Doors return to normal.'),T('确认结束','End it'),
    async()=>{const r=await api('DELETE','/api/v1/evacuation');if(!r.ok)flash(false,errText(r));loadEmergency();});d.append(b);}
  box.append(d);}
 for(const a of s.fire_alarms){const d=document.createElement('div');d.className='fire'+(a.cleared_at?' cleared':'');
  const t=document.createElement('span');t.textContent='⚠ '+T('火警','FIRE ALARM')+' — '+a.device_name+' · '+fmtTime(a.raised_at)+
   (a.cleared_at?' ('+T('已恢复','cleared')+' '+fmtTime(a.cleared_at)+')':'')+(a.acknowledged_by?' ('+T('已知','seen')+': '+a.acknowledged_by+')':'');
  d.append(t);if(!a.acknowledged_at){const b=document.createElement('button');b.textContent=T('知道了','Acknowledge');
   b.onclick=async()=>{await fetch('/api/v1/alarms/'+a.id+'/acknowledge',{method:'POST'});loadEmergency();};d.append(b);}
  box.append(d);}
 // Doors latched released stay so until a person resets them once every alarm has cleared.
 const fa=s.fire_alarms;if(fa.length&&fa.every(a=>a.cleared_at)){const b=document.createElement('button');b.id='fire-reset';
  b.textContent=T('复位消防释放的门','Reset fire-released doors');
  b.onclick=()=>confirmThen(T('火警已全部恢复。复位后，被火警释放并锁存的门重新上锁。','Every fire alarm has cleared. Doors held released after the alarm lock again.'),
   T('确认复位','Reset the doors'),async()=>{const r=await api('POST','/api/v1/emergency/fire-reset');
    if(r.ok)flash(true,T('已通知各门禁复位','The gates are told to reset'));else flash(false,errText(r));loadEmergency();});box.append(b);}}
// Pages without the bar (log-in, a guard's) skip its buttons.
if(document.getElementById('evacuate'))document.getElementById('evacuate').onclick=()=>confirmThen(T('开始紧急疏散？所有逃生通道上的门将打开，并开始点名。','Start an evacuation? Every door on an escape route is released and a roll call starts.'),
 T('确认疏散','Evacuate now'),async()=>{const r=await api('POST','/api/v1/evacuation');if(!r.ok)flash(false,errText(r));
  else if(r.v.notice)flash(true,T('全区封锁仍在：逃生通道上的门照样打开，其余门保持封锁','Lockdown is on as well: doors on escape routes are released anyway; the others stay locked down'));loadEmergency();});
if(document.getElementById('confirm-no'))document.getElementById('confirm-no').onclick=()=>document.getElementById('confirm').close();
loadEmergency();setInterval(loadEmergency,2000);
async function loadNotices(){const box=document.getElementById('notices');if(!box)return;
 let r;try{r=await fetch('/api/v1/visitors/overstays');}catch(e){return;}if(!r.ok)return;const list=await r.json();box.replaceChildren();
 for(const o of list){if(o.acknowledged_at)continue;const d=document.createElement('div');d.className='notice';d.dataset.card=o.card_id;
  const t=document.createElement('span');t.textContent='⏰ '+T('访客超时未签离','visitor overstaying')+' — '+o.name_masked+' · '+o.unit_label+
   ' · '+T('到期','ended')+' '+fmtTime(o.not_after)+' · '+T('自动签离','auto sign-out')+' '+fmtTime(o.sign_out_at);
  const b=document.createElement('button');b.textContent=T('知道了','Acknowledge');
  b.onclick=async()=>{await fetch('/api/v1/visitors/overstays/'+o.card_id+'/acknowledge',{method:'POST'});loadNotices();};d.append(t,b);box.append(d);}}
loadNotices();setInterval(loadNotices,10000);
"#;

/// The emergency bar every desk page carries at its top, the overstay notices, and the
/// confirmation dialog.
pub fn desk_bar(lang: crate::domain::language::Lang) -> maud::Markup {
    maud::html! {
        div #emergency-bar {
            button #evacuate type="button" { (lang.pick("紧急疏散", "Evacuate")) }
            div #emergency {}
        }
        div #notices {}
        dialog #confirm {
            p #confirm-text {}
            button #confirm-yes type="button" {}
            button #confirm-no type="button" { (lang.pick("取消", "Cancel")) }
        }
    }
}

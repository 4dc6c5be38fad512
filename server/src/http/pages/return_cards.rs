//! The return station: the desk scanner types each card's text and Enter into one field.
//! The field keeps the focus (keys typed elsewhere are sent to it) and shows whether it is
//! ready; every scan clears the last result, then shows the holder, the renovation and how
//! many of its cards are back, with a sound.

use super::Viewer;
use maud::{Markup, html};

pub(super) async fn return_page(v: Viewer) -> Markup {
    v.page(
        v.t("扫码交卡", "Return cards"),
        html! {
            p { (v.t("将卡放到扫码器下；每扫一次交回一张卡。二维码损坏时，输入卡上的编号或卡号并按回车，核对持卡人后确认。",
                     "Hold the card under the desk scanner: one scan returns one card. If the QR code is damaged, type the code printed after 编号 No. (or the card number) and press Enter, check the holder, then confirm.")) }
            div #scan-state data-ready=(v.t("● 可以扫码", "● Ready to scan"))
                data-lost=(v.t("✘ 扫码框未选中：请点击此处或直接扫码", "✘ Not ready: click here or just scan")) {}
            input #scan autofocus autocomplete="off" placeholder=(v.t("扫码或输入编号…", "Scan, or type the number…"));
            div #return-confirm hidden {
                p #return-card {}
                button #return-yes type="button" { (v.t("确认交回", "Confirm return")) }
                " "
                button #return-no type="button" { (v.t("取消", "Cancel")) }
            }
            div #scan-result role="status" aria-live="assertive" {}
        },
    )
}

/// The return page: a scan (credential-length text) is returned at once; a typed number or
/// printed code is looked up first and returned only after the clerk confirms the holder.
pub const SCRIPT: &str = r#"
{const scan=document.getElementById('scan'),out=document.getElementById('scan-result'),box=document.getElementById('return-confirm'),
 who=document.getElementById('return-card'),state=document.getElementById('scan-state');let pending=null;
if(scan&&out&&box&&who&&state){
function ready(){const on=document.activeElement===scan;scan.classList.toggle('ready',on);state.className=on?'ready':'lost';
 state.textContent=on?state.dataset.ready:state.dataset.lost;}
scan.addEventListener('focus',ready);scan.focus();scan.addEventListener('blur',()=>{ready();
 setTimeout(()=>{const a=document.activeElement;if(box.hidden&&!document.querySelector('dialog[open]')&&(!a||a===document.body))scan.focus();},150);});
state.addEventListener('click',()=>scan.focus());
document.addEventListener('keydown',ev=>{const a=document.activeElement;if(a===scan||!box.hidden||document.querySelector('dialog[open]'))return;
 if(a&&(a.tagName==='INPUT'||a.tagName==='SELECT'||a.tagName==='TEXTAREA'))return;
 if(ev.key.length===1&&!ev.ctrlKey&&!ev.metaKey&&!ev.altKey){ev.preventDefault();scan.value+=ev.key;scan.focus();}
 else if(ev.key==='Enter'&&scan.value){ev.preventDefault();scan.focus();scan.dispatchEvent(new KeyboardEvent('keydown',{key:'Enter'}));}});
ready();
function beep(ok){try{const a=new AudioContext(),o=a.createOscillator(),g=a.createGain();o.frequency.value=ok?880:220;o.type=ok?'sine':'square';
 g.gain.value=0.6;o.connect(g);g.connect(a.destination);o.start();o.stop(a.currentTime+(ok?0.2:0.7));}catch(e){}}
function show(ok,lines){out.className=ok?'ok':'err';out.replaceChildren(lines[0]);for(const l of lines.slice(1)){if(!l)continue;const s=document.createElement('small');s.textContent=l;out.append(s);}
 beep(ok);scan.focus();}
function fail(r){const t=errText(r);show(false,['✘ '+(Array.isArray(t)?t[0]:t),Array.isArray(t)?t[1]:'']);}
const WAS={revoked:['已停用','was revoked'],lost:['已挂失','was declared lost'],reissued:['已补打','was superseded by a reprint']};
async function tally(c){if(!c.renovation_id)return '';const r=await api('GET','/api/v1/renovations/'+c.renovation_id);if(!r.ok)return '';
 const cards=r.v.cards||[],back=cards.filter(x=>x.state==='returned').length,lost=cards.filter(x=>x.state==='lost').length;
 return T(cards.length+' 张卡中已交回 '+back+' 张'+(lost?'，挂失 '+lost+' 张':''),back+' of '+cards.length+' cards returned'+(lost?', '+lost+' declared lost':''));}
async function giveBack(body){box.hidden=true;pending=null;out.className='pending';out.textContent='…';
 const r=await api('POST','/api/v1/cards/return',body);if(!r.ok)return fail(r);
 const c=r.v;let t='✔ '+T('卡 #'+c.card_id+' 已交回','Card #'+c.card_id+' returned');if(WAS[c.was])t+=' ('+T(WAS[c.was][0],WAS[c.was][1])+')';
 if(c.fee_reversed_cents)t+=' · '+T('补卡费已冲回','fee reversed')+' '+fmtYuan(c.fee_reversed_cents);
 const holder=c.holder_masked+' · '+(c.renovation_code?T('装修 ','renovation ')+c.renovation_code+' · ':'')+c.unit_label;
 show(true,[t,holder,await tally(c)]);}
scan.addEventListener('keydown',async ev=>{if(ev.key!=='Enter')return;ev.preventDefault();const text=scan.value.trim();scan.value='';
 out.className='';out.replaceChildren();if(!text)return;
 if(/^GH-/i.test(text)&&window.itemBack)return window.itemBack(text.toUpperCase());
 if(text.length>16)return giveBack({credential:text});
 const r=await api('GET','/api/v1/cards/lookup?q='+encodeURIComponent(text));if(!r.ok)return fail(r);const c=r.v;pending=c.card_id;
 who.textContent=T('卡','Card')+' #'+c.card_id+' · '+T('编号','No.')+' '+c.short_id+' · '+c.holder_masked+' · '+
  (c.renovation_code?T('装修 ','renovation ')+c.renovation_code+' · ':'')+c.unit_label+' · '+c.state;
 box.hidden=false;document.getElementById('return-yes').focus();});
document.getElementById('return-yes').addEventListener('click',()=>{if(pending!==null)giveBack({card_id:pending});});
document.getElementById('return-no').addEventListener('click',()=>{box.hidden=true;pending=null;scan.focus();});
}}
"#;

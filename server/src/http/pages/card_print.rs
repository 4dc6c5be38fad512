//! The worker card the desk prints when it issues or reprints one: the QR code (rendered here,
//! as SVG, from the credential text the issuing answer carried), the masked name, the
//! renovation, unit and floors, valid until, and "extended to" when the period was extended.
//! The renovation page holds the card's frame; its script fills it in and prints only it.

use super::Viewer;
use crate::domain::renovation::Renovation;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use gatehouse_credential::qr::Qr;
use maud::{Markup, html};
use serde::Deserialize;

/// The longest text the QR endpoint renders (a credential is about 120 characters).
const MAX_TEXT: usize = 512;

/// `GET /desk/qr.svg` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QrQuery {
    /// The text to encode (a card's credential).
    pub text: String,
}

/// The QR code of `text` as SVG.
pub(super) async fn qr_svg(ApiQuery(q): ApiQuery<QrQuery>) -> Result<Response, ApiError> {
    svg_of(q)
}

/// The QR code of a secret (an enrolment token) as SVG: sent in the body, so the secret
/// stays out of addresses and request logs.
pub(super) async fn qr_svg_of_body(ApiJson(q): ApiJson<QrQuery>) -> Result<Response, ApiError> {
    svg_of(q)
}

fn svg_of(q: QrQuery) -> Result<Response, ApiError> {
    if q.text.is_empty() || q.text.len() > MAX_TEXT {
        return Err(ApiError::invalid(format!(
            "the text must be 1 to {MAX_TEXT} characters"
        )));
    }
    let qr = Qr::new(&q.text).map_err(|e| ApiError::invalid(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        qr.to_svg(4),
    )
        .into_response())
}

/// The printable card's frame on renovation `r`'s page, hidden until a card is issued.
pub(super) fn frame(v: &Viewer, r: &Renovation) -> Markup {
    let extended = r.end_date != r.original_end_date;
    let fields = html! {
        dt { (v.t("姓名", "Name")) } dd.holder {}
        dt { (v.t("卡号", "Card")) } dd.number {}
        dt { (v.t("装修", "Renovation")) } dd { (r.code) " · " (r.unit.label) }
        dt { (v.t("楼层", "Floors")) } dd { (v.t("大堂", "Lobby")) " · " (r.unit.floor) "F" }
        dt { (v.t("有效至", "Valid until")) } dd.until {}
        @if extended { dt { (v.t("延期", "Extended")) } dd.extended { (v.t("延期至", "extended to")) " " (v.date(r.end_date)) } }
    };
    let buttons = html! {
        button #print-card-button type="button" { (v.t("打印此卡", "Print this card")) } " "
        button #print-card-close type="button" { (v.t("关闭", "Close")) }
    };
    printable(
        "print-card",
        v.t("可打印的出入卡", "Printable card"),
        v.t("人员临时出入卡", "Temporary worker access card"),
        fields,
        html! {},
        buttons,
    )
}

/// A printable card face in section `id`, hidden until a page's script fills it in: `title`,
/// the QR code, the `fields` (`dt`/`dd` pairs) and `below` them; `buttons` stay off paper.
pub(super) fn printable(
    id: &str,
    label: &str,
    title: &str,
    fields: Markup,
    below: Markup,
    buttons: Markup,
) -> Markup {
    html! {
        section #(id) hidden aria-label=(label) {
            div.card-face {
                h3 { (title) }
                img.qr alt="QR";
                dl { (fields) }
                (below)
            }
            p.no-print { (buttons) }
        }
    }
}

/// Fills the frame from the issuing answer and the worker's row, shows it, and prints it.
pub const SCRIPT: &str = r#"
document.addEventListener('desk:card',ev=>{const f=document.getElementById('print-card');if(!f)return;const c=ev.detail.card;
 const row=document.querySelector('#workers tr[data-worker="'+c.worker_id+'"]');
 f.querySelector('.holder').textContent=row?row.dataset.name:'';
 f.querySelector('.number').textContent='#'+c.card_id+' · '+T('编号','No.')+' '+c.short_id;
 const until=new Date(new Date(c.printed_not_after).getTime()-60000).toISOString();
 f.querySelector('.until').textContent=fmtTime(until).split(' ').slice(0,LANG==='en'?3:1).join(' ');
 f.querySelector('.qr').src='/desk/qr.svg?text='+encodeURIComponent(ev.detail.credential);
 f.hidden=false;f.scrollIntoView({block:'nearest'});document.getElementById('print-card-button').focus();});
document.addEventListener('desk:code',ev=>{const el=document.getElementById('collection-code'),code=ev.detail&&ev.detail.collection_code;if(!el||!code)return;
 const b=document.createElement('strong');b.textContent=code;el.replaceChildren(el.dataset.label,b);el.hidden=false;});
document.addEventListener('desk:pass',ev=>{const f=document.getElementById('print-pass');if(!f)return;const p=ev.detail,c=p.issued.card;
 f.querySelector('.holder').textContent=p.holder_masked;f.querySelector('.number').textContent='#'+c.card_id;
 f.querySelector('.unit').textContent=p.unit_label;f.querySelector('.until').textContent=fmtTime(c.not_after);
 f.querySelector('.qr').src='/desk/qr.svg?text='+encodeURIComponent(p.issued.credential);f.hidden=false;f.scrollIntoView({block:'nearest'});});
document.addEventListener('click',ev=>{if(ev.target.id==='print-pass-button'){document.body.classList.add('printing-pass');window.print();
  document.body.classList.remove('printing-pass');}
 if(ev.target.id==='print-card-button'){document.body.classList.add('printing-card');window.print();
  document.body.classList.remove('printing-card');}
 if(ev.target.id==='print-card-close')document.getElementById('print-card').hidden=true;});
"#;

/// The card on screen and on paper (only the card is printed).
pub const CSS: &str = r#"
#print-pass{background:#fff;border:2px dashed #1f3a5f;padding:1em;margin:1em 0;max-width:30em}
#print-pass .card-face{display:grid;grid-template-columns:auto 1fr;gap:0 1em}#print-pass .qr{width:12em;height:12em}#print-pass h3{grid-column:1/3}
#print-card{background:#fff;border:2px dashed #1f3a5f;padding:1em;margin:1em 0;max-width:30em}
#print-card .card-face{display:grid;grid-template-columns:auto 1fr;gap:0 1em;align-items:start}
#print-card h3{grid-column:1/3;margin:0 0 .4em}#print-card .qr{width:12em;height:12em}
#print-card dl,#print-pass dl{display:grid;grid-template-columns:auto 1fr;gap:.2em .6em;margin:0}
#print-card dt,#print-pass dt{font-weight:700}#print-card dd,#print-pass dd{margin:0}
@media print{body.printing-pass *{visibility:hidden}body.printing-pass #print-pass .card-face,body.printing-pass #print-pass .card-face *{visibility:visible}
 body.printing-pass #print-pass{position:absolute;left:0;top:0}
 body.printing-card *{visibility:hidden}body.printing-card #print-card,body.printing-card #print-card .card-face,
 body.printing-card #print-card .card-face *{visibility:visible}
 body.printing-card #print-card{position:absolute;left:0;top:0;border:1px solid #000;margin:0}body.printing-card .no-print{display:none}}
"#;

//! Visitor invites: the desk makes one for an expected visitor, reads the code out over the
//! phone or prints it with its QR code; the visitor types or scans it at the kiosk.

use super::renovations::who;
use super::visitors::visitor_fields;
use super::{Viewer, card_print};
use crate::domain::desk_error::DeskError;
use crate::domain::history::InviteRecord;
use crate::domain::{settings, units};
use crate::http::extract::ApiQuery;
use crate::http::paging::Latest;
use crate::http::renovations::read;
use crate::state::AppState;
use axum::extract::State;
use axum::http::Uri;
use chrono::NaiveDate;
use maud::{Markup, html};

/// An invite's state in words at `today`.
fn state_words(v: &Viewer, i: &InviteRecord, today: NaiveDate) -> Markup {
    html! {
        @match i.redeemed_at {
            Some(at) => span.met { (v.t("已使用", "used")) " " (v.time(at)) },
            None if i.valid_on < today => span.unmet { (v.t("已过期", "expired")) },
            None => span { (v.t("待使用", "waiting")) },
        }
    }
}

pub(super) async fn invites_page(
    State(state): State<AppState>,
    v: Viewer,
    uri: Uri,
    ApiQuery(q): ApiQuery<Latest>,
) -> Result<Markup, DeskError> {
    let now = state.now();
    let first = q.before.is_none();
    let page = crate::http::visitors::invites_page(&state, q).await?;
    let more = page.next_href(&uri, "before");
    let list = page.rows;
    let (units, today) = read(&state, move |c| {
        let today = settings::local_date(settings::time_zone(c)?, now);
        Ok((units::units(c)?, today))
    })
    .await?;
    Ok(v.page(
        v.t("访客邀请", "Visitor invites"),
        html! {
            p { (v.t("为预约的访客生成邀请码：访客在自助机输入或扫描邀请码即可领取通行证，邀请码只在指定日期有效、只能用一次。",
                     "Make an invite for an expected visitor: they type or scan its code at the kiosk to get their pass. A code works once, on its day only.")) }
            form.inline #new-invite data-api="/api/v1/invites" data-show="invite" data-done=(v.t("邀请码已生成", "Invite made")) {
                (visitor_fields(&v, &units, true))
                label { (v.t("到访日期", "Day of the visit")) input name="valid_on" type="date" data-type="opt" min=(today) value=(today); }
                button type="submit" { (v.t("生成邀请码", "Make invite")) }
            }
            (card_print::printable("print-invite", v.t("可打印的访客邀请", "Printable visitor invite"), v.t("访客邀请码", "Visitor invite"),
                html! {
                    dt { (v.t("邀请码", "Code")) } dd.code {}
                    dt { (v.t("访客", "Visitor")) } dd.holder {}
                    dt { (v.t("日期", "Day")) } dd.day {}
                },
                html! { p.hint { (v.t("请在大堂自助机选择“我有邀请码”，输入或扫描此码。", "At the lobby kiosk choose “I have an invite” and type or scan this code.")) } },
                html! { button #print-invite-button type="button" { (v.t("打印", "Print")) } }))
            h2 { (v.t("近期邀请", "Recent invites")) }
            label { (v.t("查找", "Search")) input type="search" #invite-search data-filter="#invites"; }
            table #invites {
                tr { th { (v.t("邀请码", "Code")) } th { (v.t("日期", "Day")) } th { (v.t("访客", "Visitor")) } th { (v.t("房号", "Unit")) }
                     th { (v.t("生成", "Made")) } th { (v.t("状态", "State")) } th {} }
                @for i in &list {
                    tr data-invite=(i.code) {
                        td.code { (i.code) } td { (v.date(i.valid_on)) } td { (i.name_masked) } td { (i.unit_label) }
                        td { (v.time(i.created_at)) " · " (who(&v, &i.created_by)) }
                        td { (state_words(&v, i, today)) }
                        td { @if i.redeemed_at.is_none() && i.valid_on >= today {
                            button.show-invite type="button" data-code=(i.code) data-holder=(i.name_masked) data-day=(v.date(i.valid_on)) {
                                (v.t("显示 / 打印", "Show / print")) }
                        } }
                    }
                }
            }
            (super::renovations::more_links(&v, more.as_deref(), first, "/desk/invites"))
        },
    ))
}

/// Shows an invite's code, QR and day in the printable frame, after making one or from a row.
pub const SCRIPT: &str = r#"
{function showInvite(code,holder,day){const f=document.getElementById('print-invite');if(!f)return;
 f.querySelector('.code').textContent=code;f.querySelector('.holder').textContent=holder;f.querySelector('.day').textContent=day;
 f.querySelector('.qr').src='/desk/qr.svg?text='+encodeURIComponent(code);f.hidden=false;f.scrollIntoView({block:'nearest'});
 document.getElementById('print-invite-button').focus();}
document.addEventListener('desk:invite',ev=>{const i=ev.detail;showInvite(i.code,i.name_masked,fmtDate(i.valid_on));});
document.addEventListener('click',ev=>{const b=ev.target.closest&&ev.target.closest('.show-invite');
 if(b)showInvite(b.dataset.code,b.dataset.holder,b.dataset.day);
 if(ev.target.id==='print-invite-button'){document.body.classList.add('printing-invite');window.print();document.body.classList.remove('printing-invite');}});}
"#;

/// The invite on screen and on paper (only the invite is printed).
pub const CSS: &str = r#"
#print-invite{background:#fff;border:2px dashed #1f3a5f;padding:1em;margin:1em 0;max-width:30em}
#print-invite .card-face{display:grid;grid-template-columns:auto 1fr;gap:0 1em}#print-invite .qr{width:12em;height:12em}
#print-invite h3,#print-invite .hint{grid-column:1/3}#print-invite dl{display:grid;grid-template-columns:auto 1fr;gap:.2em .6em;margin:0}
#print-invite .code{font-family:monospace;font-size:2em;font-weight:800;letter-spacing:.12em}#print-invite dd{margin:0}
td.code{font-family:monospace;font-weight:700;letter-spacing:.08em}
@media print{body.printing-invite *{visibility:hidden}body.printing-invite #print-invite .card-face,body.printing-invite #print-invite .card-face *{visibility:visible}
 body.printing-invite #print-invite{position:absolute;left:0;top:0}}
"#;

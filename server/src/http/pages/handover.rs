//! The shift handover (交接班): everything out now — keys and radios, worker cards not yet
//! back, visitors still on site — who has it, since when and what is overdue, as a page and
//! a printable sheet; the incoming clerk confirms it (audited).

use super::Viewer;
use super::keys::{kind_words, moment};
use crate::auth::Allow;
use crate::domain::custody_items;
use crate::domain::desk_error::DeskError;
use crate::domain::{card, visitor};
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
        Endpoint::new(Method::GET, "/desk/handover", get(handover_page))
            .allow(Allow::STAFF)
            .doc(
                "pages",
                "Page: the shift handover list and sheet (items, worker cards, visitors), and its confirmation",
            ),
    ]
}

fn overdue_cell(v: &Viewer, overdue: bool) -> Markup {
    html! { @if overdue { td.unmet { (v.t("逾期", "overdue")) } } @else { td { "—" } } }
}

async fn handover_page(v: Viewer, State(state): State<AppState>) -> Result<Markup, DeskError> {
    let now = state.now();
    let (items, cards, visitors, last) = read(&state, move |c| {
        Ok((
            custody_items::out_now(c, now)?,
            card::outstanding(c, now)?,
            visitor::on_site(c, now)?,
            custody_items::handovers(c, 5)?,
        ))
    })
    .await?;
    let overdue = items.iter().filter(|i| i.overdue).count();
    let cards_overdue = cards.iter().filter(|c| c.overdue).count();
    Ok(v.page(
        v.t("交接班", "Shift handover"),
        html! {
            p #handover-summary {
                (v.t("打印时间", "Printed")) " " (v.time(now)) " · "
                (v.t("借出物品", "items out")) " " (items.len()) " (" (v.t("逾期", "overdue")) " " (overdue) ") · "
                (v.t("未还工卡", "worker cards out")) " " (cards.len()) " (" (v.t("逾期", "overdue")) " " (cards_overdue) ") · "
                (v.t("在场访客", "visitors on site")) " " (visitors.len())
            }
            h2 { (v.t("钥匙与对讲机", "Keys and radios")) }
            table #items-out {
                tr { th { (v.t("物品", "Item")) } th { (v.t("标签", "Label")) } th { (v.t("借用人", "Holder")) } th { (v.t("借出", "Since")) }
                     th { (v.t("应还", "Due")) } th { (v.t("经办", "Lent by")) } th { (v.t("逾期", "Overdue")) } }
                @for i in &items {
                    tr data-item=(i.id) {
                        td { (kind_words(&v, i.kind)) " · " (i.label) } td { (i.code) }
                        td { (i.holder_masked.clone().unwrap_or_default()) }
                        td { (moment(&v, i.since)) } td { (moment(&v, i.expected_back)) }
                        td { (i.lent_by.clone().unwrap_or_default()) }
                        (overdue_cell(&v, i.overdue))
                    }
                }
            }
            h2 { (v.t("未还工卡", "Worker cards out")) }
            table #cards-out {
                tr { th { (v.t("卡", "Card")) } th { (v.t("装修", "Renovation")) } th { (v.t("房号", "Unit")) } th { (v.t("持卡人", "Holder")) }
                     th { (v.t("发卡", "Since")) } th { (v.t("完工", "Ends")) } th { (v.t("逾期", "Overdue")) } }
                @for o in &cards {
                    tr data-card=(o.card.card_id) {
                        td { "#" (o.card.card_id) } td { (o.out.renovation_code) } td { (o.out.unit_label) } td { (o.out.holder_masked) }
                        td { (v.time(o.card.issued_at)) } td { (v.date(o.out.renovation_end)) }
                        (overdue_cell(&v, o.overdue))
                    }
                }
            }
            h2 { (v.t("在场访客", "Visitors on site")) }
            table #visitors-on-site {
                tr { th { (v.t("通行证", "Pass")) } th { (v.t("访客", "Visitor")) } th { (v.t("人数", "Party")) } th { (v.t("房号", "Unit")) }
                     th { (v.t("登记", "Since")) } th { (v.t("有效至", "Valid until")) } }
                @for p in &visitors {
                    tr data-card=(p.card_id) {
                        td { (p.short_id) } td { (p.visit.name_masked) } td { (p.visit.party_size) } td { (p.visit.unit_label) }
                        td { (v.time(p.visit.registered_at)) } td { (v.time(p.not_after)) }
                    }
                }
            }
            p.no-print { button #print-handover type="button" { (v.t("打印交接单", "Print the sheet")) } }
            h2.no-print { (v.t("接班确认", "Incoming clerk confirms")) }
            form.inline.no-print #handover-confirm data-api="/api/v1/handovers" data-done=(v.t("已确认接班", "Handover confirmed")) {
                label { (v.t("交班人（用户名）", "Outgoing clerk (username)")) input name="outgoing" required; }
                button type="submit" { (v.t("确认接班", "Confirm handover")) }
            }
            h2 { (v.t("最近交接", "Recent handovers")) }
            table #handovers {
                tr { th { (v.t("时间", "At")) } th { (v.t("交班", "Outgoing")) } th { (v.t("接班", "Incoming")) } th { (v.t("借出", "Out")) } th { (v.t("逾期", "Overdue")) } }
                @for h in &last {
                    tr { td { (v.time(h.at)) } td { (h.outgoing) } td { (super::renovations::who(&v, &h.incoming)) } td { (h.items_out) } td { (h.overdue) } }
                }
            }
            p.signatures { (v.t("交班人签字", "Outgoing")) ": ________  " (v.t("接班人签字", "Incoming")) ": ________" }
        },
    ))
}

//! Visitors on site and passes past their end, each with a sign-out that names the visitor
//! and the pass.

use super::{Viewer, card_print};
use crate::domain::desk_error::DeskError;
use crate::domain::{overstay, units, visitor};
use crate::http::renovations::read;
use crate::state::AppState;
use axum::extract::State;
use maud::{Markup, html};

/// The sign-out form of pass `card_id`, asking first with the visitor's (masked) name.
fn sign_out(v: &Viewer, card_id: u32, name_masked: &str) -> Markup {
    html! {
        form.inline.sign-out data-api={ "/api/v1/visitors/cards/" (card_id) "/sign-out" }
            data-confirm=(format!("{} {} {} #{}？", v.t("签离访客", "Sign out"), name_masked, v.t("通行证", "pass"), card_id))
            data-yes=(v.t("确认签离", "Sign out")) data-done=(v.t("已签离", "Signed out")) {
            button type="submit" { (v.t("签离", "Sign out")) }
        }
    }
}

/// The fields of a visitor as the desk registers or invites them (the name focused first
/// when `focus`).
pub(super) fn visitor_fields(v: &Viewer, units: &[units::Unit], focus: bool) -> Markup {
    html! {
        label { (v.t("姓名", "Name")) input name="name" required autofocus[focus] autocomplete="off"; }
        label { (v.t("到访房号", "Unit visited")) select name="unit_id" data-type="int" { @for u in units { option value=(u.id) { (u.label) } } } }
        label { (v.t("被访人", "Host")) input name="host_name" data-type="opt" autocomplete="off"; }
        label { (v.t("事由", "Purpose")) input name="purpose" required; }
        label { (v.t("人数", "Party size")) input name="party_size" data-type="int" type="number" min="1" max="20" value="1" required; }
        label { (v.t("电话（可不填）", "Phone (optional)")) input name="phone" data-type="opt" type="tel" autocomplete="off"; }
    }
}

pub(super) async fn visitors_page(
    State(state): State<AppState>,
    v: Viewer,
) -> Result<Markup, DeskError> {
    let now = state.now();
    let grace = state.config.overstay_grace;
    let (list, overstays, units) = read(&state, move |c| {
        Ok((
            visitor::on_site(c, now)?,
            overstay::list(c, grace)?,
            units::units(c)?,
        ))
    })
    .await?;
    let minutes = grace.num_minutes();
    Ok(v.page(
        v.t("在场访客", "Visitors on site"),
        html! {
            h2 { (v.t("前台登记访客", "Register a visitor at the desk")) }
            form.inline #register-visitor data-api="/api/v1/visitors" data-show="pass" data-done=(v.t("已登记，通行证已生成", "Registered; the pass is ready")) {
                (visitor_fields(&v, &units, true))
                button type="submit" { (v.t("登记并发证", "Register and issue")) }
            }
            (card_print::printable("print-pass", v.t("可打印的访客通行证", "Printable visitor pass"), v.t("访客通行证", "Visitor pass"),
                html! {
                    dt { (v.t("访客", "Visitor")) } dd.holder {}
                    dt { (v.t("通行证", "Pass")) } dd.number {}
                    dt { (v.t("到访", "Visiting")) } dd.unit {}
                    dt { (v.t("有效至", "Valid until")) } dd.until {}
                },
                html! {},
                html! { button #print-pass-button type="button" { (v.t("打印", "Print")) } }))
            p #on-site-count { (list.len()) " " (v.t("位访客在场", "visitor(s) on site")) }
            label { (v.t("查找", "Search")) input type="search" #visitor-search data-filter="#on-site"; }
            table #on-site {
                tr { th { (v.t("访客", "Visitor")) } th { (v.t("房号", "Unit")) } th { (v.t("被访人", "Host")) } th { (v.t("事由", "Purpose")) }
                     th { (v.t("人数", "Party")) } th { (v.t("登记", "Registered")) } th { (v.t("有效至", "Until")) } th {} }
                @for x in &list {
                    tr data-card=(x.card_id) {
                        td { (x.visit.name_masked) } td { (x.visit.unit_label) } td { (x.visit.host_masked.clone().unwrap_or_default()) } td { (x.visit.purpose) }
                        td { (x.visit.party_size) } td { (v.time(x.visit.registered_at)) } td { (v.time(x.not_after)) }
                        td { (sign_out(&v, x.card_id, &x.visit.name_masked)) }
                    }
                }
            }
            h2 { (v.t("超时未签离", "Overstays (pass ended, not signed out)")) }
            p { (v.t(&format!("通行证到期后 {minutes} 分钟自动签离。"), &format!("Signed out automatically {minutes} minutes after the pass ends."))) }
            table #overstays {
                tr { th { (v.t("访客", "Visitor")) } th { (v.t("房号", "Unit")) } th { (v.t("被访人", "Host")) } th { (v.t("到期", "Ended")) }
                     th { (v.t("自动签离", "Auto sign-out")) } th {} }
                @for o in &overstays {
                    tr data-card=(o.card_id) {
                        td { (o.name_masked) } td { (o.unit_label) } td { (o.host_masked.clone().unwrap_or_default()) }
                        td.unmet { (v.time(o.not_after)) } td { (v.time(o.sign_out_at)) }
                        td { (sign_out(&v, o.card_id, &o.name_masked)) }
                    }
                }
            }
        },
    ))
}

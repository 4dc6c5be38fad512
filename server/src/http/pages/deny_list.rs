//! The visitor deny list: staff add a person and see the list (masked); only a manager
//! removes one, after a confirmation naming them.

use super::Viewer;
use super::renovations::who;
use crate::domain::desk_error::DeskError;
use crate::domain::visitor;
use crate::http::renovations::read;
use crate::state::AppState;
use axum::extract::State;
use axum::http::Method;
use maud::{Markup, html};

pub(super) async fn deny_list_page(
    State(state): State<AppState>,
    v: Viewer,
) -> Result<Markup, DeskError> {
    let list = read(&state, visitor::denials).await?;
    let may_remove = v.may(&Method::DELETE, "/api/v1/deny-list/{id}");
    Ok(v.page(
        v.t("禁止名单", "Deny list"),
        html! {
            p { (v.t("名单上的人在自助机登记时只会看到“请到前台办理”。", "A person on the list is told only “please see the front desk” at the kiosk.")) }
            form.inline #deny data-api="/api/v1/deny-list" data-done=(v.t("已加入禁止名单", "Added to the deny list")) {
                label { (v.t("姓名", "Name")) input name="name" required autocomplete="off"; }
                label { (v.t("电话（可不填）", "Phone (optional)")) input name="phone" data-type="opt" type="tel" autocomplete="off"; }
                label { (v.t("原因", "Reason")) input name="reason" required; }
                button type="submit" { (v.t("加入", "Add")) }
            }
            label { (v.t("查找", "Search")) input type="search" #deny-search data-filter="#denials"; }
            table #denials {
                tr { th { (v.t("姓名", "Name")) } th { (v.t("电话", "Phone")) } th { (v.t("原因", "Reason")) } th { (v.t("加入", "Added")) }
                     @if may_remove { th {} } }
                @for d in &list {
                    tr data-denial=(d.id) {
                        td { (d.name_masked) } td { (d.phone_masked.clone().unwrap_or_default()) } td { (d.reason) }
                        td { (v.time(d.created_at)) " · " (who(&v, &d.created_by)) }
                        @if may_remove { td {
                            form.inline.undeny data-api={ "/api/v1/deny-list/" (d.id) } data-method="DELETE"
                                data-confirm=(format!("{} {}？", v.t("从禁止名单移除", "Remove from the deny list:"), d.name_masked))
                                data-yes=(v.t("确认移除", "Remove")) data-done=(v.t("已移除", "Removed")) {
                                button.danger type="submit" { (v.t("移除", "Remove")) } }
                        } }
                    }
                }
            }
        },
    ))
}

//! Staff accounts (managers only): create, change a role, reset a password, disable or
//! enable.

use super::Viewer;
use crate::auth::Role;
use crate::domain::desk_error::DeskError;
use crate::domain::staff::{self, StaffAccount};
use crate::http::renovations::read;
use crate::state::AppState;
use axum::extract::State;
use maud::{Markup, html};

/// The account's role, and a form to change it that says first that its sessions end.
fn role_form(v: &Viewer, s: &StaffAccount) -> Markup {
    html! {
        form.inline.role data-api={ "/api/v1/staff/" (s.id) "/role" } data-method="PUT"
            data-confirm=(format!("{} {} → {{role}}？{}", v.t("更改角色：", "Change the role of"), s.username,
                v.t("其所有登录将退出，需重新登录。", "All of their sessions end; they log in again.")))
            data-yes=(v.t("确认更改", "Change it")) data-done=(v.t("角色已更改", "Role changed")) {
            select name="role" aria-label=(v.t("角色", "Role")) {
                @for r in [Role::Desk, Role::Manager, Role::Guard] {
                    option value=(r.as_str()) selected[r == s.role] { (v.role_words(r)) }
                }
            }
            button type="submit" { (v.t("更改", "Change")) }
        }
    }
}

pub(super) async fn staff_page(
    State(state): State<AppState>,
    v: Viewer,
) -> Result<Markup, DeskError> {
    let list = read(&state, |c| Ok(staff::list(c)?)).await?;
    Ok(v.page(
        v.t("员工账号", "Staff accounts"),
        html! {
            h2 { (v.t("新建账号", "New account")) }
            form.inline #new-staff data-api="/api/v1/staff" data-done=(v.t("账号已建立", "Account created")) {
                label { (v.t("用户名", "Username")) input name="username" required autocomplete="off"; }
                label { (v.t("角色", "Role")) select name="role" {
                    option value="desk" { (v.role_words(Role::Desk)) } option value="manager" { (v.role_words(Role::Manager)) } option value="guard" { (v.role_words(Role::Guard)) } } }
                label { (v.t("初始密码（至少 10 个字符）", "Initial password (at least 10 characters)"))
                    input name="password" type="password" autocomplete="new-password" minlength="10" required; }
                button type="submit" { (v.t("建立", "Create")) }
            }
            h2 { (v.t("全部账号", "All accounts")) }
            label { (v.t("查找", "Search")) input type="search" #staff-search data-filter="#staff"; }
            table #staff {
                tr { th { (v.t("用户名", "Username")) } th { (v.t("角色", "Role")) } th { (v.t("建立于", "Created")) }
                     th { (v.t("状态", "State")) } th { (v.t("重设密码", "Reset password")) } th {} }
                @for s in &list {
                    tr data-staff=(s.username) {
                        td { (s.username) } td { (role_form(&v, s)) } td { (v.time(s.created_at)) }
                        td { @match &s.disabled_at {
                            Some(at) => { span.unmet { (v.t("已停用", "disabled")) } " " (v.time(*at)) }
                            None => { (v.t("正常", "active")) }
                        } }
                        td { form.inline.reset data-api={ "/api/v1/staff/" (s.id) "/password" }
                                data-confirm=(format!("{} {}？{}", v.t("重设密码：", "Reset the password of"), s.username,
                                    v.t("其所有登录将退出。", "All of their sessions end.")))
                                data-done=(v.t("密码已重设", "Password reset")) {
                            input name="new_password" type="password" autocomplete="new-password" minlength="10" required
                                aria-label=(v.t("新密码", "New password"));
                            button type="submit" { (v.t("重设", "Reset")) } } }
                        td { @let disable = s.disabled_at.is_none();
                            form.inline.disable data-api={ "/api/v1/staff/" (s.id) "/disabled" } data-method="PUT"
                                data-confirm=(format!("{} {}？", if disable { v.t("停用账号", "Disable the account of") } else { v.t("恢复账号", "Enable the account of") }, s.username))
                                data-done=(if disable { v.t("已停用", "Disabled") } else { v.t("已恢复", "Enabled") }) {
                            input type="hidden" name="disabled" value=(disable) data-type="bool";
                            button.danger[disable] type="submit" { (if disable { v.t("停用", "Disable") } else { v.t("恢复", "Enable") }) } } }
                    }
                }
            }
        },
    ))
}

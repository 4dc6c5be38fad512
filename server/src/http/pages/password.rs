//! Changing one's own password; the answer carries a fresh session, so the page stays
//! logged in.

use super::Viewer;
use maud::{Markup, html};

pub(super) async fn password_page(v: Viewer) -> Markup {
    v.page(
        v.t("修改密码", "Change password"),
        html! {
            p { (v.t("新密码至少 10 个字符，不能是常见密码。修改后其他设备上的登录会退出。",
                     "At least 10 characters, not a common password. Other sessions of your account end.")) }
            form #change-password class="inline" data-api="/api/v1/auth/password" data-done=(v.t("密码已修改", "Password changed")) {
                label { (v.t("当前密码", "Current password")) input name="current_password" type="password" autocomplete="current-password" required; }
                label { (v.t("新密码", "New password")) input name="new_password" type="password" autocomplete="new-password" minlength="10" required; }
                button type="submit" { (v.t("修改", "Change")) }
            }
        },
    )
}

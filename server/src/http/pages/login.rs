//! The log-in page: in Chinese unless `?lang=en` (the staff member's own choice applies
//! once logged in).

use super::Viewer;
use maud::{DOCTYPE, Markup, html};

/// The log-in page's form.
pub const SCRIPT: &str = r#"
{const lf=document.getElementById('login');if(lf&&lf.tagName==='FORM')lf.addEventListener('submit',async ev=>{ev.preventDefault();
 const r=await api('POST','/api/v1/auth/login',{username:document.getElementById('username').value,password:document.getElementById('password').value});
 if(r.ok)location=r.v&&r.v.role==='guard'?'/guard':'/desk/renovations';else showBeside(lf,false,errText(r));});}
"#;

pub(super) async fn login(v: Viewer) -> Markup {
    let other = v.lang.other();
    html! {
        (DOCTYPE)
        html lang=(v.lang.html_tag()) data-tz=(v.tz.name()) {
            head {
                meta charset="utf-8";
                title { (v.t("登录", "Log in")) " — Gatehouse" }
                link rel="stylesheet" href="/static/desk.css";
            }
            body {
                main {
                    h1 { (v.t("物业前台登录", "Front desk log in")) }
                    p { a #lang-link href={ "/login?lang=" (other.as_str()) } { (other.pick("中文", "English")) } }
                    form #login class="inline" {
                        label { (v.t("用户名", "Username")) input name="username" #username autocomplete="username" required; }
                        label { (v.t("密码", "Password")) input name="password" #password type="password" autocomplete="current-password" required; }
                        button type="submit" #login-button { (v.t("登录", "Log in")) }
                    }
                }
                div #flash role="status" {}
                script src="/static/desk.js" {}
            }
        }
    }
}

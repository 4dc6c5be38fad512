//! The audit log (managers): entries newest first, filtered by area, person and dates, a page
//! at a time; the chain's verification asked of `/api/v1/audit/verify` and said in words.

use super::Viewer;
use super::renovations::who;
use super::visitor_history::date_fields;
use crate::audit::{self, Entry};
use crate::domain::desk_error::DeskError;
use crate::domain::settings;
use crate::http::audit::RecentQuery;
use crate::http::extract::ApiQuery;
use crate::http::renovations::read;
use crate::state::AppState;
use axum::extract::State;
use maud::{Markup, html};

/// How many entries a page shows.
const PAGE: u32 = 50;

/// The areas the filter offers: action prefix, Chinese, English.
const AREAS: &[(&str, &str, &str)] = &[
    ("staff.", "员工账号", "Staff accounts"),
    ("device.", "设备", "Devices"),
    ("signing_key.", "签名密钥", "Signing keys"),
    ("door.", "远程开门", "Remote unlock"),
    ("estate.", "全区设置与封锁", "Estate and lockdown"),
    ("renovation.", "装修备案", "Renovations"),
    ("worker.", "施工人员", "Workers"),
    ("card.", "出入卡", "Cards"),
    ("visitor.", "访客", "Visitors"),
    ("invite.", "访客邀请", "Invites"),
    ("deny_list.", "禁止名单", "Deny list"),
    ("alarm.", "告警", "Alarms"),
    ("custody.", "钥匙对讲机", "Keys and radios"),
    ("goods.", "物品放行", "Goods permits"),
    ("settings.", "设置", "Settings"),
    ("retention.", "个人信息清除", "Personal data purge"),
];

/// The words of the actions a manager looks for most; others show their code.
const ACTIONS: &[(&str, &str, &str)] = &[
    ("staff.create", "新建账号", "account created"),
    ("staff.role", "更改角色", "role changed"),
    ("staff.password_reset", "重设密码", "password reset"),
    (
        "staff.password_change",
        "修改自己的密码",
        "own password changed",
    ),
    ("staff.disable", "停用账号", "account disabled"),
    ("staff.enable", "恢复账号", "account enabled"),
    ("device.create", "添加设备", "device added"),
    ("device.enrol", "设备接入", "device enrolled"),
    ("device.rename", "设备改名", "device renamed"),
    ("device.revoke", "停用设备", "device retired"),
    ("signing_key.add", "新增签名密钥", "signing key added"),
    (
        "signing_key.activate",
        "启用签名密钥",
        "signing key activated",
    ),
    ("signing_key.retire", "停用签名密钥", "signing key retired"),
    ("door.remote_unlock", "远程开门", "door unlocked remotely"),
    ("estate.lockdown", "全区封锁", "lockdown"),
    ("renovation.create", "登记装修", "renovation registered"),
    ("renovation.extend", "装修延期", "renovation extended"),
    ("renovation.refund", "退还保证金", "deposit refunded"),
    ("card.issue", "发卡", "card issued"),
    ("visitor.register", "登记访客", "visitor registered"),
    ("invite.create", "生成邀请码", "invite made"),
    ("deny_list.add", "加入禁止名单", "added to the deny list"),
    (
        "deny_list.remove",
        "移出禁止名单",
        "removed from the deny list",
    ),
    ("alarm.acknowledge", "知晓告警", "alarm acknowledged"),
];

fn action_words(v: &Viewer, action: &str) -> Markup {
    html! {
        @match ACTIONS.iter().find(|(a, ..)| *a == action) {
            Some((_, zh, en)) => { (v.t(zh, en)) " " code { (action) } },
            None => code { (action) },
        }
    }
}

pub(super) async fn audit_page(
    State(state): State<AppState>,
    v: Viewer,
    ApiQuery(q): ApiQuery<RecentQuery>,
) -> Result<Markup, DeskError> {
    let now = state.now();
    let asked = q.clone();
    let entries: Result<Vec<Entry>, DeskError> = read(&state, move |c| {
        let tz = settings::time_zone(c)?;
        let filter = match q.filter(tz, settings::local_date(tz, now)) {
            Ok(f) => audit::Filter { limit: PAGE, ..f },
            Err(e) => return Ok(Err(e)),
        };
        Ok(Ok(audit::page(c, &filter)?))
    })
    .await?;
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let (from, to) = (date(asked.range.from), date(asked.range.to));
    let action = asked.action.clone().unwrap_or_default();
    let actor = asked.actor.clone().unwrap_or_default();
    let older = entries
        .as_ref()
        .ok()
        .filter(|e| e.len() == PAGE as usize)
        .and_then(|e| e.last())
        .map(|last| {
            let mut u = form_urlencoded::Serializer::new(String::new());
            u.append_pair("before", &last.seq.to_string());
            for (k, val) in [
                ("action", &action),
                ("actor", &actor),
                ("from", &from),
                ("to", &to),
            ] {
                if !val.is_empty() {
                    u.append_pair(k, val);
                }
            }
            format!("/desk/audit?{}", u.finish())
        });
    Ok(v.page(
        v.t("审计日志", "Audit log"),
        html! {
            p #audit-verify data-ok=(v.t("完整：已核对 {entries} 条记录，没有被改动、删除或重排。", "Intact: {entries} entries checked; none was edited, deleted or reordered."))
                data-bad=(v.t("已被改动：第 {seq} 条起对不上（{problem}）。请保留数据库副本并报告。", "Tampered with: entries from number {seq} on do not match ({problem}). Keep a copy of the database and report it."))
                data-failed=(v.t("无法核对审计日志", "The audit log could not be checked")) {
                (v.t("正在核对审计日志…", "Checking the audit log…")) }
            form.inline #audit-filter method="get" action="/desk/audit" {
                label { (v.t("范围", "Area")) select name="action" {
                    option value="" { (v.t("全部", "All")) }
                    @for (prefix, zh, en) in AREAS { option value=(prefix) selected[action == *prefix] { (v.t(zh, en)) } } } }
                label { (v.t("操作人", "By")) input name="actor" type="search" value=(actor) autocomplete="off"; }
                (date_fields(&v, &from, &to))
                button type="submit" { (v.t("查询", "Search")) }
            }
            @match &entries {
                Err(e) => (v.refusal(e)),
                Ok(list) => {
                    table #audit {
                        tr { th { "#" } th { (v.t("时间", "When")) } th { (v.t("操作人", "By")) } th { (v.t("操作", "What")) }
                             th { (v.t("对象", "On")) } th { (v.t("详情", "Details")) } }
                        @for e in list {
                            tr data-seq=(e.seq) {
                                td { (e.seq) } td { (super::renovations::stamp(&v, &e.at)) } td { (who(&v, &e.actor)) }
                                td { (action_words(&v, &e.action)) } td { code { (e.subject) } }
                                td.details { @if e.details != "{}" { code { (e.details) } } }
                            }
                        }
                    }
                    @if list.is_empty() { p { (v.t("没有符合条件的记录", "No entries match")) } }
                    p.pager {
                        @if asked.before.is_some() { a #newest href="/desk/audit" { (v.t("最新", "Newest")) } " " }
                        @if let Some(href) = &older { a #older href=(href) { (v.t("更早 →", "Older →")) } }
                    }
                }
            }
        },
    ))
}

/// Asks the server to verify the chain and says the answer in words.
pub const SCRIPT: &str = r#"
{const el=document.getElementById('audit-verify');if(el)(async()=>{let r;
 try{r=await fetch('/api/v1/audit/verify');}catch(e){r=null;}
 if(!r||!r.ok){el.textContent=el.dataset.failed;el.className='unmet';return;}const x=await r.json();
 const fill=t=>t.replace('{entries}',x.entries).replace('{seq}',x.first_bad_seq).replace('{problem}',x.problem||'');
 el.textContent=(x.ok?'✔ ':'⚠ ')+fill(x.ok?el.dataset.ok:el.dataset.bad);el.className=x.ok?'met':'unmet';el.dataset.state=x.ok?'intact':'broken';})();}
"#;

/// Long details wrap inside their cell.
pub const CSS: &str = r#"
#audit td.details code{white-space:pre-wrap;word-break:break-all;font-size:.85em}#audit-verify{font-size:1.1em;padding:.4em 0}
"#;

//! Exports: CSV files of gate events, visitors, cards and deposit ledger lines, each over a
//! range of local dates (the last 30 days unless changed). Names are masked; a cell that a
//! spreadsheet would run as a formula is neutralised.

use super::Viewer;
use super::visitor_history::date_fields;
use crate::domain::desk_error::DeskError;
use crate::domain::history::DateRange;
use crate::domain::settings;
use crate::http::renovations::read;
use crate::state::AppState;
use axum::extract::State;
use maud::{Markup, html};

pub(super) async fn exports_page(
    State(state): State<AppState>,
    v: Viewer,
) -> Result<Markup, DeskError> {
    let now = state.now();
    let period = read(&state, move |c| {
        let tz = settings::time_zone(c)?;
        DateRange::default().period(tz, settings::local_date(tz, now))
    })
    .await?;
    let (from, to) = (period.from.to_string(), period.to.to_string());
    let exports = [
        (
            "events",
            "/desk/exports/events.csv",
            v.t("门禁记录", "Gate events"),
            v.t(
                "每次刷码开门或拒绝、门的告警（每次最多 31 天）",
                "Every admission, refusal and door alarm (at most 31 days at a time)",
            ),
        ),
        (
            "visitors",
            "/api/v1/visitors.csv",
            v.t("访客", "Visitors"),
            v.t(
                "登记时间、房号、被访人、事由、签离",
                "Registered, unit, host, purpose, signed out",
            ),
        ),
        (
            "cards",
            "/api/v1/cards.csv",
            v.t("出入卡", "Cards"),
            v.t(
                "发出的工人卡和访客通行证及其状态",
                "Worker cards and visitor passes issued, and their state",
            ),
        ),
        (
            "deposits",
            "/api/v1/deposits.csv",
            v.t("保证金账目", "Deposits"),
            v.t(
                "收款、扣款、冲回、退还（元）",
                "Deposits, fees, deductions, reversals and refunds (yuan)",
            ),
        ),
    ];
    Ok(v.page(
        v.t("导出", "Exports"),
        html! {
            p { (v.t("按日期范围（含首尾两天，本地时间）下载 CSV 文件，可用 Excel 或 WPS 打开。姓名已打码。",
                     "Download CSV files for a range of dates (both days included, local time); they open in Excel or WPS. Names are masked.")) }
            @for (id, action, title, what) in exports {
                section.export {
                    h2 { (title) }
                    p { (what) }
                    form.inline.export id={ "export-" (id) } method="get" action=(action) {
                        (date_fields(&v, &from, &to))
                        button type="submit" { (v.t("下载 CSV", "Download CSV")) }
                    }
                }
            }
        },
    ))
}

/// Fetches the file so a refused range is said beside its form, then saves it.
pub const SCRIPT: &str = r#"
document.addEventListener('submit',async ev=>{const f=ev.target;if(!f.classList||!f.classList.contains('export'))return;ev.preventDefault();
 const q=new URLSearchParams(new FormData(f)).toString(),r=await fetch(f.action+'?'+q);
 if(!r.ok){let v=null;try{v=await r.json();}catch(e){}showBeside(f,false,errText({status:r.status,v}));return;}
 const name=(/filename="([^"]+)"/.exec(r.headers.get('content-disposition')||'')||[])[1]||'export.csv';
 const a=document.createElement('a');a.href=URL.createObjectURL(await r.blob());a.download=name;document.body.append(a);a.click();a.remove();
 showBeside(f,true,T('已下载','Downloaded')+' '+name);});
"#;

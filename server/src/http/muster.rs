//! The muster list (roll call): the API the desk and the kiosk read, ticks, and the desk page
//! that lists, ticks and prints on A4 (see [`crate::domain::muster`]).

use super::Endpoint;
use super::extract::ApiPath;
use super::openapi::{Io, one, params};
use super::pages::Viewer;
use super::renovations::{read, write};
use crate::auth::Actor;
use crate::auth::Allow;
use crate::domain::desk_error::DeskError;
use crate::domain::muster::{self, Tick};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use gatehouse_credential::api::muster::{MusterKind, MusterList};
use maud::{Markup, html};
use serde::Deserialize;

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/api/v1/muster", get(list))
            .allow(Allow::STAFF.or(Allow::KIOSK))
            .doc(
                "emergency",
                "Everyone who may be inside now, with ticks and counts by building and floor",
            )
            .io(Io::ok(one::<MusterList>)),
        Endpoint::new(
            Method::POST,
            "/api/v1/muster/{kind}/{card_id}/found",
            post(found),
        )
        .allow(Allow::STAFF)
        .doc(
            "emergency",
            "Tick a person off as found in the current roll call",
        )
        .io(Io::ok(one::<Tick>).params(&[params::<MusterEntry>])),
        Endpoint::new(Method::GET, "/desk/muster", get(muster_page))
            .allow(Allow::STAFF)
            .doc(
                "pages",
                "Page: the muster list (roll call), ticks, A4 print",
            ),
    ]
}

/// `{kind}/{card_id}` of a person on the muster list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MusterEntry {
    /// `visitor` or `worker`.
    #[param(inline)]
    pub kind: MusterKind,
    /// The card or pass number.
    #[param(format = Int64, maximum = 4_294_967_295.0)]
    pub card_id: u32,
}

/// The header that names an active emergency on the muster answer.
pub const EMERGENCY_HEADER: &str = "gatehouse-emergency";

async fn list(
    State(state): State<AppState>,
) -> Result<(axum::http::HeaderMap, Json<MusterList>), DeskError> {
    let now = state.now();
    let (signal, list) = read(&state, move |c| {
        Ok((
            crate::domain::emergency::muster_signal(c)?,
            muster::list(c, now)?,
        ))
    })
    .await?;
    let mut headers = axum::http::HeaderMap::new();
    if let Some(signal) = signal {
        headers.insert(
            EMERGENCY_HEADER,
            axum::http::HeaderValue::from_static(signal),
        );
    }
    Ok((headers, Json(list)))
}

async fn found(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(entry): ApiPath<MusterEntry>,
) -> Result<Json<Tick>, DeskError> {
    let now = state.now();
    let tick = write(&state, move |tx| {
        muster::found(tx, &actor, entry.kind, entry.card_id, now)
    })
    .await?;
    Ok(Json(tick))
}

/// On paper: A4, no navigation, alarms or buttons; a box to tick by hand for everyone not yet
/// found; table headers repeated on every page, no row split across two.
pub(crate) const PRINT_CSS: &str = r#"
.found td{background:#d9f5e1}.box{font-size:1.3em}
@media print{@page{size:A4;margin:12mm}
 nav,#emergency-bar,#alarms,#notices,#flash,dialog,form,.no-print{display:none!important}
 body{background:#fff}main{max-width:none;padding:0}h1{font-size:14pt;margin:0 0 4pt}
 table{font-size:9pt}td,th{padding:2pt 4pt}#muster td:nth-child(5){white-space:nowrap}.found td{background:none}thead{display:table-header-group}tr{break-inside:avoid}}
"#;

fn local_time(tz: Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(&tz).format("%m-%d %H:%M").to_string()
}

fn kind_label(kind: MusterKind) -> &'static str {
    match kind {
        MusterKind::Visitor => "访客 Visitor",
        MusterKind::Worker => "施工 Worker",
    }
}

async fn muster_page(State(state): State<AppState>, v: Viewer) -> Result<Markup, DeskError> {
    let now = state.now();
    let m = read(&state, move |c| Ok(muster::list(c, now)?)).await?;
    let tz: Tz = m.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    let found = m.people.iter().filter(|p| p.found_at.is_some()).count();
    Ok(v.page(
        "点名 Roll call (muster list)",
        html! {
            p #muster-summary {
                "名单生成于 List made at " (m.generated_at.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S")) " · "
                (m.people.len()) " 人可能在内 people may be inside · 已找到 found " (found)
            }
            p.no-print {
                button type="button" #print-muster { "打印 Print" } " "
                button type="button" #reload-muster { "刷新 Refresh" }
            }
            h2 { "按楼栋楼层 By building and floor" }
            table #muster-counts {
                thead { tr { th { "楼栋 Building" } th { "楼层 Floor" } th { "人数 People" } } }
                tbody { @for c in &m.counts {
                    tr { td { (c.building.clone().unwrap_or_else(|| "—".into())) }
                         td { (c.floor.map(|f| f.to_string()).unwrap_or_else(|| "—".into())) } td { (c.count) } }
                } }
            }
            h2 { "名单 Everyone who may be inside" }
            table #muster {
                thead { tr {
                    th { "已找到 Found" } th { "类别 Kind" } th { "卡号 Card" } th { "姓名 Name" } th { "房号 Unit" }
                    th { "楼栋/楼层 Building/floor" } th { "被访人/施工单位 Host/contractor" } th { "进入 Since" }
                    th { "最后门禁 Last door" }
                } }
                tbody { @for p in &m.people {
                    tr.found[p.found_at.is_some()] data-kind=(muster::kind_name(p.kind)) data-card=(p.card_id) {
                        td {
                            @if let (Some(at), Some(by)) = (p.found_at, &p.found_by) {
                                "✔ " (local_time(tz, at)) " " (by)
                            } @else {
                                span.box { "☐" } " "
                                form.inline data-api={ "/api/v1/muster/" (muster::kind_name(p.kind)) "/" (p.card_id) "/found" } {
                                    button type="submit" { "找到 Found" }
                                }
                            }
                        }
                        td { (kind_label(p.kind)) } td { "#" (p.card_id) } td { (p.name_masked) }
                        td { (p.unit.clone().unwrap_or_default()) }
                        td { (p.building.clone().unwrap_or_default()) " " (p.floor.map(|f| format!("{f}F")).unwrap_or_default()) }
                        td { (p.host.clone().unwrap_or_default()) }
                        td { (local_time(tz, p.since)) }
                        td { @if let (Some(door), Some(at)) = (&p.last_door, p.last_seen_at) { (door) " " (local_time(tz, at)) } }
                    }
                } }
            }
        },
    ))
}

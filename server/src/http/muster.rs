//! The muster list (roll call): the API the desk and the kiosk read, ticks, and the desk page
//! that lists, ticks and prints on A4 (see [`crate::domain::muster`]).

use super::Endpoint;
use super::act::Act;
use super::extract::ApiPath;
use super::openapi::{Io, one, params};
use super::pages::Viewer;
use super::renovations::read;
use crate::auth::Allow;
use crate::domain::desk_error::DeskError;
use crate::domain::muster::{self, Tick};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use axum::routing::{get, post};
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

async fn found(act: Act, ApiPath(entry): ApiPath<MusterEntry>) -> Result<Json<Tick>, DeskError> {
    let tick = act
        .write(move |tx, actor, now| muster::found(tx, actor, entry.kind, entry.card_id, now))
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

fn kind_label(v: &Viewer, kind: MusterKind) -> &'static str {
    match kind {
        MusterKind::Visitor => v.t("访客", "Visitor"),
        MusterKind::Worker => v.t("施工人员", "Worker"),
    }
}

/// A floor in words: `12层` or `floor 12`.
fn floor_words(v: &Viewer, f: i32) -> String {
    format!("{}{f}{}", v.t("", "floor "), v.t("层", ""))
}

async fn muster_page(State(state): State<AppState>, v: Viewer) -> Result<Markup, DeskError> {
    let now = state.now();
    let m = read(&state, move |c| Ok(muster::list(c, now)?)).await?;
    let found = m.people.iter().filter(|p| p.found_at.is_some()).count();
    Ok(v.page(
        v.t("点名", "Roll call (muster list)"),
        html! {
            p #muster-summary {
                (v.t("名单生成于", "List made at")) " " (v.time(m.generated_at)) " · "
                (m.people.len()) " " (v.t("人可能在内", "people may be inside")) " · " (v.t("已找到", "found")) " " (found)
            }
            p.no-print {
                button type="button" #print-muster { (v.t("打印", "Print")) } " "
                button type="button" #reload-muster { (v.t("刷新", "Refresh")) }
            }
            h2 { (v.t("按楼栋楼层", "By building and floor")) }
            table #muster-counts {
                thead { tr { th { (v.t("楼栋", "Building")) } th { (v.t("楼层", "Floor")) } th { (v.t("人数", "People")) } } }
                tbody { @for c in &m.counts {
                    tr { td { (c.building.clone().unwrap_or_else(|| "—".into())) }
                         td { (c.floor.map(|f| floor_words(&v, f)).unwrap_or_else(|| "—".into())) } td { (c.count) } }
                } }
            }
            h2 { (v.t("名单", "Everyone who may be inside")) }
            table #muster {
                thead { tr {
                    th { (v.t("已找到", "Found")) } th { (v.t("类别", "Kind")) } th { (v.t("卡号", "Card")) } th { (v.t("姓名", "Name")) } th { (v.t("房号", "Unit")) }
                    th { (v.t("楼栋/楼层", "Building/floor")) } th { (v.t("被访人/施工单位", "Host/contractor")) } th { (v.t("进入", "Since")) }
                    th { (v.t("最后门禁", "Last door")) }
                } }
                tbody { @for p in &m.people {
                    tr.found[p.found_at.is_some()] data-kind=(muster::kind_name(p.kind)) data-card=(p.card_id) {
                        td {
                            @if let (Some(at), Some(by)) = (p.found_at, &p.found_by) {
                                "✔ " (v.time(at)) " " (by)
                            } @else {
                                span.box { "☐" } " "
                                form.inline data-api={ "/api/v1/muster/" (muster::kind_name(p.kind)) "/" (p.card_id) "/found" } {
                                    button type="submit" { (v.t("找到", "Found")) }
                                }
                            }
                        }
                        td { (kind_label(&v, p.kind)) } td { "#" (p.card_id) } td { (p.name_masked) }
                        td { (p.unit.clone().unwrap_or_default()) }
                        td { (p.building.clone().unwrap_or_default()) " " (p.floor.map(|f| floor_words(&v, f)).unwrap_or_default()) }
                        td { (p.host.clone().unwrap_or_default()) }
                        td { (v.time(p.since)) }
                        td { @if let (Some(door), Some(at)) = (&p.last_door, p.last_seen_at) { (door) " " (v.time(at)) } }
                    }
                } }
            }
        },
    ))
}

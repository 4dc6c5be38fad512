//! Alarms: those the desk has not yet seen (each acknowledged, or all at once after a
//! confirmation), those seen whose cause lasts, and the history filtered by kind, device
//! and period.

use super::Viewer;
use super::visitor_history::date_fields;
use crate::domain::alarms::{self, Alarm};
use crate::domain::desk_error::DeskError;
use crate::domain::devices;
use crate::http::alarms::AlarmFilter;
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::http::renovations::read;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{Method, Uri};
use gatehouse_credential::api::device::DeviceAlarmKind;
use maud::{Markup, html};

use crate::domain::alarms::KINDS;

/// An alarm's kind in words.
pub(super) fn kind_words(v: &Viewer, kind: DeviceAlarmKind) -> &'static str {
    match kind {
        DeviceAlarmKind::PaperOut => v.t("打印机缺纸", "Printer out of paper"),
        DeviceAlarmKind::PaperNearEnd => v.t("打印纸即将用完", "Paper nearly used up"),
        DeviceAlarmKind::PrinterOffline => v.t("打印机离线", "Printer offline"),
        DeviceAlarmKind::PrinterCoverOpen => v.t("打印机盖打开", "Printer cover open"),
        DeviceAlarmKind::DoorHeldOpen => v.t("门长时间未关", "Door held open"),
        DeviceAlarmKind::DoorForced => v.t("门被强行打开", "Door forced open"),
        DeviceAlarmKind::UntrustedClock => v.t("门禁时钟不可信", "Gate clock not trusted"),
        DeviceAlarmKind::ClockCorrected => v.t("门禁时钟已校正", "Gate clock corrected"),
        DeviceAlarmKind::ScannerLost => v.t("扫码器断开", "Scanner disconnected"),
        DeviceAlarmKind::ScannerMisconfigured => v.t("扫码器设置丢失", "Scanner lost its settings"),
        DeviceAlarmKind::FireAlarm => v.t("火警", "Fire alarm"),
        DeviceAlarmKind::WorkerCardGuessing => v.t(
            "自助取卡多次输错已锁定",
            "Kiosk card collection locked after wrong attempts",
        ),
        DeviceAlarmKind::DenyListCheck => v.t(
            "访客与禁止名单同名，请核实",
            "Visitor matches the deny list: check",
        ),
    }
}

/// A table of alarms; with an acknowledge button on each not yet seen when `ack`.
fn table(v: &Viewer, id: &str, list: &[&Alarm], ack: bool) -> Markup {
    html! {
        table id=(id) {
            tr { th { (v.t("告警", "Alarm")) } th { (v.t("设备", "Device")) } th { (v.t("发生", "Raised")) } th { (v.t("说明", "Detail")) }
                 th { (v.t("恢复", "Cleared")) } th { (v.t("知晓", "Seen")) } @if ack { th {} } }
            @for a in list {
                tr data-alarm=(a.id) data-kind=(alarms::kind_name(a.kind)) {
                    td.unmet[a.cleared_at.is_none()] { (kind_words(v, a.kind)) @if a.repeats > 1 { " ×" (a.repeats) } }
                    td { (a.device_name) } td { (v.time(a.raised_at)) } td { (a.detail.clone().unwrap_or_default()) }
                    td { @match a.cleared_at { Some(t) => (v.time(t)), None => (v.t("未恢复", "not yet")) } }
                    td { @match (&a.acknowledged_by, a.acknowledged_at) {
                        (Some(by), Some(t)) => { (by) " · " (v.time(t)) }
                        _ => span.unmet { (v.t("未知晓", "not yet")) },
                    } }
                    @if ack { td { @if a.acknowledged_at.is_none() {
                        form.inline.ack data-api={ "/api/v1/alarms/" (a.id) "/acknowledge" } data-done=(v.t("已知晓", "Acknowledged")) {
                            button type="submit" { (v.t("知道了", "Acknowledge")) } }
                    } } }
                }
            }
        }
    }
}

pub(super) async fn alarms_page(
    State(state): State<AppState>,
    v: Viewer,
    uri: Uri,
    ApiQuery(filter): ApiQuery<AlarmFilter>,
) -> Result<Markup, DeskError> {
    let first = filter.before.is_none();
    let history = crate::http::alarms::history_page(&state, filter.clone()).await?;
    let (open, (unseen_count, to_ack), devices) = read(&state, move |c| {
        Ok((
            alarms::open(c)?,
            alarms::unseen_counts(c)?,
            devices::list(c).map_err(ApiError::from)?,
        ))
    })
    .await?;
    let unseen: Vec<&Alarm> = open
        .iter()
        .filter(|a| a.acknowledged_at.is_none())
        .collect();
    let lasting: Vec<&Alarm> = open
        .iter()
        .filter(|a| a.acknowledged_at.is_some() && a.cleared_at.is_none())
        .collect();
    let may_ack = v.may(&Method::POST, "/api/v1/alarms/acknowledge-all");
    let (from, to) = match &history {
        Ok((p, _)) => (p.from.to_string(), p.to.to_string()),
        Err(_) => Default::default(),
    };
    Ok(v.page(
        v.t("告警", "Alarms"),
        html! {
            h2 { (v.t("未知晓", "Not yet seen")) " (" (unseen_count) ")" }
            @if unseen_count > unseen.len() {
                p #unseen-more { (v.t("只列出最新的", "Showing the newest")) " " (unseen.len()) (v.t(" 条", "")) }
            }
            @if may_ack && to_ack > 0 {
                form.inline #acknowledge-all data-api="/api/v1/alarms/acknowledge-all"
                    data-confirm=(format!("{} {} {}", v.t("全部知晓这", "Acknowledge all"), to_ack, v.t("条告警？", "alarms?")))
                    data-yes=(v.t("全部知晓", "Acknowledge all")) data-done=(v.t("已全部知晓", "All acknowledged")) {
                    button type="submit" { (v.t("全部知道了", "Acknowledge all")) " (" (to_ack) ")" }
                }
            }
            (table(&v, "unseen-alarms", &unseen, may_ack))
            h2 { (v.t("已知晓、仍未恢复", "Seen, cause still there")) " (" (lasting.len()) ")" }
            (table(&v, "lasting-alarms", &lasting, false))
            h2 { (v.t("告警记录", "Alarm history")) }
            form.inline #alarm-filter method="get" action="/desk/alarms" {
                label { (v.t("类型", "Kind")) select name="kind" {
                    option value="" { (v.t("全部", "All")) }
                    @for k in KINDS { option value=(alarms::kind_name(k)) selected[filter.kind == Some(k)] { (kind_words(&v, k)) } } } }
                label { (v.t("设备", "Device")) select name="device" {
                    option value="" { (v.t("全部", "All")) }
                    @for d in &devices { option value=(d.device_id) selected[filter.device.as_deref() == Some(d.device_id.as_str())] { (d.name) } } } }
                (date_fields(&v, &from, &to))
                button type="submit" { (v.t("查询", "Search")) }
            }
            @match &history {
                Err(e) => (v.refusal(e)),
                Ok((_, page)) => {
                    p #alarm-count { (page.rows.len()) " " (v.t("条告警", "alarm(s)"))
                        @if page.next.is_some() { " · " (v.t("还有更早的，见下方“更多”", "older ones follow: see “More” below")) } }
                    (table(&v, "alarm-history", &page.rows.iter().collect::<Vec<_>>(), false))
                    (super::renovations::more_links(&v, page.next_href(&uri, "before").as_deref(), first, "/desk/alarms"))
                }
            }
        },
    ))
}

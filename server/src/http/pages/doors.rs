//! Doors: every gate with online/offline, when it was last heard from, how far behind its
//! sync is, its relay, door and fire input as it last reported them, and its open alarms; a
//! manager's remote unlock (with a reason, for the audit log), the estate-wide lockdown and
//! the evacuation, each asked for first.

use super::Viewer;
use crate::domain::desk_error::DeskError;
use crate::domain::{alarms, devices, emergency, estate, gate_reports};
use crate::http::renovations::read;
use crate::state::AppState;
use axum::extract::State;
use axum::http::Method;
use gatehouse_credential::api::device::DeviceAlarmKind;
use gatehouse_credential::api::gate::{DoorState, RelayState};
use gatehouse_credential::{Zone, ZoneClass};
use maud::{Markup, html};

pub(super) use crate::domain::gate_reports::heard;

/// The estate's gates that are not retired.
pub(super) fn gates(c: &rusqlite::Connection) -> Result<Vec<devices::DeviceInfo>, DeskError> {
    Ok(gate_reports::gates(c).map_err(crate::http::error::ApiError::from)?)
}

/// The lockdown and evacuation controls side by side.
pub(super) const CSS: &str =
    ".controls{display:flex;flex-wrap:wrap;gap:.6em}.controls form.inline{flex:0 1 auto}\n";

/// A device alarm in words.
pub(super) fn alarm_words(v: &Viewer, k: DeviceAlarmKind) -> &'static str {
    match k {
        DeviceAlarmKind::PaperOut => v.t("打印机缺纸", "printer out of paper"),
        DeviceAlarmKind::PaperNearEnd => v.t("打印纸即将用完", "paper nearly used up"),
        DeviceAlarmKind::PrinterOffline => v.t("打印机离线", "printer offline"),
        DeviceAlarmKind::DoorHeldOpen => v.t("门长时间未关", "door held open"),
        DeviceAlarmKind::DoorForced => v.t("门被强行打开", "door forced open"),
        DeviceAlarmKind::UntrustedClock => v.t("门禁时钟不可信", "gate clock not trusted"),
        DeviceAlarmKind::ScannerLost => v.t("扫码器断开", "scanner disconnected"),
        DeviceAlarmKind::PrinterCoverOpen => v.t("打印机盖未关", "printer cover open"),
        DeviceAlarmKind::ScannerMisconfigured => v.t("扫码器设置丢失", "scanner settings lost"),
        DeviceAlarmKind::FireAlarm => v.t("火警", "fire alarm"),
        DeviceAlarmKind::ClockCorrected => v.t("门禁时钟已校正", "gate clock corrected"),
        DeviceAlarmKind::WorkerCardGuessing => v.t(
            "自助取卡多次输错已锁定",
            "kiosk collection locked after wrong attempts",
        ),
        DeviceAlarmKind::DenyListCheck => {
            v.t("访客姓名与黑名单相符", "visitor matches the deny list")
        }
    }
}

/// A class of door in words.
pub(super) fn class_words(v: &Viewer, c: ZoneClass) -> &'static str {
    match c {
        ZoneClass::Entrance => v.t("入口", "entrance"),
        ZoneClass::Floor => v.t("楼层门", "floor door"),
        ZoneClass::ServiceElevator => v.t("货梯", "service lift"),
        ZoneClass::PassengerElevator => v.t("客梯", "passenger lift"),
        ZoneClass::Carpark => v.t("停车场", "car park"),
    }
}

/// The door a zone is, in words: `2号楼 入口` or `building 2 entrance`, `12层` / `floor 12`.
pub(super) fn zone_words(v: &Viewer, z: &Zone) -> String {
    let floor = z.floor.map(|f| match v.lang {
        crate::domain::language::Lang::Zh => format!(" {f}层"),
        crate::domain::language::Lang::En => format!(" {f}"),
    });
    match v.lang {
        crate::domain::language::Lang::Zh => format!(
            "{}号楼 {}{}",
            z.building,
            class_words(v, z.class),
            floor.unwrap_or_default()
        ),
        crate::domain::language::Lang::En => format!(
            "building {} {}{}",
            z.building,
            class_words(v, z.class),
            floor.unwrap_or_default()
        ),
    }
}

/// How far behind a gate's sync is, in words.
fn lag_words(v: &Viewer, d: &gate_reports::Door) -> String {
    match (d.behind_changes, d.behind_seconds) {
        (None, _) => v.t("未报告", "not reported").to_owned(),
        (Some(0), _) => v.t("已同步", "up to date").to_owned(),
        (Some(n), Some(s)) => match v.lang {
            crate::domain::language::Lang::Zh => format!("落后 {n} 项变更，{s} 秒"),
            crate::domain::language::Lang::En => format!("{n} changes behind, {s} s"),
        },
        (Some(n), None) => match v.lang {
            crate::domain::language::Lang::Zh => format!("落后 {n} 项变更"),
            crate::domain::language::Lang::En => format!("{n} changes behind"),
        },
    }
}

pub(super) async fn doors_page(
    State(state): State<AppState>,
    v: Viewer,
) -> Result<Markup, DeskError> {
    let now = state.now();
    let (doors, open, lockdown, evacuation, named) = read(&state, move |c| {
        Ok((
            gate_reports::doors(c, now).map_err(crate::http::error::ApiError::from)?,
            alarms::open(c)?,
            estate::lockdown(c)?,
            emergency::evacuation_active(c)?,
            estate::estate(c)?.zones,
        ))
    })
    .await?;
    let may_unlock = v.may(&Method::POST, "/api/v1/doors/{device_id}/unlock");
    let may_lock = v.may(&Method::PUT, "/api/v1/lockdown");
    let may_evacuate = if evacuation {
        v.may(&Method::DELETE, "/api/v1/evacuation")
    } else {
        v.may(&Method::POST, "/api/v1/evacuation")
    };
    // A door the estate named is shown by that name, as the manager typed it.
    let zone_name = |z: &Zone| {
        named
            .iter()
            .find(|n| n.zone == *z)
            .map(|n| n.name.clone())
            .unwrap_or_else(|| zone_words(&v, z))
    };
    Ok(v.page(
        v.t("门禁", "Doors"),
        html! {
            p #lockdown-state .unmet[lockdown] {
                @if lockdown { "⚠ " (v.t("全区封锁中：门禁全部锁闭", "Estate lockdown is on: doors stay locked")) }
                @else { (v.t("未封锁", "No lockdown")) }
            }
            p #evacuation-state .unmet[evacuation] {
                @if evacuation { "⚠ " (v.t("紧急疏散进行中：逃生通道上的门已打开", "Evacuation in progress: doors on escape routes stand released")) }
                @else { (v.t("无疏散", "No evacuation")) }
            }
            div.controls {
                @if may_lock {
                    form.inline #lockdown data-api="/api/v1/lockdown" data-method="PUT"
                        data-confirm=(if lockdown { v.t("解除全区封锁？门禁恢复正常。", "End the lockdown? Doors return to normal.") }
                            else { v.t("开始全区封锁？所有门禁将锁闭。", "Start a lockdown? Every door locks.") })
                        data-yes=(if lockdown { v.t("确认解除", "End it") } else { v.t("确认封锁", "Lock down") })
                        data-done=(if lockdown { v.t("已解除封锁", "Lockdown ended") } else { v.t("已封锁", "Locked down") }) {
                        input type="hidden" name="active" value=(!lockdown) data-type="bool";
                        button.danger[!lockdown] type="submit" { (if lockdown { v.t("解除封锁", "End lockdown") } else { v.t("全区封锁", "Lock down") }) }
                    }
                }
                @if may_evacuate {
                    form.inline #evacuation data-api="/api/v1/evacuation" data-method=(if evacuation { "DELETE" } else { "POST" })
                        data-confirm=(if evacuation { v.t("结束疏散？门将恢复正常。", "End the evacuation? Doors return to normal.") }
                            else { v.t("开始紧急疏散？所有逃生通道上的门将打开，并开始点名。", "Start an evacuation? Every door on an escape route is released and a roll call starts.") })
                        data-yes=(if evacuation { v.t("确认结束", "End it") } else { v.t("确认疏散", "Evacuate now") })
                        data-done=(if evacuation { v.t("疏散已结束", "Evacuation ended") } else { v.t("疏散已开始", "Evacuation started") }) {
                        button.danger[!evacuation] type="submit" { (if evacuation { v.t("结束疏散", "End evacuation") } else { v.t("紧急疏散", "Evacuate") }) }
                    }
                }
            }
            label { (v.t("查找", "Search")) input type="search" #door-search data-filter="#doors"; }
            table #doors {
                tr { th { (v.t("门", "Door")) } th { (v.t("区域", "Zone")) } th { (v.t("状态", "State")) } th { (v.t("最后联系", "Last heard")) }
                     th { (v.t("同步", "Sync")) } th { (v.t("门锁", "Relay")) } th { (v.t("门", "Door")) } th { (v.t("消防输入", "Fire input")) }
                     th { (v.t("告警", "Alarms")) } @if may_unlock { th { (v.t("远程开门", "Remote unlock")) } } }
                @for g in &doors {
                    tr data-door=(g.device_id) {
                        td { (g.name) } td { (g.zone.as_ref().map(zone_name).unwrap_or_default()) }
                        @if g.online { td.met.online { "● " (v.t("在线", "online")) } } @else { td.unmet.offline { "○ " (v.t("离线", "offline")) } }
                        td { (g.last_seen_at.map(|t| v.time(t)).unwrap_or_else(|| v.t("从未", "never").to_owned())) }
                        td.sync.unmet[g.behind_changes.is_some_and(|n| n > 0)] { (lag_words(&v, g)) }
                        td.relay { @match g.relay {
                            Some(RelayState::Locked) => { (v.t("锁闭", "locked")) }
                            Some(RelayState::Released) => span.unmet { (v.t("已释放", "released")) }
                            None => { "—" }
                        } }
                        td.door-state { @match g.door {
                            Some(DoorState::Closed) => { (v.t("关闭", "closed")) }
                            Some(DoorState::Open) => { (v.t("打开", "open")) }
                            Some(DoorState::Held) => span.unmet { (v.t("长时间未关", "held open")) }
                            None => { "—" }
                        } }
                        td.fire { @match g.fire {
                            Some(true) => span.unmet { "⚠ " (v.t("火警", "in alarm")) }
                            Some(false) => { (v.t("正常", "normal")) }
                            None => { "—" }
                        } }
                        td { @for a in open.iter().filter(|a| a.device_id == g.device_id) {
                            span.unmet { (alarm_words(&v, a.kind)) } " " (v.time(a.raised_at)) br; } }
                        @if may_unlock { td {
                            form.inline.unlock data-api={ "/api/v1/doors/" (g.device_id) "/unlock" }
                                data-confirm=(format!("{} {}（{{seconds}} {}）？{}：{{reason}}", v.t("远程打开", "Open"), g.name, v.t("秒", "s"), v.t("原因", "Reason")))
                                data-yes=(v.t("确认开门", "Open it")) data-done=(v.t("已发送开门指令", "Unlock sent")) {
                                label { (v.t("秒", "Seconds")) input name="seconds" data-type="int" type="number" min="1" max="60" value="5" size="3"; }
                                label { (v.t("原因", "Reason")) input name="reason" required; }
                                button type="submit" { (v.t("开门", "Unlock")) } }
                        } }
                    }
                }
            }
        },
    ))
}

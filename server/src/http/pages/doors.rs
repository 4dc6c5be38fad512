//! Doors: every gate with online/offline, when it was last heard from, and its open alarms;
//! a manager's remote unlock (with a reason, for the audit log) and the estate-wide
//! lockdown, each asked for first.

use super::Viewer;
use crate::domain::desk_error::DeskError;
use crate::domain::{alarms, devices, estate};
use crate::http::renovations::read;
use crate::state::AppState;
use axum::extract::State;
use axum::http::Method;
use chrono::{DateTime, Duration, Utc};
use gatehouse_credential::api::device::DeviceKind;
use maud::{Markup, html};

/// A gate not heard from for this long is shown offline (it polls far more often).
const OFFLINE_AFTER: Duration = Duration::minutes(3);

/// When device `d` was last heard from, and whether that makes it online at `now`.
pub(super) fn heard(d: &devices::DeviceInfo, now: DateTime<Utc>) -> (Option<DateTime<Utc>>, bool) {
    let seen = d
        .last_seen_at
        .as_deref()
        .and_then(|s| s.parse::<DateTime<Utc>>().ok());
    (seen, seen.is_some_and(|t| now - t < OFFLINE_AFTER))
}

/// The estate's gates that are not retired.
pub(super) fn gates(c: &rusqlite::Connection) -> Result<Vec<devices::DeviceInfo>, DeskError> {
    Ok(devices::list(c)
        .map_err(crate::http::error::ApiError::from)?
        .into_iter()
        .filter(|d| d.kind == DeviceKind::Gate && d.state != "revoked")
        .collect())
}

pub(super) async fn doors_page(
    State(state): State<AppState>,
    v: Viewer,
) -> Result<Markup, DeskError> {
    let now = state.now();
    let (gates, open, lockdown) = read(&state, |c| {
        Ok((gates(c)?, alarms::open(c)?, estate::lockdown(c)?))
    })
    .await?;
    let may_unlock = v.may(&Method::POST, "/api/v1/doors/{device_id}/unlock");
    let may_lock = v.may(&Method::PUT, "/api/v1/lockdown");
    Ok(v.page(
        v.t("门禁", "Doors"),
        html! {
            p #lockdown-state .unmet[lockdown] {
                @if lockdown { "⚠ " (v.t("全区封锁中：门禁全部锁闭", "Estate lockdown is on: doors stay locked")) }
                @else { (v.t("未封锁", "No lockdown")) }
            }
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
            label { (v.t("查找", "Search")) input type="search" #door-search data-filter="#doors"; }
            table #doors {
                tr { th { (v.t("门", "Door")) } th { (v.t("区域", "Zone")) } th { (v.t("状态", "State")) } th { (v.t("最后联系", "Last heard")) }
                     th { (v.t("告警", "Alarms")) } @if may_unlock { th { (v.t("远程开门", "Remote unlock")) } } }
                @for g in &gates {
                    @let (seen, online) = heard(g, now);
                    tr data-door=(g.device_id) {
                        td { (g.name) } td { (g.zone.as_ref().map(ToString::to_string).unwrap_or_default()) }
                        @if online { td.met.online { "● " (v.t("在线", "online")) } } @else { td.unmet.offline { "○ " (v.t("离线", "offline")) } }
                        td { (seen.map(|t| v.time(t)).unwrap_or_else(|| v.t("从未", "never").to_owned())) }
                        td { @for a in open.iter().filter(|a| a.device_id == g.device_id) {
                            span.unmet { (alarms::kind_name(a.kind)) } " " (v.time(a.raised_at)) br; } }
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

//! Devices (managers): every gate and kiosk with its state; add one and see its one-time
//! enrolment token as text and as a QR code (for the installer's phone or the device's own
//! scanner), rename one, retire one after a confirmation naming it.

use super::Viewer;
use super::doors::heard;
use crate::domain::desk_error::DeskError;
use crate::domain::devices::{self, DeviceInfo};
use crate::http::error::ApiError;
use crate::http::renovations::read;
use crate::state::AppState;
use axum::extract::State;
use gatehouse_credential::ZoneClass;
use gatehouse_credential::api::device::DeviceKind;
use maud::{Markup, html};

/// A device's kind in words.
fn kind_words(v: &Viewer, kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Gate => v.t("门禁", "Gate"),
        DeviceKind::Kiosk => v.t("自助机", "Kiosk"),
    }
}

/// A device's state in words.
fn state_words(v: &Viewer, d: &DeviceInfo) -> Markup {
    html! {
        @match d.state {
            "revoked" => span.unmet { (v.t("已停用", "retired")) },
            "enrolled" => span.met { (v.t("已接入", "enrolled")) },
            _ => span { (v.t("等待接入", "awaiting enrolment")) },
        }
    }
}

/// A door class in words.
fn class_words(v: &Viewer, class: ZoneClass) -> &'static str {
    match class {
        ZoneClass::Entrance => v.t("楼栋入口", "Building entrance"),
        ZoneClass::Floor => v.t("楼层门", "Floor door"),
        ZoneClass::ServiceElevator => v.t("货梯", "Service elevator"),
        ZoneClass::PassengerElevator => v.t("客梯", "Passenger elevator"),
        ZoneClass::Carpark => v.t("停车场", "Car park"),
    }
}

/// The class names the API takes, as `ZoneClass` serialises them.
fn class_value(class: ZoneClass) -> String {
    serde_json::to_value(class)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub(super) async fn devices_page(
    State(state): State<AppState>,
    v: Viewer,
) -> Result<Markup, DeskError> {
    let now = state.now();
    let list = read(&state, |c| Ok(devices::list(c).map_err(ApiError::from)?)).await?;
    Ok(v.page(
        v.t("设备", "Devices"),
        html! {
            h2 { (v.t("添加设备", "Add a device")) }
            form.inline #new-device data-api="/api/v1/devices" data-show="device" data-done=(v.t("设备已添加，请用下方接入码接入", "Device added: enrol it with the token below")) {
                label { (v.t("类型", "Kind")) select name="kind" {
                    option value="gate" { (kind_words(&v, DeviceKind::Gate)) } option value="kiosk" { (kind_words(&v, DeviceKind::Kiosk)) } } }
                label { (v.t("名称", "Name")) input name="name" required maxlength="64" autocomplete="off"; }
                fieldset.zone {
                    legend { (v.t("门禁守的门（自助机不填）", "The door a gate guards (none for a kiosk)")) }
                    label { (v.t("楼栋", "Building")) input name="zone_building" type="number" min="0" max="254"; }
                    label { (v.t("门类", "Door")) select name="zone_class" {
                        option value="" { "—" }
                        @for c in gatehouse_credential::ZoneClass::ALL { option value=(class_value(c)) { (class_words(&v, c)) } } } }
                    label { (v.t("楼层", "Floor")) input name="zone_floor" type="number" min="-128" max="127"; }
                }
                button type="submit" { (v.t("添加", "Add")) }
            }
            section #enrolment hidden aria-label=(v.t("设备接入码", "Enrolment token")) {
                h3 { (v.t("接入码（只显示这一次）", "Enrolment token (shown this once)")) }
                div.enrolment-face {
                    img.qr alt="QR";
                    div {
                        p.token.cred {}
                        p { (v.t("有效至", "Valid until")) " " span.until {} }
                        p { (v.t("在设备上运行接入命令并输入此码，或用设备的扫码器扫描二维码。", "Run the device's enrol command and give it this token, or scan the QR code with the device's scanner.")) }
                    }
                }
            }
            h2 { (v.t("全部设备", "All devices")) }
            label { (v.t("查找", "Search")) input type="search" #device-search data-filter="#devices"; }
            table #devices {
                tr { th { (v.t("名称", "Name")) } th { (v.t("类型", "Kind")) } th { (v.t("门", "Door")) } th { (v.t("状态", "State")) }
                     th { (v.t("添加于", "Added")) } th { (v.t("最后联系", "Last heard")) } th { (v.t("改名", "Rename")) } th {} }
                @for d in &list {
                    @let (seen, _) = heard(d, now);
                    @let live = d.state != "revoked";
                    tr data-device=(d.device_id) {
                        td.name { (d.name) } td { (kind_words(&v, d.kind)) }
                        td { @if let Some(z) = &d.zone { (v.t("楼栋", "Building")) " " (z.building) " · " (class_words(&v, z.class))
                            @if let Some(f) = z.floor { " · " (f) "F" } } }
                        td { (state_words(&v, d)) }
                        td { (v.time(d.created_at)) }
                        td { (seen.map(|t| v.time(t)).unwrap_or_else(|| v.t("从未", "never").to_owned())) }
                        td { @if live {
                            form.inline.rename data-api={ "/api/v1/devices/" (d.device_id) "/name" } data-method="PUT" data-done=(v.t("已改名", "Renamed")) {
                                input name="name" value=(d.name) required maxlength="64" aria-label=(v.t("新名称", "New name"));
                                button type="submit" { (v.t("改名", "Rename")) } }
                        } }
                        td { @if live {
                            form.inline.retire data-api={ "/api/v1/devices/" (d.device_id) } data-method="DELETE"
                                data-confirm=(format!("{} {}？{}", v.t("停用设备", "Retire the device"), d.name,
                                    v.t("它的密钥立即失效，无法恢复；要再用须重新添加。", "Its key stops working at once and cannot be restored; to use it again, add it anew.")))
                                data-yes=(v.t("确认停用", "Retire it")) data-done=(v.t("已停用", "Retired")) {
                                button.danger type="submit" { (v.t("停用", "Retire")) } }
                        } }
                    }
                }
            }
        },
    ))
}

/// Sends the new device with its zone (an object the flat form fields make), and shows the
/// token it got back as text and as a QR code (fetched by POST, so the token is in no
/// address or log).
pub const SCRIPT: &str = r#"
document.addEventListener('submit',ev=>{const f=ev.target;if(f.id!=='new-device')return;ev.preventDefault();ev.stopImmediatePropagation();
 const e=f.elements,body={kind:e.kind.value,name:e.namedItem('name').value};
 if(e.zone_class.value){body.zone={building:parseInt(e.zone_building.value||'0',10),class:e.zone_class.value};
  if(e.zone_floor.value!=='')body.zone.floor=parseInt(e.zone_floor.value,10);}
 send(f,body);},true);
document.addEventListener('desk:device',async ev=>{const s=document.getElementById('enrolment');if(!s)return;const d=ev.detail;
 s.querySelector('.token').textContent=d.enrolment_token;s.querySelector('.until').textContent=fmtTime(d.expires_at);s.hidden=false;
 const r=await fetch('/desk/qr.svg',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify({text:d.enrolment_token})});
 if(r.ok){const svg=await r.text();s.querySelector('.qr').src='data:image/svg+xml;base64,'+btoa(unescape(encodeURIComponent(svg)));}
 s.scrollIntoView({block:'nearest'});});
"#;

/// The enrolment token beside its QR code.
pub const CSS: &str = r#"
#enrolment{background:#fff;border:2px dashed #1f3a5f;padding:1em;margin:1em 0}
#enrolment .enrolment-face{display:flex;gap:1em;align-items:flex-start}#enrolment .qr{width:14em;height:14em}
fieldset.zone{display:flex;gap:.5em;border:1px solid #d0d4da;padding:.2em .6em}fieldset.zone legend{font-size:.8em}
#devices td form.inline input{width:12em}
"#;

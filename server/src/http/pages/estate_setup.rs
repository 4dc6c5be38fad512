//! Estate setup, for managers: the time zone, buildings, units, zones (named doors), schedules
//! and blackout dates; each list with its add form, removal where the API has one, and every
//! result beside the form that caused it.

use super::Viewer;
use super::doors::class_words;
use crate::domain::desk_error::DeskError;
use crate::domain::estate;
use crate::domain::language::Lang;
use crate::http::renovations::read;
use crate::state::AppState;
use axum::extract::State;
use axum::http::Method;
use chrono::Weekday;
use gatehouse_credential::{TimeWindow, ZoneClass};
use maud::{Markup, html};

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// A weekday in words: `周一` or `Mon`.
fn day_words(v: &Viewer, d: Weekday) -> &'static str {
    const ZH: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
    const EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let i = d.num_days_from_monday() as usize;
    v.t(ZH[i], EN[i])
}

/// A schedule window in words: `周一 周二 … 08:00–12:00`.
fn window_words(v: &Viewer, w: &TimeWindow) -> String {
    let days: Vec<&str> = WEEK
        .iter()
        .filter(|d| w.days.contains(d))
        .map(|d| day_words(v, *d))
        .collect();
    format!(
        "{} {}–{}",
        days.join(" "),
        w.start.format("%H:%M"),
        w.end.format("%H:%M")
    )
}

/// A floor in words: `12层` or `floor 12`.
fn floor_words(v: &Viewer, f: i8) -> String {
    match v.lang {
        Lang::Zh => format!("{f}层"),
        Lang::En => format!("floor {f}"),
    }
}

/// A table cell whose button removes the row's item: `DELETE api` once `confirm` is agreed.
fn remove_cell(v: &Viewer, api: &str, confirm: String, done: &str) -> Markup {
    html! {
        td {
            form.inline.remove data-api=(api) data-method="DELETE" data-confirm=(confirm)
                data-yes=(v.t("确认删除", "Remove")) data-done=(done) {
                button.danger type="submit" { (v.t("删除", "Remove")) } }
        }
    }
}

/// The fields of one schedule window in the schedule form.
fn window_fields(v: &Viewer, n: usize, w: Option<&TimeWindow>) -> Markup {
    html! {
        fieldset.window data-window=(n) {
            legend { (v.t("时段", "Hours")) " " (n) }
            @for d in WEEK {
                label.day { (day_words(v, d))
                    input type="checkbox" name={ "day" (n) } value=(d.to_string()) checked[w.is_some_and(|w| w.days.contains(&d))]; }
            }
            label { (v.t("开始", "From")) input type="time" name={ "start" (n) } value=[w.map(|w| w.start.format("%H:%M").to_string())]; }
            label { (v.t("结束", "Until")) input type="time" name={ "end" (n) } value=[w.map(|w| w.end.format("%H:%M").to_string())]; }
        }
    }
}

pub(super) async fn estate_page(
    State(state): State<AppState>,
    v: Viewer,
) -> Result<Markup, DeskError> {
    let e = read(&state, |c| Ok(estate::estate(c)?)).await?;
    let may_edit_building = v.may(&Method::PUT, "/api/v1/buildings/{number}");
    let may_remove_building = v.may(&Method::DELETE, "/api/v1/buildings/{number}");
    let may_remove_unit = v.may(&Method::DELETE, "/api/v1/units/{id}");
    let may_remove_zone = v.may(&Method::DELETE, "/api/v1/zones/{id}");
    let may_remove_blackout = v.may(&Method::DELETE, "/api/v1/blackout-dates/{date}");
    let building_name = |n: u8| {
        e.buildings
            .iter()
            .find(|b| b.number == n)
            .map(|b| b.name.clone())
            .unwrap_or_else(|| n.to_string())
    };
    let first_schedule = e.schedules.first();
    Ok(v.page(
        v.t("园区设置", "Estate setup"),
        html! {
            h2 { (v.t("时区", "Time zone")) }
            p { (v.t("门禁按此时区判断施工时段和禁止日；页面上的时间也按此时区显示。",
                "Gates judge working hours and blackout dates in this time zone; the pages show times in it too.")) }
            form.inline #time-zone data-api="/api/v1/estate/time-zone" data-method="PUT"
                data-confirm=(v.t("把园区时区改为 {time_zone}？", "Change the estate's time zone to {time_zone}?"))
                data-done=(v.t("时区已保存", "Time zone saved")) {
                label { (v.t("时区（IANA 名称）", "Time zone (IANA name)"))
                    input name="time_zone" value=(e.time_zone) required placeholder="Asia/Shanghai" list="time-zones"; }
                datalist #time-zones { @for z in ["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo", "Europe/London", "UTC"] { option value=(z) {} } }
                button type="submit" { (v.t("保存", "Save")) }
            }

            h2 { (v.t("楼栋", "Buildings")) }
            table #buildings {
                tr { th { (v.t("编号", "Number")) } th { (v.t("名称", "Name")) } th { (v.t("楼层", "Floors")) }
                     @if may_edit_building { th { (v.t("修改", "Change")) } }
                     @if may_remove_building { th { (v.t("删除", "Remove")) } } }
                @for b in &e.buildings {
                    tr data-building=(b.number) { td { (b.number) } td.name { (b.name) } td.floors { (floor_words(&v, b.floor_lo)) " – " (floor_words(&v, b.floor_hi)) }
                        @if may_edit_building { td {
                            form.inline.edit data-api={ "/api/v1/buildings/" (b.number) } data-method="PUT"
                                data-done=(v.t("已保存", "Saved")) {
                                input name="name" value=(b.name) required aria-label=(v.t("名称", "Name"));
                                input name="floor_lo" data-type="int" type="number" min="-128" max="127" value=(b.floor_lo) required aria-label=(v.t("最低层", "Lowest floor"));
                                input name="floor_hi" data-type="int" type="number" min="-128" max="127" value=(b.floor_hi) required aria-label=(v.t("最高层", "Highest floor"));
                                button type="submit" { (v.t("保存", "Save")) } }
                        } }
                        @if may_remove_building { (remove_cell(&v, &format!("/api/v1/buildings/{}", b.number), match v.lang {
                                    Lang::Zh => format!("删除楼栋 {}（{} 号）？", b.name, b.number),
                                    Lang::En => format!("Remove building {} (number {})?", b.name, b.number),
                                }, v.t("已删除楼栋", "Building removed"))) }
                    }
                }
            }
            form.inline #add-building data-api="/api/v1/buildings" data-done=(v.t("已添加楼栋", "Building added")) {
                label { (v.t("编号（0–254）", "Number (0–254)")) input name="number" data-type="int" type="number" min="0" max="254" required; }
                label { (v.t("名称", "Name")) input name="name" required; }
                label { (v.t("最低层（地下为负）", "Lowest floor (basements negative)")) input name="floor_lo" data-type="int" type="number" min="-128" max="127" required; }
                label { (v.t("最高层", "Highest floor")) input name="floor_hi" data-type="int" type="number" min="-128" max="127" required; }
                button type="submit" { (v.t("添加楼栋", "Add building")) }
            }

            h2 { (v.t("房号", "Units")) }
            label { (v.t("查找", "Search")) input type="search" #unit-search data-filter="#units"; }
            table #units {
                tr { th { (v.t("房号", "Unit")) } th { (v.t("楼栋", "Building")) } th { (v.t("楼层", "Floor")) } @if may_remove_unit { th { (v.t("删除", "Remove")) } } }
                @for u in &e.units {
                    tr data-unit=(u.id) { td { (u.label) } td { (building_name(u.building)) } td { (floor_words(&v, u.floor)) }
                        @if may_remove_unit { (remove_cell(&v, &format!("/api/v1/units/{}", u.id), format!("{} {}？", v.t("删除房号", "Remove unit"), u.label), v.t("已删除", "Removed"))) }
                    }
                }
            }
            form.inline #add-unit data-api="/api/v1/units" data-done=(v.t("已添加房号", "Unit added")) {
                label { (v.t("房号", "Unit")) input name="label" required placeholder="2-1203"; }
                label { (v.t("楼栋", "Building")) select name="building" data-type="int" { @for b in &e.buildings { option value=(b.number) { (b.name) } } } }
                label { (v.t("楼层", "Floor")) input name="floor" data-type="int" type="number" min="-128" max="127" required; }
                button type="submit" { (v.t("添加房号", "Add unit")) }
            }

            h2 { (v.t("区域（门、闸机、电梯楼层）", "Zones (doors, gates, lift floors)")) }
            table #zones {
                tr { th { (v.t("名称", "Name")) } th { (v.t("楼栋", "Building")) } th { (v.t("类别", "Class")) } th { (v.t("楼层", "Floor")) }
                     @if may_remove_zone { th { (v.t("删除", "Remove")) } } }
                @for z in &e.zones {
                    tr data-zone=(z.id) { td { (z.name) } td { (building_name(z.zone.building)) } td { (class_words(&v, z.zone.class)) }
                        td { (z.zone.floor.map(|f| floor_words(&v, f)).unwrap_or_default()) }
                        @if may_remove_zone { (remove_cell(&v, &format!("/api/v1/zones/{}", z.id), format!("{} {}？", v.t("删除区域", "Remove zone"), z.name), v.t("已删除", "Removed"))) }
                    }
                }
            }
            form.inline #add-zone data-api="/api/v1/zones" data-done=(v.t("已添加区域", "Zone added")) {
                label { (v.t("名称", "Name")) input name="name" required; }
                label { (v.t("楼栋", "Building")) select name="building" data-type="int" { @for b in &e.buildings { option value=(b.number) { (b.name) } } } }
                label { (v.t("类别", "Class")) select name="class" { @for c in ZoneClass::ALL { option value=(c.name()) { (class_words(&v, c)) } } } }
                label { (v.t("楼层（仅楼层门）", "Floor (floor doors only)")) input name="floor" data-type="int" type="number" min="-128" max="127"; }
                button type="submit" { (v.t("添加区域", "Add zone")) }
            }

            h2 { (v.t("施工时段", "Schedules")) }
            table #schedules {
                tr { th { "#" } th { (v.t("名称", "Name")) } th { (v.t("时段", "Hours")) } }
                @for s in &e.schedules {
                    tr data-schedule=(s.id.get()) { td { (s.id.get()) } td { (s.name) }
                        td { @for w in &s.windows { (window_words(&v, w)) br; } } }
                }
            }
            form.inline #schedule-form data-done=(v.t("时段已保存", "Schedule saved"))
                data-no-days=(v.t("每个时段至少选一天", "Each hours row needs at least one day")) {
                label { (v.t("编号（1–15，已有则替换）", "Number (1–15; replaces one that exists)"))
                    input name="number" data-type="int" type="number" min="1" max="15" required value=[first_schedule.map(|s| s.id.get())]; }
                label { (v.t("名称", "Name")) input name="name" required value=[first_schedule.map(|s| s.name.clone())]; }
                (window_fields(&v, 1, first_schedule.and_then(|s| s.windows.first())))
                (window_fields(&v, 2, first_schedule.and_then(|s| s.windows.get(1))))
                button type="submit" { (v.t("保存时段", "Save schedule")) }
            }

            h2 { (v.t("禁止施工日", "Blackout dates")) }
            table #blackouts {
                tr { th { (v.t("日期", "Date")) } th { (v.t("说明", "Note")) } @if may_remove_blackout { th { (v.t("删除", "Remove")) } } }
                @for b in &e.blackout_dates {
                    tr data-date=(b.date) { td { (v.date(b.date)) } td { (b.note) }
                        @if may_remove_blackout { (remove_cell(&v, &format!("/api/v1/blackout-dates/{}", b.date), format!("{} {}？", v.t("删除禁止施工日", "Remove the blackout date"), v.date(b.date)), v.t("已删除", "Removed"))) }
                    }
                }
            }
            form.inline #add-blackout data-api="/api/v1/blackout-dates" data-done=(v.t("已添加禁止施工日", "Blackout date added")) {
                label { (v.t("日期", "Date")) input name="date" type="date" required; }
                label { (v.t("说明", "Note")) input name="note"; }
                button type="submit" { (v.t("添加", "Add")) }
            }
        },
    ))
}

/// The building rows' edit fields, narrow enough for a desk PC's screen.
pub(super) const CSS: &str = r#"
#buildings form.edit input{width:9em}#buildings form.edit input[type=number]{width:4.5em}
"#;

/// The schedule form: its windows (days ticked, from, until) become the JSON the schedule
/// endpoint takes; a second row left empty is left out. The answer shows beside the form.
pub(super) const SCRIPT: &str = r#"
document.addEventListener('submit',async ev=>{const f=ev.target;if(f.id!=='schedule-form')return;ev.preventDefault();
 const windows=[];let missing=false;
 for(const fs of f.querySelectorAll('fieldset.window')){const n=fs.dataset.window;
  const days=[...fs.querySelectorAll('input[name=day'+n+']:checked')].map(x=>x.value);
  const start=f.elements.namedItem('start'+n).value,end=f.elements.namedItem('end'+n).value;
  if(!days.length&&!start&&!end)continue;if(!days.length){missing=true;continue;}
  windows.push({days,start:start+':00',end:end+':00'});}
 if(missing){showBeside(f,false,f.dataset.noDays);return;}
 const el=k=>f.elements.namedItem(k);
 const r=await api('PUT','/api/v1/schedules/'+encodeURIComponent(el('number').value),{name:el('name').value,windows});
 if(!r.ok){showBeside(f,false,errText(r));return;}
 await refreshMain();const again=document.getElementById('schedule-form');if(again)showBeside(again,true,again.dataset.done);});
"#;

//! In headless Chromium at a desk PC's 1366×768, in both languages: a manager sets up the
//! estate (a clerk sees no link and is refused), the renovation list filtered on the server,
//! and the doors page with each gate's sync lag, relay and door and the evacuation control.

use crate::app::{spawn_managed, spawn_staffed};
use crate::browser::{Browser, DESK, MANAGER, choose_language, sized};
use crate::desk::{register, seed_unit, today};
use chrono::{Days, Months};
use gatehouse_server::domain::language::Lang;
use gatehouse_server::http::pages::date_in;
use serde_json::{Value, json};

impl Browser {
    /// Types `text` into `css` after clearing it.
    async fn replace(&self, css: &str, text: &str) {
        self.wait_for(css).await.clear().await.unwrap();
        self.type_in(css, text).await;
    }

    /// Asserts a row of table `css` holds every one of `words`.
    async fn has_row_with(&self, css: &str, words: &[&str]) {
        let rows = self.rows(css).await;
        assert!(
            rows.iter().any(|r| words.iter().all(|w| r.contains(w))),
            "{words:?} in {rows:?}"
        );
    }

    /// The texts of every row of table `css` but its header.
    async fn rows(&self, css: &str) -> Vec<String> {
        let v = self
            .client
            .execute(
                "return [...document.querySelectorAll(arguments[0]+' tr')].filter(r=>!r.querySelector('th')&&!r.hidden).map(r=>r.innerText);",
                vec![json!(css)],
            )
            .await
            .unwrap();
        serde_json::from_value(v).unwrap()
    }
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn a_manager_sets_up_the_estate_and_a_clerk_neither_sees_nor_reaches_the_page() {
    let b = sized("estate setup", 1366, 768).await;
    let (app, admin, desk) = spawn_staffed().await;

    // A clerk: no link, and the route refuses.
    b.log_in_as(&app, DESK, "nav #user").await;
    assert!(!b.has_element("nav a[href='/desk/estate']").await);
    assert_eq!(app.get("/desk/estate", Some(&desk)).await.status(), 403);

    // A manager reading English.
    choose_language(&app, &admin, "en").await;
    b.log_in_as(&app, MANAGER, "nav #user").await;
    b.click("nav a[href='/desk/estate']").await;
    b.wait_text("h1", "Estate setup").await;
    assert_eq!(b.text("nav a.current").await, "Estate setup");

    b.type_in("#add-building [name=number]", "3").await;
    b.type_in("#add-building [name=name]", "Tower 3").await;
    b.type_in("#add-building [name=floor_lo]", "-1").await;
    b.type_in("#add-building [name=floor_hi]", "20").await;
    b.click("#add-building button").await;
    b.wait_text("#buildings tr[data-building='3']", "Tower 3")
        .await;
    let row = b.text("#buildings tr[data-building='3']").await;
    assert!(
        row.contains("floor -1") && row.contains("floor 20"),
        "{row}"
    );

    // A unit above the top floor: refused beside the form, what was typed kept.
    b.type_in("#add-unit [name=label]", "3-2101").await;
    b.type_in("#add-unit [name=floor]", "21").await;
    b.click("#add-unit button").await;
    let err = b.wait_text("#add-unit + .result.err", "not valid").await;
    assert!(err.contains("floors -1 to 20"), "{err}");
    assert!(b.in_view("#add-unit + .result.err").await, "{err}");
    let kept = b
        .js("return document.querySelector('#add-unit [name=label]').value;")
        .await;
    assert_eq!(kept, "3-2101");
    b.replace("#add-unit [name=floor]", "20").await;
    b.click("#add-unit button").await;
    b.wait_text("#add-unit + .result.ok", "Unit added").await;
    b.has_row_with("#units", &["3-2101", "Tower 3"]).await;

    // A zone: an entrance has no floor; without one it is added and named in words.
    b.type_in("#add-zone [name=name]", "Tower 3 lobby").await;
    b.type_in("#add-zone [name=floor]", "5").await;
    b.click("#add-zone button").await;
    b.wait_text("#add-zone + .result.err", "floor").await;
    b.replace("#add-zone [name=floor]", "").await;
    b.click("#add-zone button").await;
    b.wait_text("#add-zone + .result.ok", "Zone added").await;
    b.has_row_with("#zones", &["Tower 3 lobby", "entrance"])
        .await;

    // Schedule 2: Saturday mornings.
    b.replace("#schedule-form [name=number]", "2").await;
    b.replace("#schedule-form [name=name]", "Saturday mornings")
        .await;
    b.js("for(const x of document.querySelectorAll('#schedule-form input[type=checkbox]'))x.checked=false;
          document.querySelector('#schedule-form [name=start2]').value='';document.querySelector('#schedule-form [name=end2]').value='';
          document.querySelector('#schedule-form [name=start1]').value='09:00';document.querySelector('#schedule-form [name=end1]').value='12:00';
          document.querySelector('#schedule-form input[name=day1][value=Sat]').checked=true;return true;").await;
    b.click("#schedule-form button[type=submit]").await;
    b.wait_text("#schedule-form + .result.ok", "Schedule saved")
        .await;
    b.wait_text("#schedules tr[data-schedule='2']", "Sat 09:00–12:00")
        .await;
    let estate: Value = app.get_json("/api/v1/estate", Some(&admin)).await;
    assert_eq!(
        estate["schedules"][1]["windows"][0]["days"],
        json!(["Sat"]),
        "{estate}"
    );

    // A blackout date added, then removed after a confirmation naming it.
    let day = today() + Days::new(30);
    b.js(&format!(
        "document.querySelector('#add-blackout [name=date]').value='{day}';return true;"
    ))
    .await;
    b.type_in("#add-blackout [name=note]", "Estate works").await;
    b.click("#add-blackout button").await;
    let row = format!("#blackouts tr[data-date='{day}']");
    b.wait_text(&row, "Estate works").await;
    b.click(&format!("{row} .remove button")).await;
    let ask = b.text("dialog#confirm[open] #confirm-text").await;
    assert!(ask.contains(&date_in(Lang::En, day)), "{ask}");
    b.click("#confirm-yes").await;
    b.wait_text("#flash.ok", "Removed").await;
    assert!(!b.has_element(&row).await);

    // The time zone: a wrong name is refused beside the form; a right one confirmed and kept.
    b.replace("#time-zone [name=time_zone]", "Mars/Olympus")
        .await;
    b.click("#time-zone button").await;
    b.click("#confirm-yes").await;
    b.wait_text("#time-zone + .result.err", "Mars/Olympus")
        .await;
    b.replace("#time-zone [name=time_zone]", "Asia/Hong_Kong")
        .await;
    b.click("#time-zone button").await;
    let ask = b.text("dialog#confirm[open] #confirm-text").await;
    assert!(ask.contains("Asia/Hong_Kong"), "{ask}");
    b.click("#confirm-yes").await;
    b.wait_text("#time-zone + .result.ok", "Time zone saved")
        .await;
    let estate: Value = app.get_json("/api/v1/estate", Some(&admin)).await;
    assert_eq!(estate["time_zone"], "Asia/Hong_Kong");
    b.shot("estate-setup-en-1366").await;

    // In Chinese: the same page in Chinese alone.
    choose_language(&app, &admin, "zh").await;
    b.go(&app, "/desk/estate").await;
    b.wait_text("h1", "园区设置").await;
    let zones = b.rows("#zones").await;
    assert!(
        zones
            .iter()
            .any(|z| z.contains("Tower 3 lobby") && z.contains("入口") && !z.contains("entrance")),
        "{zones:?}"
    );
    b.wait_text("#schedules tr[data-schedule='2']", "周六 09:00–12:00")
        .await;
    let main = b.text("main").await;
    for english in [
        "Buildings",
        "Units",
        "Schedules",
        "Blackout",
        "Remove",
        "floor 20",
    ] {
        assert!(!main.contains(english), "{english} on the Chinese page");
    }
    b.shot("estate-setup-zh-1366").await;
    let _ = b.client.clone().close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn renovations_are_filtered_on_the_server_by_building_floor_status_contractor_and_period() {
    let b = sized("renovation filters", 1366, 768).await;
    let (app, _, desk) = spawn_staffed().await;
    let tower2 = seed_unit(&app).await;
    let tower3: i64 = app
        .db(|c| {
            c.execute_batch(
            "INSERT INTO buildings (number, name, floor_lo, floor_hi) VALUES (3, 'Tower 3', -1, 20);
             INSERT INTO units (label, building, floor) VALUES ('3-0501', 3, 5);",
        )?;
            c.query_row("SELECT id FROM units WHERE label = '3-0501'", [], |r| {
                r.get(0)
            })
            .map_err(gatehouse_server::db::DbError::from)
        })
        .await;
    let t = today();
    let code = |r: Value| r["code"].as_str().unwrap().to_owned();
    let acme = code(
        register(&app, &desk, tower2, t, t + Months::new(2))
            .await
            .json()
            .await
            .unwrap(),
    );
    let later = app
        .post(
            "/api/v1/renovations",
            Some(&desk),
            json!({
                "unit_id": tower3, "owner_name": "陈大文", "contractor": "Bright Build 100%",
                "supervisor_name": "周五", "supervisor_phone": "13900001111",
                "start_date": t + Days::new(40), "end_date": t + Months::new(3),
                "waterproofing": false,
            }),
        )
        .await;
    assert_eq!(later.status(), 201);
    let bright = code(later.json().await.unwrap());

    for lang in ["zh", "en"] {
        choose_language(&app, &desk, lang).await;
        b.log_in_as(&app, DESK, "nav #user").await;
        b.go(&app, "/desk/renovations").await;
        assert_eq!(b.rows("#renovations").await.len(), 2);

        // Building 3 through the form: only its renovation, the choice kept.
        b.wait_for("#renovation-filters [name=building]")
            .await
            .select_by_value("3")
            .await
            .unwrap();
        b.click("#renovation-filters button").await;
        b.wait_for("#filter-count").await;
        let rows = b.rows("#renovations").await;
        assert!(rows.len() == 1 && rows[0].contains(&bright), "{rows:?}");
        assert!(b.path().await.ends_with("/desk/renovations"));
        let kept = b
            .js("return document.querySelector('#renovation-filters [name=building]').value;")
            .await;
        assert_eq!(kept, "3");

        // Combined: floor, status, contractor (any case, % taken literally), period.
        let only = |q: &str| format!("/desk/renovations?{q}");
        for (query, expect) in [
            ("building=2&floor=12", Some(&acme)),
            ("floor=5&status=active", Some(&bright)),
            ("status=refunded", None),
            ("contractor=acme", Some(&acme)),
            ("contractor=100%25", Some(&bright)),
            ("contractor=10_%25", None),
            (&format!("to={}", t + Days::new(10)), Some(&acme)),
            (
                &format!("from={}&building=3", t + Days::new(50)),
                Some(&bright),
            ),
        ] {
            b.go(&app, &only(query)).await;
            b.wait_for("#filter-count").await;
            let rows = b.rows("#renovations").await;
            match expect {
                Some(code) => assert!(
                    rows.len() == 1 && rows[0].contains(code.as_str()),
                    "{query}: {rows:?}"
                ),
                None => assert!(rows.is_empty(), "{query}: {rows:?}"),
            }
        }

        // The text search narrows what the server sent, in the page.
        b.go(&app, "/desk/renovations?building=2").await;
        b.type_in("#renovation-search", "no such thing").await;
        assert!(b.rows("#renovations").await.is_empty());

        // A filter that is not one is named, in the page's language, beside the filters.
        b.go(&app, "/desk/renovations?floor=twelve&status=done")
            .await;
        let err = b.text("#filter-error").await;
        let (floor, status) = if lang == "zh" {
            ("楼层", "状态")
        } else {
            ("floor", "status")
        };
        assert!(err.contains(floor) && err.contains(status), "{err}");
        assert!(b.in_view("#renovation-filters").await);
        b.shot(&format!("renovation-filters-{lang}-1366")).await;
    }
    let _ = b.client.clone().close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn the_doors_page_shows_each_gates_sync_lag_relay_and_door_and_a_manager_evacuates_there() {
    let b = sized("doors state", 1366, 768).await;
    let (app, admin, desk) = spawn_staffed().await;
    let (gate_id, gate) = crate::muster::entrance_gate(&app, &admin).await;
    let r = app
        .get(
            "/api/v1/gate/changes?since=0&wait_ms=0&relay=released&door=held&fire=false",
            Some(&gate),
        )
        .await;
    assert_eq!(r.status(), 200);
    // A change the gate has not fetched yet.
    let r = app
        .put("/api/v1/lockdown", Some(&admin), json!({"active": true}))
        .await;
    assert_eq!(r.status(), 200);
    let row = format!("#doors tr[data-door='{gate_id}']");

    // A clerk sees the state but no lockdown or end of an evacuation.
    b.log_in_as(&app, DESK, "nav #user").await;
    b.go(&app, "/desk/doors").await;
    b.wait_text(&format!("{row} td.sync"), "落后 1 项变更")
        .await;
    assert!(!b.has_element("#lockdown").await);
    let _ = desk;

    for lang in ["en", "zh"] {
        choose_language(&app, &admin, lang).await;
        b.log_in_as(&app, MANAGER, "nav #user").await;
        b.go(&app, "/desk/doors").await;
        let words = |zh: &'static str, en: &'static str| if lang == "zh" { zh } else { en };
        b.wait_text(&format!("{row} td.online"), words("在线", "online"))
            .await;
        // Each evacuation started and ended here is one more change the gate has not fetched.
        let doors: Value = app.get_json("/api/v1/doors", Some(&admin)).await;
        let n = doors[0]["behind_changes"].as_u64().unwrap();
        let lag = b.text(&format!("{row} td.sync")).await;
        let want = if lang == "zh" {
            format!("落后 {n} 项变更")
        } else {
            format!("{n} changes behind")
        };
        assert!(lag.contains(&want), "{lag}");
        b.wait_text(&format!("{row} td.relay"), words("已释放", "released"))
            .await;
        b.wait_text(
            &format!("{row} td.door-state"),
            words("长时间未关", "held open"),
        )
        .await;
        b.wait_text(&format!("{row} td.fire"), words("正常", "normal"))
            .await;
        let zone = b.text(&format!("{row} td:nth-child(2)")).await;
        assert_eq!(zone, words("2号楼 入口", "building 2 entrance"));
        assert!(
            b.in_view("#evacuation button").await,
            "beside the lockdown, in view"
        );

        // Evacuation, confirmed, then ended, confirmed.
        b.click("#evacuation button").await;
        let ask = b.text("dialog#confirm[open] #confirm-text").await;
        assert!(
            ask.contains(words("开始紧急疏散", "Start an evacuation")),
            "{ask}"
        );
        b.click("#confirm-yes").await;
        b.wait_text(
            "#evacuation-state",
            words("紧急疏散进行中", "Evacuation in progress"),
        )
        .await;
        let on: Value = app.get_json("/api/v1/emergency", Some(&admin)).await;
        assert_eq!(on["evacuation"]["active"], true, "{on}");
        b.shot(&format!("doors-state-{lang}-1366")).await;
        b.wait_text("#evacuation button", words("结束疏散", "End evacuation"))
            .await;
        b.click("#evacuation button").await;
        b.click("#confirm-yes").await;
        b.wait_text("#evacuation-state", words("无疏散", "No evacuation"))
            .await;
    }

    // The gate catches up: level again, relay and door as it now says.
    let batch: Value = app
        .get_json("/api/v1/gate/changes?since=0&wait_ms=0", Some(&gate))
        .await;
    let r = app
        .get(
            &format!(
                "/api/v1/gate/changes?since={}&wait_ms=0&relay=locked&door=closed&fire=true",
                batch["cursor"]
            ),
            Some(&gate),
        )
        .await;
    assert_eq!(r.status(), 200);
    b.go(&app, "/desk/doors").await;
    b.wait_text(&format!("{row} td.sync"), "已同步").await;
    b.wait_text(&format!("{row} td.relay"), "锁闭").await;
    b.wait_text(&format!("{row} td.fire"), "火警").await;
    let _ = b.client.clone().close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn a_manager_renames_a_building_and_removes_it_after_a_confirmation_naming_it() {
    let b = sized("estate buildings", 1366, 768).await;
    let (app, admin) = spawn_managed().await;
    let unit = seed_unit(&app).await;
    b.log_in_as(&app, MANAGER, "nav #user").await;
    b.go(&app, "/desk/estate").await;
    let row = "#buildings tr[data-building='2']";
    b.replace(&format!("{row} form.edit [name=name]"), "南塔")
        .await;
    b.click(&format!("{row} form.edit button")).await;
    b.wait_text(&format!("{row} td.name"), "南塔").await;
    b.wait_text(&format!("{row} .result.ok"), "已保存").await;
    assert!(!b.overflows_window().await, "the building rows fit");

    // Refused while a unit is in it: the question names the building, the answer what holds it.
    b.click(&format!("{row} form.remove button")).await;
    b.confirm_naming(&["南塔", "2 号"]).await;
    let said = b.wait_text(&format!("{row} .result.err"), "1 个房号").await;
    assert!(said.contains("2 号楼"), "{said}");
    assert!(b.has_element(row).await);

    let r = app
        .delete(&format!("/api/v1/units/{unit}"), Some(&admin))
        .await;
    assert_eq!(r.status(), 204);
    b.go(&app, "/desk/estate").await;
    b.click(&format!("{row} form.remove button")).await;
    b.click("dialog#confirm[open] #confirm-yes").await;
    b.wait_text("#flash.ok", "已删除楼栋").await;
    assert!(!b.has_element(row).await);
    let estate: Value = app.get_json("/api/v1/estate", Some(&admin)).await;
    assert_eq!(estate["buildings"], json!([]));
    let _ = b.client.clone().close().await;
}

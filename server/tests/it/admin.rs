//! The manager's and history endpoints behind the admin pages: role changes (sessions end,
//! the last manager stays), device rename, alarm history and "acknowledge all", visitor
//! history, the invite list, the CSV exports over local dates, and the audit log's pages.

use crate::app::{TestApp, error_code, spawn_managed, spawn_staffed};
use crate::desk::{desk_with_unit, invite_code, renovation_action, today};
use crate::emergency::report_alarm;
use crate::platform::enrol_device;
use chrono::Days;
use serde_json::{Value, json};

/// The id of staff account `username`.
async fn staff_id(app: &TestApp, admin: &str, username: &str) -> i64 {
    let list: Value = app.get_json("/api/v1/staff", Some(admin)).await;
    list.as_array()
        .unwrap()
        .iter()
        .find(|s| s["username"] == username)
        .unwrap_or_else(|| panic!("no {username} in {list}"))["id"]
        .as_i64()
        .unwrap()
}

async fn set_role(app: &TestApp, token: &str, id: i64, role: &str) -> reqwest::Response {
    app.put(
        &format!("/api/v1/staff/{id}/role"),
        Some(token),
        json!({ "role": role }),
    )
    .await
}

/// The newest audit entries whose action starts with `prefix`.
async fn audit_of(app: &TestApp, admin: &str, prefix: &str) -> Vec<Value> {
    app.get_ok(&format!("/api/v1/audit?action={prefix}"), Some(admin))
        .await
}

#[tokio::test]
async fn a_role_change_ends_the_accounts_sessions_is_audited_and_never_removes_the_last_manager() {
    let (app, admin, desk) = spawn_staffed().await;
    let id = staff_id(&app, &admin, "desk1").await;
    assert_eq!(
        app.get("/api/v1/staff", Some(&desk)).await.status(),
        403,
        "a clerk does not manage staff"
    );
    assert_eq!(set_role(&app, &desk, id, "manager").await.status(), 403);

    let r = set_role(&app, &admin, id, "manager").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["role"], "manager");
    // The old session is gone; a new log-in carries the new role.
    assert_eq!(app.get("/api/v1/auth/me", Some(&desk)).await.status(), 401);
    let promoted = app.login("desk1", "desk-password-1").await;
    assert_eq!(
        app.get("/api/v1/staff", Some(&promoted)).await.status(),
        200
    );
    let entry = &audit_of(&app, &admin, "staff.role").await[0];
    assert_eq!(entry["subject"], format!("staff:{id}"));
    let details: Value = serde_json::from_str(entry["details"].as_str().unwrap()).unwrap();
    assert_eq!(details, json!({"from": "desk", "to": "manager"}));

    // Two managers: one may step down; then the other is the last and may not.
    let admin_id = staff_id(&app, &admin, "admin").await;
    assert_eq!(set_role(&app, &admin, admin_id, "desk").await.status(), 200);
    assert_eq!(app.get("/api/v1/staff", Some(&admin)).await.status(), 401);
    let r = set_role(&app, &promoted, id, "guard").await;
    assert_eq!(error_code(r).await, "last_manager");
    let list: Value = app.get_json("/api/v1/staff", Some(&promoted)).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|s| s["username"] == "desk1" && s["role"] == "manager"),
        "{list}"
    );
    let r = set_role(&app, &promoted, 9999, "desk").await;
    assert_eq!(r.status(), 404);
    let r = app
        .put(
            &format!("/api/v1/staff/{id}/role"),
            Some(&promoted),
            json!({"role": "owner"}),
        )
        .await;
    assert_eq!(r.status(), 422, "an unknown role is refused");
}

#[tokio::test]
async fn a_device_is_renamed_with_an_audit_entry_and_a_retired_one_cannot_be() {
    let (app, admin, desk) = spawn_staffed().await;
    let (id, _key) = enrol_device(&app, &admin, "gate").await;
    let rename = |token: String, name: &'static str| {
        let app = &app;
        let path = format!("/api/v1/devices/{id}/name");
        async move { app.put(&path, Some(&token), json!({ "name": name })).await }
    };
    let r = rename(admin.clone(), "  B2 car park barrier ").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["name"],
        "B2 car park barrier"
    );
    let list: Value = app.get_json("/api/v1/devices", Some(&admin)).await;
    assert_eq!(list[0]["name"], "B2 car park barrier");
    let details: Value = serde_json::from_str(
        audit_of(&app, &admin, "device.rename").await[0]["details"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        details,
        json!({"from": "test gate", "to": "B2 car park barrier"})
    );
    assert_eq!(rename(admin.clone(), " ").await.status(), 422);
    assert_eq!(rename(desk.clone(), "mine").await.status(), 403);
    let r = app
        .delete(&format!("/api/v1/devices/{id}"), Some(&admin))
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(rename(admin.clone(), "again").await.status(), 404);
}

#[tokio::test]
async fn the_alarm_history_filters_by_kind_device_and_dates_and_acknowledge_all_spares_fire() {
    let (app, admin, desk) = spawn_staffed().await;
    let (kiosk_id, kiosk) = enrol_device(&app, &admin, "kiosk").await;
    let (_, gate) = enrol_device(&app, &admin, "gate").await;
    for (device, kind) in [
        (&kiosk, "paper_out"),
        (&kiosk, "printer_offline"),
        (&gate, "door_held_open"),
        (&gate, "fire_alarm"),
    ] {
        report_alarm(&app, device, kind, true).await;
    }
    let count = |path: String| {
        let app = &app;
        let desk = desk.clone();
        async move {
            let r = app.get(&path, Some(&desk)).await;
            assert_eq!(r.status(), 200, "{path}");
            r.json::<Vec<Value>>().await.unwrap().len()
        }
    };
    assert_eq!(count("/api/v1/alarms/history".into()).await, 4);
    assert_eq!(
        count("/api/v1/alarms/history?kind=paper_out&device=&from=&to=".into()).await,
        1,
        "blank fields of the page's form mean any"
    );
    assert_eq!(
        count("/api/v1/alarms/history?kind=".into()).await,
        4,
        "a blank kind means every kind"
    );
    // The served document says so too, so a client may send the form's blank.
    let doc = app.get_json("/api/openapi.json", None).await;
    let kind = doc["paths"]["/api/v1/alarms/history"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "kind")
        .unwrap()["schema"]["enum"]
        .clone();
    assert!(
        kind.as_array().is_some_and(|k| k.contains(&json!(""))
            && k.contains(&json!("door_forced"))
            && k.contains(&json!("fire_alarm"))),
        "{kind}"
    );
    assert_eq!(
        count(format!("/api/v1/alarms/history?device={kiosk_id}")).await,
        2
    );
    let tomorrow = today() + Days::new(1);
    assert_eq!(
        count(format!(
            "/api/v1/alarms/history?from={tomorrow}&to={tomorrow}"
        ))
        .await,
        0
    );
    let r = app
        .get(
            &format!("/api/v1/alarms/history?from={tomorrow}&to={}", today()),
            Some(&desk),
        )
        .await;
    assert_eq!(error_code(r).await, "invalid_range");
    let r = app
        .get("/api/v1/alarms/history?kind=door_on_fire", Some(&desk))
        .await;
    assert_eq!(r.status(), 400);

    let r = app
        .post("/api/v1/alarms/acknowledge-all", Some(&desk), json!({}))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["acknowledged"], 3);
    let open: Vec<Value> = app.get_ok("/api/v1/alarms", Some(&desk)).await;
    let unseen: Vec<&Value> = open
        .iter()
        .filter(|a| a["acknowledged_at"].is_null())
        .collect();
    assert_eq!(unseen.len(), 1, "{open:?}");
    assert_eq!(unseen[0]["kind"], "fire_alarm");
    assert_eq!(audit_of(&app, &admin, "alarm.acknowledge").await.len(), 3);
}

#[tokio::test]
async fn visitor_history_finds_by_name_unit_or_purpose_over_dates_and_shows_names_masked() {
    let (app, _, desk) = spawn_staffed().await;
    let pass = crate::muster::visitor(&app, &desk).await;
    let find = |query: String| {
        let app = &app;
        let desk = desk.clone();
        async move {
            let r = app
                .get(&format!("/api/v1/visitors/history?{query}"), Some(&desk))
                .await;
            assert_eq!(r.status(), 200, "{query}");
            r.json::<Vec<Value>>().await.unwrap()
        }
    };
    let found = find("q=赵小".into()).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["name_masked"], "赵*六");
    assert_eq!(found[0]["card_id"], pass);
    assert_eq!(found[0]["host_masked"], "王*明");
    assert!(!found[0].to_string().contains("赵小六"));
    assert_eq!(find("q=1203".into()).await.len(), 1, "by unit");
    assert_eq!(find("q=DELIVERY".into()).await.len(), 1, "any case");
    assert_eq!(find("q=%25".into()).await.len(), 0, "a % is a percent sign");
    assert_eq!(find("q=nobody".into()).await.len(), 0);
    let yesterday = today() - Days::new(1);
    assert_eq!(
        find(format!("from={yesterday}&to={yesterday}")).await.len(),
        0
    );
    assert_eq!(find(format!("from={yesterday}&to=")).await.len(), 1);
    let r = app
        .get("/api/v1/visitors/history?from=2026-13-01", Some(&desk))
        .await;
    assert_eq!(r.status(), 400, "not a date");
}

#[tokio::test]
async fn the_invite_list_shows_each_code_its_day_and_whether_it_was_used() {
    let (app, _, desk, unit) = desk_with_unit().await;
    let code = invite_code(&app, &desk, "钱多多", unit, 2).await;
    let list: Value = app.get_json("/api/v1/invites", Some(&desk)).await;
    assert_eq!(list[0]["code"], code.as_str());
    assert_eq!(list[0]["name_masked"], "钱*多");
    assert_eq!(list[0]["unit_label"], "2-1203");
    assert_eq!(list[0]["valid_on"], today().to_string());
    assert!(list[0]["redeemed_at"].is_null());
    assert_eq!(list[0]["created_by"], "desk:desk1");
}

/// The rows of a CSV answer, header first, read by an independent CSV reader.
pub(crate) async fn csv_rows(r: reqwest::Response) -> Vec<Vec<String>> {
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = r.text().await.unwrap();
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn csv_exports_cover_local_dates_mask_names_and_neutralise_formulas() {
    let (app, _, desk, unit) = desk_with_unit().await;
    let formula = json!({"name": "赵小六", "unit_id": unit, "purpose": "=HYPERLINK(\"x\",\"y\")", "party_size": 2});
    app.created("/api/v1/visitors", &desk, formula).await;
    let id = crate::desk::renovation(&app, &desk).await;
    let r = renovation_action(
        &app,
        &desk,
        id,
        "ledger",
        json!({"kind": "deposit", "amount_cents": 500000, "receipt_no": "SJ-2026-001"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let t = today();
    let range = format!("from={t}&to={t}");

    let visitors = csv_rows(
        app.get(&format!("/api/v1/visitors.csv?{range}"), Some(&desk))
            .await,
    )
    .await;
    assert_eq!(visitors[0][..3], ["registered", "pass", "name"]);
    assert_eq!(visitors.len(), 2, "{visitors:?}");
    assert_eq!(visitors[1][2], "赵*六");
    assert_eq!(
        visitors[1][5], "'=HYPERLINK(\"x\",\"y\")",
        "the formula is text"
    );
    assert!(
        visitors[1][0].starts_with(&t.to_string()),
        "local time to the minute: {}",
        visitors[1][0]
    );
    assert_eq!(visitors[1][0].len(), "2026-12-03 13:31".len());

    let cards = csv_rows(
        app.get(&format!("/api/v1/cards.csv?{range}"), Some(&desk))
            .await,
    )
    .await;
    assert_eq!(cards.len(), 2, "{cards:?}");
    assert_eq!(
        (cards[1][1].as_str(), cards[1][2].as_str()),
        ("visitor", "active")
    );
    assert_eq!(cards[1][3], "赵*六");

    let deposits = csv_rows(
        app.get(&format!("/api/v1/deposits.csv?{range}"), Some(&desk))
            .await,
    )
    .await;
    assert_eq!(deposits.len(), 2, "{deposits:?}");
    assert_eq!(deposits[1][3], "deposit");
    assert_eq!(deposits[1][5], "5000.00");
    assert_eq!(deposits[1][6], "SJ-2026-001");

    let events = csv_rows(
        app.get(&format!("/desk/exports/events.csv?{range}"), Some(&desk))
            .await,
    )
    .await;
    assert_eq!(events[0][0], "at");

    // Yesterday had none of it.
    let y = t - Days::new(1);
    for path in [
        "/api/v1/visitors.csv",
        "/api/v1/cards.csv",
        "/api/v1/deposits.csv",
    ] {
        let rows = csv_rows(
            app.get(&format!("{path}?from={y}&to={y}"), Some(&desk))
                .await,
        )
        .await;
        assert_eq!(rows.len(), 1, "{path}: only the header");
        let r = app
            .get(&format!("{path}?from={t}&to={y}"), Some(&desk))
            .await;
        assert_eq!(error_code(r).await, "invalid_range", "{path}");
        let r = app
            .get(&format!("{path}?from=2020-01-01&to={t}"), Some(&desk))
            .await;
        assert_eq!(error_code(r).await, "invalid_range", "{path}: years long");
    }
    let r = app.get("/api/v1/visitors.csv", None).await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn the_audit_log_is_read_a_page_at_a_time_by_area_and_person() {
    let (app, admin) = spawn_managed().await;
    let _desk = app.desk(&admin).await;
    for name in ["desk2", "desk3", "desk4"] {
        app.add_staff(&admin, name, "desk", "desk-password-1").await;
    }
    let page: Vec<Value> = app
        .get_ok("/api/v1/audit?action=staff.create&limit=2", Some(&admin))
        .await;
    assert_eq!(page.len(), 2);
    let seqs: Vec<i64> = page.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs[0] > seqs[1], "newest first: {seqs:?}");
    let next: Vec<Value> = app
        .get_ok(
            &format!(
                "/api/v1/audit?action=staff.create&limit=2&before={}",
                seqs[1]
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(next.len(), 2, "desk2 and desk1");
    assert!(next.iter().all(|e| e["seq"].as_i64().unwrap() < seqs[1]));
    let by_admin: Vec<Value> = app.get_ok("/api/v1/audit?actor=admin", Some(&admin)).await;
    assert!(by_admin.len() >= 4);
    assert!(
        by_admin
            .iter()
            .all(|e| e["actor"].as_str().unwrap().contains("admin"))
    );
    let none: Value = app
        .get_json("/api/v1/audit?actor=nobody-at-all", Some(&admin))
        .await;
    assert_eq!(none, json!([]));
    let t = today();
    let dated: Value = app
        .get_json(
            &format!("/api/v1/audit?from={t}&to={t}&action=staff."),
            Some(&admin),
        )
        .await;
    assert!(dated.as_array().unwrap().len() >= 4);
    let y = t - Days::new(1);
    let old: Value = app
        .get_json(&format!("/api/v1/audit?from={y}&to={y}"), Some(&admin))
        .await;
    assert_eq!(old, json!([]));
}

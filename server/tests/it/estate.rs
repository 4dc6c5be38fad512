//! Estate layout and calendar; calendar changes reach gates as `snapshot_changed`.

use crate::app::{assert_error, spawn_managed, spawn_staffed};
use crate::platform::enrol_device;
use gatehouse_credential::api::gate::{ChangeBatch, ChangeEvent, GateSnapshot};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn layout_is_validated_and_listed() {
    let (app, admin) = spawn_managed().await;
    let building = |number: u16, name: &str, lo: i32, hi: i32| {
        Some(json!({"number": number, "name": name, "floor_lo": lo, "floor_hi": hi}))
    };
    app.expect_statuses(
        &admin,
        vec![
            (
                Method::POST,
                "/api/v1/buildings",
                building(2, "Building 2", -2, 32),
                201,
            ),
            (
                Method::POST,
                "/api/v1/buildings",
                building(255, "x", 1, 2),
                422,
            ),
            (
                Method::POST,
                "/api/v1/buildings",
                building(2, "again", 1, 2),
                409,
            ),
        ],
    )
    .await;
    let r = app
        .post(
            "/api/v1/units",
            Some(&admin),
            json!({"label": "2-1203", "building": 2, "floor": 12}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let unit: Value = r.json().await.unwrap();
    assert!(unit["id"].as_i64().unwrap() > 0);
    let unit = |label: &str, building: u16, floor: i32| {
        Some(json!({"label": label, "building": building, "floor": floor}))
    };
    app.expect_statuses(
        &admin,
        vec![
            (Method::POST, "/api/v1/units", unit("2-4001", 2, 40), 422),
            (Method::POST, "/api/v1/units", unit("9-101", 9, 1), 404),
            (
                Method::POST,
                "/api/v1/zones",
                Some(json!({"name": "B2 lobby", "building": 2, "class": "entrance"})),
                201,
            ),
            // A floor zone needs its floor.
            (
                Method::POST,
                "/api/v1/zones",
                Some(json!({"name": "B2 F12", "building": 2, "class": "floor"})),
                422,
            ),
        ],
    )
    .await;
    let desk = app.desk(&admin).await;
    let estate = app.get_json("/api/v1/estate", Some(&desk)).await;
    assert_eq!(estate["time_zone"], "Asia/Shanghai");
    assert_eq!(estate["buildings"][0]["floor_hi"], 32);
    assert_eq!(estate["units"][0]["label"], "2-1203");
    assert_eq!(estate["zones"][0]["class"], "entrance");
    assert_eq!(estate["schedules"][0]["id"], 1);
    assert_eq!(estate["lockdown"], false);
}

#[tokio::test]
async fn calendar_changes_reach_gates_through_the_snapshot() {
    let (app, admin) = spawn_managed().await;
    let (_, gate) = enrol_device(&app, &admin, "gate").await;
    let blackouts = "/api/v1/blackout-dates";
    app.expect_statuses(
        &admin,
        vec![
            (
                Method::POST,
                blackouts,
                Some(json!({"date": "2026-10-01", "note": "National Day"})),
                201,
            ),
            (Method::POST, blackouts, Some(json!({"date": "2026-10-01"})), 409),
            (
                Method::PUT,
                "/api/v1/schedules/2",
                Some(json!({"name": "weekend", "windows": [{"days": ["Sat", "Sun"], "start": "09:00:00", "end": "17:00:00"}]})),
                200,
            ),
            (
                Method::PUT,
                "/api/v1/schedules/3",
                Some(json!({"name": "bad", "windows": [{"days": ["Mon"], "start": "18:00:00", "end": "08:00:00"}]})),
                422,
            ),
            (
                Method::PUT,
                "/api/v1/schedules/16",
                Some(json!({"name": "x", "windows": []})),
                422,
            ),
            (
                Method::PUT,
                "/api/v1/estate/time-zone",
                Some(json!({"time_zone": "Mars/Olympus"})),
                422,
            ),
        ],
    )
    .await;
    let batch: ChangeBatch = app
        .get_ok("/api/v1/gate/changes?since=0", Some(&gate))
        .await;
    assert_eq!(batch.changes.len(), 2);
    assert!(
        batch
            .changes
            .iter()
            .all(|c| c.event == ChangeEvent::SnapshotChanged)
    );
    let s: GateSnapshot = app.get_ok("/api/v1/gate/snapshot", Some(&gate)).await;
    assert_eq!(
        s.calendar.blackout_dates,
        vec![chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()]
    );
    assert_eq!(s.calendar.schedules.len(), 2);
    assert_eq!(s.cursor, 2);
    let day_off = "/api/v1/blackout-dates/2026-10-01";
    app.expect_statuses(
        &admin,
        vec![
            (Method::DELETE, day_off, None, 204),
            (Method::DELETE, day_off, None, 404),
        ],
    )
    .await;
}

#[tokio::test]
async fn far_off_blackout_dates_and_device_names_with_control_characters_are_refused() {
    let (app, admin) = spawn_managed().await;
    for date in ["1900-01-01", "9999-12-31", "+10000-01-01"] {
        let r = app
            .post(
                "/api/v1/blackout-dates",
                Some(&admin),
                json!({ "date": date }),
            )
            .await;
        assert_eq!(r.status(), 422, "{date}");
    }
    for name in ["door\u{0}one", "door\none"] {
        let r = app
            .post(
                "/api/v1/devices",
                Some(&admin),
                json!({"kind": "gate", "name": name}),
            )
            .await;
        assert_eq!(r.status(), 422, "{name:?}");
    }
    let calendar = app.get_json("/api/v1/estate", Some(&admin)).await;
    assert!(!calendar.to_string().contains("1900-01-01"), "{calendar}");
}

/// The newest audit entry whose action is `action`, its details parsed.
async fn last_audit(app: &crate::app::TestApp, admin: &str, action: &str) -> (Value, Value) {
    let entries: Value = app
        .get_json(&format!("/api/v1/audit?action={action}"), Some(admin))
        .await;
    let entry = entries[0].clone();
    let details = serde_json::from_str(entry["details"].as_str().unwrap()).unwrap();
    (entry, details)
}

#[tokio::test]
async fn a_manager_edits_a_building_and_removes_it_only_once_nothing_names_it() {
    let (app, admin, desk) = spawn_staffed().await;
    app.created(
        "/api/v1/buildings",
        &admin,
        json!({"number": 4, "name": "Building 4", "floor_lo": 1, "floor_hi": 10}),
    )
    .await;
    let unit: Value = app
        .post(
            "/api/v1/units",
            Some(&admin),
            json!({"label": "4-501", "building": 4, "floor": 5}),
        )
        .await
        .json()
        .await
        .unwrap();
    let gate: Value = app
        .post(
            "/api/v1/devices",
            Some(&admin),
            json!({"kind": "gate", "name": "Tower 4 door", "zone": {"building": 4, "class": "floor", "floor": 7}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let edit = |body: Value, token: &str| {
        let (app, token) = (&app, token.to_owned());
        async move { app.put("/api/v1/buildings/4", Some(&token), body).await }
    };
    let remove = |token: &str| {
        let (app, token) = (&app, token.to_owned());
        async move { app.delete("/api/v1/buildings/4", Some(&token)).await }
    };

    // A clerk may do neither.
    let renamed = json!({"name": "Tower 4", "floor_lo": 1, "floor_hi": 12});
    assert_eq!(edit(renamed.clone(), &desk).await.status(), 403);
    assert_eq!(remove(&desk).await.status(), 403);

    // A floor range that leaves out the unit's floor 5 or the gate's floor 7 is refused.
    let r = edit(
        json!({"name": "Tower 4", "floor_lo": 6, "floor_hi": 12}),
        &admin,
    )
    .await;
    let body = assert_error(r, 409, "floors_in_use").await;
    assert_eq!(
        body["details"],
        json!({"building": 4, "lowest": 5, "highest": 7})
    );
    let r = edit(json!({"name": " ", "floor_lo": 1, "floor_hi": 12}), &admin).await;
    assert_eq!(r.status(), 422);
    let r = edit(renamed.clone(), &admin).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"number": 4, "name": "Tower 4", "floor_lo": 1, "floor_hi": 12})
    );
    let estate: Value = app.get_json("/api/v1/estate", Some(&admin)).await;
    assert!(
        estate["buildings"]
            .as_array()
            .unwrap()
            .contains(&json!({"number": 4, "name": "Tower 4", "floor_lo": 1, "floor_hi": 12})),
        "{estate}"
    );
    let (entry, details) = last_audit(&app, &admin, "building.edit").await;
    assert_eq!(entry["subject"], "building:4");
    assert_eq!(details["before"]["name"], "Building 4");
    assert_eq!(details["after"]["floor_hi"], 12);

    // Removal names what still points at the building.
    let r = remove(&admin).await;
    let body = assert_error(r, 409, "building_in_use").await;
    assert_eq!(
        body["details"],
        json!({"building": 4, "units": 1, "renovations": 0, "zones": 0, "gates": 1})
    );
    let r = app
        .delete(&format!("/api/v1/units/{}", unit["id"]), Some(&admin))
        .await;
    assert_eq!(r.status(), 204);
    let body: Value = remove(&admin).await.json().await.unwrap();
    assert_eq!(body["details"]["gates"], 1, "{body}");
    // A retired gate no longer holds the building.
    let r = app
        .delete(
            &format!("/api/v1/devices/{}", gate["device_id"].as_str().unwrap()),
            Some(&admin),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(remove(&admin).await.status(), 204);
    let estate: Value = app.get_json("/api/v1/estate", Some(&admin)).await;
    assert!(
        !estate["buildings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["number"] == 4),
        "{estate}"
    );
    let (entry, details) = last_audit(&app, &admin, "building.remove").await;
    assert_eq!(entry["subject"], "building:4");
    assert_eq!(details["name"], "Tower 4");
    assert_eq!(remove(&admin).await.status(), 404);
    assert_eq!(edit(renamed, &admin).await.status(), 404);
}

#[tokio::test]
async fn a_building_with_a_renovation_names_it_when_refusing_removal() {
    let (app, admin, desk) = spawn_staffed().await;
    crate::desk::renovation(&app, &desk).await;
    let estate: Value = app.get_json("/api/v1/estate", Some(&admin)).await;
    let number = estate["units"][0]["building"].as_u64().unwrap();
    let r = app
        .delete(&format!("/api/v1/buildings/{number}"), Some(&admin))
        .await;
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["details"]["renovations"], 1, "{body}");
    assert_eq!(body["details"]["units"], 1, "{body}");
}

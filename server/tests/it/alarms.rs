//! Device alarms: a kiosk's empty printer and a gate's forced door reach the desk, which
//! acknowledges them; retried uploads do not raise an alarm twice.

use crate::app::{TestApp, spawn_managed, spawn_staffed};
use crate::emergency::{acknowledge, send_alarm};
use crate::monitor::post_journal;
use crate::platform::enrol_device;
use chrono::Utc;
use gatehouse_credential::api::gate::{AlarmKind, GateEvent, JournalEntry};
use serde_json::{Value, json};

/// A gate's journal entry: its door was forced, now.
fn forced_door() -> JournalEntry {
    JournalEntry {
        id: uuid::Uuid::new_v4(),
        at: Utc::now(),
        clock_trusted: true,
        card_id: None,
        kind: None,
        event: GateEvent::Alarm {
            alarm: AlarmKind::DoorForced,
        },
        direction: None,
        area: None,
    }
}

/// A device reports an alarm of `kind` as active; returns the status.
async fn raise(app: &TestApp, device: &str, kind: &str) -> reqwest::Response {
    send_alarm(app, device, kind, true).await
}

async fn open_alarms(app: &TestApp, desk: &str) -> Vec<Value> {
    app.get_ok("/api/v1/alarms", Some(desk)).await
}

#[tokio::test]
async fn a_kiosk_printer_alarm_reaches_the_desk_until_cleared_and_acknowledged() {
    let (app, admin, desk) = spawn_staffed().await;
    let (kiosk_id, kiosk) = enrol_device(&app, &admin, "kiosk").await;
    let raise = json!({"kind": "paper_out", "active": true, "detail": "roll empty"});
    for _ in 0..3 {
        let r = app
            .post("/api/v1/device/alarms", Some(&kiosk), raise.clone())
            .await;
        assert_eq!(r.status(), 204);
    }
    let alarms = open_alarms(&app, &desk).await;
    assert_eq!(
        alarms.len(),
        1,
        "one alarm however often it is reported: {alarms:?}"
    );
    assert_eq!(alarms[0]["kind"], "paper_out");
    assert_eq!(alarms[0]["device_id"], kiosk_id.as_str());
    assert_eq!(alarms[0]["detail"], "roll empty");
    assert!(alarms[0]["cleared_at"].is_null());

    let clear = json!({"kind": "paper_out", "active": false});
    let r = app.post("/api/v1/device/alarms", Some(&kiosk), clear).await;
    assert_eq!(r.status(), 204);
    let alarms = open_alarms(&app, &desk).await;
    assert!(
        !alarms[0]["cleared_at"].is_null(),
        "cleared, still shown until seen"
    );

    let id = alarms[0]["id"].as_i64().unwrap();
    let r = acknowledge(&app, &desk, id).await;
    assert_eq!(r.status(), 200);
    let seen: Value = r.json().await.unwrap();
    assert_eq!(seen["acknowledged_by"], "desk1");
    assert!(open_alarms(&app, &desk).await.is_empty());

    // The audit log names the device and the staff member.
    let r = app.get("/api/v1/audit/verify", Some(&admin)).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["ok"], true, "{v}");
}

#[tokio::test]
async fn bad_alarm_reports_are_refused_and_change_nothing() {
    let (app, admin, desk) = spawn_staffed().await;
    let (_, kiosk) = enrol_device(&app, &admin, "kiosk").await;
    for body in [
        json!({"kind": "fire", "active": true}),
        json!({"kind": "paper_out"}),
        json!({"kind": "paper_out", "active": true, "detail": "x".repeat(201)}),
    ] {
        let r = app
            .post("/api/v1/device/alarms", Some(&kiosk), body.clone())
            .await;
        assert!(
            r.status().is_client_error(),
            "{body} answered {}",
            r.status()
        );
    }
    // Staff cannot raise device alarms, and an unknown alarm cannot be acknowledged.
    let r = raise(&app, &desk, "paper_out").await;
    assert_eq!(r.status(), 403);
    let r = acknowledge(&app, &desk, 999).await;
    assert_eq!(r.status(), 404);
    assert!(open_alarms(&app, &desk).await.is_empty());
}

#[tokio::test]
async fn a_forced_door_in_a_gate_journal_raises_one_alarm_even_when_the_upload_is_retried() {
    let (app, admin, desk) = spawn_staffed().await;
    let (gate_id, gate) = enrol_device(&app, &admin, "gate").await;
    let forced = forced_door();
    let body = json!({ "entries": [forced] });
    for _ in 0..2 {
        let r = post_journal(&app, &gate, body.clone()).await;
        assert_eq!(r.status(), 200);
    }
    let alarms = open_alarms(&app, &desk).await;
    assert_eq!(alarms.len(), 1, "{alarms:?}");
    assert_eq!(alarms[0]["kind"], "door_forced");
    assert_eq!(alarms[0]["device_id"], gate_id.as_str());
}

#[tokio::test]
async fn a_device_may_raise_only_the_alarms_its_role_can_have() {
    let (app, admin, desk) = spawn_staffed().await;
    let (_, kiosk) = enrol_device(&app, &admin, "kiosk").await;
    let (_, gate) = enrol_device(&app, &admin, "gate").await;
    for (device, kind) in [
        (&kiosk, "door_forced"),
        (&kiosk, "fire_alarm"),
        (&gate, "paper_out"),
    ] {
        let r = raise(&app, device, kind).await;
        assert_eq!(r.status(), 422, "{kind}");
        assert_eq!(crate::app::error_code(r).await, "alarm_kind_not_allowed");
    }
    assert!(open_alarms(&app, &desk).await.is_empty());
    assert_eq!(
        raise(&app, &kiosk, "printer_cover_open").await.status(),
        204
    );
    assert_eq!(open_alarms(&app, &desk).await.len(), 1);
}

#[tokio::test]
async fn a_flood_of_forced_door_alarms_is_one_alarm_with_a_count_and_hides_no_other() {
    let (app, admin, desk) = spawn_staffed().await;
    let (_, kiosk) = enrol_device(&app, &admin, "kiosk").await;
    let (gate_id, gate) = enrol_device(&app, &admin, "gate").await;
    assert_eq!(raise(&app, &kiosk, "paper_out").await.status(), 204);
    let flood: Vec<JournalEntry> = (0..300).map(|_| forced_door()).collect();
    let r = post_journal(&app, &gate, json!({ "entries": flood })).await;
    assert_eq!(r.status(), 200);
    let alarms = open_alarms(&app, &desk).await;
    let kinds: Vec<&str> = alarms.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert!(kinds.contains(&"paper_out"), "{kinds:?}");
    let forced = alarms.iter().find(|a| a["kind"] == "door_forced").unwrap();
    assert_eq!(forced["device_id"], gate_id.as_str());
    assert_eq!(forced["repeats"], 300);
}

#[tokio::test]
async fn a_guard_watches_doors_and_alarms_and_acknowledges_but_cannot_open_or_lock() {
    let (app, admin) = spawn_managed().await;
    let guard = crate::goods::guard(&app, &admin).await;
    let (gate_id, gate) = enrol_device(&app, &admin, "gate").await;
    assert_eq!(raise(&app, &gate, "door_forced").await.status(), 204);

    let doors = app.get_json("/api/v1/doors", Some(&guard)).await;
    assert!(
        doors.to_string().contains(gate_id.as_str()),
        "the guard sees the gate: {doors}"
    );
    let alarms = open_alarms(&app, &guard).await;
    assert_eq!(alarms.len(), 1);
    assert_eq!(alarms[0]["kind"], "door_forced");
    let id = alarms[0]["id"].as_i64().unwrap();
    let r = acknowledge(&app, &guard, id).await;
    assert_eq!(r.status(), 200, "the guard acknowledges what they saw");
    let seen: Value = r.json().await.unwrap();
    assert!(!seen["acknowledged_at"].is_null(), "{seen}");

    let page = app.get_text("/desk/doors", Some(&guard)).await;
    assert!(page.contains(&gate_id), "the doors page lists the gate");
    for control in [
        "class=\"inline unlock\"",
        "id=\"lockdown\"",
        "id=\"evacuation\"",
    ] {
        assert!(
            !page.contains(control),
            "a guard's doors page has no {control}"
        );
    }
    app.expect_statuses(
        &guard,
        vec![
            (
                reqwest::Method::POST,
                &format!("/api/v1/doors/{gate_id}/unlock"),
                Some(json!({"reason": "test", "seconds": 5})),
                403,
            ),
            (
                reqwest::Method::PUT,
                "/api/v1/lockdown",
                Some(json!({"active": true})),
                403,
            ),
            (
                reqwest::Method::POST,
                "/api/v1/evacuation",
                Some(json!({})),
                403,
            ),
        ],
    )
    .await;
}

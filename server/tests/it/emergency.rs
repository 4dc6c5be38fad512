//! Emergencies: evacuation pushed to long-polling gates and reported in their snapshot, who
//! may start and end it, its audit trail, lockdown during an evacuation, and the fire alarm
//! the desk sees first.

use crate::app::{TestApp, spawn_managed, spawn_staffed};
use crate::platform::enrol_device;
use gatehouse_credential::api::gate::{ChangeBatch, ChangeEvent, GateSnapshot};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub async fn evacuate(app: &TestApp, token: &str, active: bool) -> reqwest::Response {
    let method = if active { Method::POST } else { Method::DELETE };
    app.send(method, "/api/v1/evacuation", Some(token), None)
        .await
}

async fn snapshot(app: &TestApp, gate: &str) -> GateSnapshot {
    app.get_ok("/api/v1/gate/snapshot", Some(gate)).await
}

/// Every audit entry as (action, actor), newest first.
pub async fn audit_actions(app: &TestApp, admin: &str) -> Vec<(String, String)> {
    let entries: Vec<Value> = app.get_ok("/api/v1/audit?limit=1000", Some(admin)).await;
    entries
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `device` says an alarm of `kind` is raised (`active`) or cleared; the answer, whatever it is.
pub async fn send_alarm(
    app: &TestApp,
    device: &str,
    kind: &str,
    active: bool,
) -> reqwest::Response {
    let body = json!({"kind": kind, "active": active});
    app.post("/api/v1/device/alarms", Some(device), body).await
}

/// `token` acknowledges alarm `id`.
pub async fn acknowledge(app: &TestApp, token: &str, id: i64) -> reqwest::Response {
    let path = format!("/api/v1/alarms/{id}/acknowledge");
    app.post(&path, Some(token), json!({})).await
}

/// A device raises (`active`) or clears an alarm of `kind`.
pub async fn report_alarm(app: &TestApp, device: &str, kind: &str, active: bool) {
    let r = send_alarm(app, device, kind, active).await;
    assert_eq!(r.status(), 204, "{kind}");
}

async fn emergency_state(app: &TestApp, token: &str) -> Value {
    app.get_ok("/api/v1/emergency", Some(token)).await
}

#[tokio::test]
async fn a_long_polling_gate_hears_the_evacuation_the_desk_starts_and_its_snapshot_says_so() {
    let (app, admin, desk) = spawn_staffed().await;
    let (_, gate) = enrol_device(&app, &admin, "gate").await;
    let before = snapshot(&app, &gate).await;
    assert!(!before.evacuation);

    let url = app.url(&format!(
        "/api/v1/gate/changes?since={}&wait_ms=20000",
        before.cursor
    ));
    let (client, key) = (app.client.clone(), gate.clone());
    let poll = tokio::spawn(async move {
        let r = client.get(url).bearer_auth(key).send().await.unwrap();
        (Instant::now(), r.json::<ChangeBatch>().await.unwrap())
    });
    // Wait until the gate's request is parked on the server, observably.
    app.long_poll_parked().await;

    let started_at = Instant::now();
    let r = evacuate(&app, &desk, true).await;
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["evacuation"]["active"], true);
    assert_eq!(answer["evacuation"]["started_by"], "desk:desk1");
    let (heard_at, batch) = poll.await.unwrap();
    assert!(
        heard_at.duration_since(started_at) < Duration::from_secs(1),
        "the gate heard it in {:?}",
        heard_at.duration_since(started_at)
    );
    assert_eq!(batch.changes.len(), 1);
    assert_eq!(
        batch.changes[0].event,
        ChangeEvent::Evacuation { active: true }
    );
    assert_eq!(Some(batch.changes[0].seq), answer["seq"].as_u64());

    // A gate that (re)starts from its snapshot during the evacuation is released at once.
    let during = snapshot(&app, &gate).await;
    assert!(during.evacuation);
    assert_eq!(during.cursor, batch.cursor);

    // Starting it again changes nothing and pushes nothing.
    let again: Value = evacuate(&app, &desk, true).await.json().await.unwrap();
    assert_eq!(again["seq"], Value::Null);

    let r = evacuate(&app, &admin, false).await;
    assert_eq!(r.status(), 200);
    let ended = app
        .get(
            &format!("/api/v1/gate/changes?since={}&wait_ms=0", batch.cursor),
            Some(&gate),
        )
        .await
        .json::<ChangeBatch>()
        .await
        .unwrap();
    assert_eq!(
        ended.changes.last().map(|c| c.event.clone()),
        Some(ChangeEvent::Evacuation { active: false })
    );
    assert!(!snapshot(&app, &gate).await.evacuation);
}

#[tokio::test]
async fn the_desk_may_start_an_evacuation_only_a_manager_ends_it_and_both_are_audited() {
    let (app, admin, desk) = spawn_staffed().await;
    let (_, kiosk) = enrol_device(&app, &admin, "kiosk").await;
    let (_, gate) = enrol_device(&app, &admin, "gate").await;

    assert_eq!(evacuate(&app, &kiosk, true).await.status(), 403);
    assert_eq!(evacuate(&app, &gate, true).await.status(), 403);
    assert_eq!(evacuate(&app, &desk, true).await.status(), 200);
    assert_eq!(evacuate(&app, &desk, false).await.status(), 403);
    assert!(
        snapshot(&app, &gate).await.evacuation,
        "the desk did not end it"
    );
    assert_eq!(evacuate(&app, &admin, false).await.status(), 200);
    assert!(!snapshot(&app, &gate).await.evacuation);

    let actions = audit_actions(&app, &admin).await;
    assert!(actions.contains(&("estate.evacuation.start".into(), "desk:desk1".into())));
    assert!(actions.contains(&("estate.evacuation.end".into(), "manager:admin".into())));
    assert_eq!(
        actions
            .iter()
            .filter(|(a, _)| a.starts_with("estate.evacuation"))
            .count(),
        2,
        "refused calls leave no entry"
    );
}

#[tokio::test]
async fn lockdown_during_an_evacuation_is_kept_but_says_the_released_doors_stay_released() {
    let (app, admin, desk) = spawn_staffed().await;
    let (_, gate) = enrol_device(&app, &admin, "gate").await;
    assert_eq!(evacuate(&app, &desk, true).await.status(), 200);

    let r = app
        .put("/api/v1/lockdown", Some(&admin), json!({"active": true}))
        .await;
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert!(answer["seq"].as_u64().is_some(), "the lockdown is recorded");
    let notice = answer["notice"].as_str().unwrap_or_default();
    assert!(
        notice.contains("fire_release") && notice.contains("stays released"),
        "{answer}"
    );
    let s = snapshot(&app, &gate).await;
    assert!(s.lockdown && s.evacuation, "both are on; gates rank them");

    // Without an evacuation a lockdown answer carries no notice.
    assert_eq!(evacuate(&app, &admin, false).await.status(), 200);
    let off: Value = app
        .put("/api/v1/lockdown", Some(&admin), json!({"active": false}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(off.get("notice"), None, "{off}");
}

#[tokio::test]
async fn a_fire_alarm_from_any_gate_is_in_the_emergency_state_above_a_flood_of_other_alarms() {
    let (app, admin, desk) = spawn_staffed().await;
    let (_, gate) = enrol_device(&app, &admin, "gate").await;
    let (_, kiosk) = enrol_device(&app, &admin, "kiosk").await;
    report_alarm(&app, &gate, "fire_alarm", true).await;
    // Two hundred and more other alarms afterwards: the alarm list is capped, the fire is not.
    for _ in 0..210 {
        report_alarm(&app, &kiosk, "paper_out", true).await;
        report_alarm(&app, &kiosk, "paper_out", false).await;
    }
    let s = emergency_state(&app, &desk).await;
    assert_eq!(s["fire_alarms"].as_array().unwrap().len(), 1, "{s}");
    assert_eq!(s["fire_alarms"][0]["kind"], "fire_alarm");
    assert_eq!(s["fire_alarms"][0]["device_name"], "test gate");
    assert_eq!(s["fire_alarms"][0]["cleared_at"], Value::Null);
    assert_eq!(s["evacuation"]["active"], false);
    assert_eq!(
        s["can_end_evacuation"], false,
        "a desk clerk cannot end one"
    );
    let all: Vec<Value> = app.get_ok("/api/v1/alarms", Some(&desk)).await;
    assert!(
        all.iter().all(|a| a["kind"] != "fire_alarm"),
        "the capped list lost it; the emergency state did not"
    );

    // Cleared at the panel: still shown until someone at the desk has seen it.
    report_alarm(&app, &gate, "fire_alarm", false).await;
    let s = emergency_state(&app, &admin).await;
    assert!(s["fire_alarms"][0]["cleared_at"].is_string());
    assert_eq!(s["can_end_evacuation"], true);
    let id = s["fire_alarms"][0]["id"].as_i64().unwrap();
    let r = acknowledge(&app, &desk, id).await;
    assert_eq!(r.status(), 200);
    let s = emergency_state(&app, &desk).await;
    assert_eq!(s["fire_alarms"], json!([]));
}

#[tokio::test]
async fn the_muster_answer_tells_the_kiosk_of_a_fire_alarm_then_of_an_evacuation() {
    let (app, admin) = spawn_managed().await;
    let (_, gate) = enrol_device(&app, &admin, "gate").await;
    let (_, kiosk) = enrol_device(&app, &admin, "kiosk").await;
    let signal = |r: reqwest::Response| {
        assert_eq!(r.status(), 200);
        r.headers()
            .get("gatehouse-emergency")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let muster = || app.get("/api/v1/muster", Some(&kiosk));
    assert_eq!(signal(muster().await), None, "no emergency, no header");
    report_alarm(&app, &gate, "fire_alarm", true).await;
    assert_eq!(signal(muster().await).as_deref(), Some("fire_alarm"));
    assert_eq!(evacuate(&app, &admin, true).await.status(), 200);
    assert_eq!(
        signal(muster().await).as_deref(),
        Some("fire_alarm"),
        "the fire alarm outranks the evacuation"
    );
    report_alarm(&app, &gate, "fire_alarm", false).await;
    assert_eq!(signal(muster().await).as_deref(), Some("evacuation"));
    assert_eq!(evacuate(&app, &admin, false).await.status(), 200);
    assert_eq!(signal(muster().await), None);
}

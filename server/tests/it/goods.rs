//! Goods-release permits: written by the desk, approved by a manager, signed; a goods-check
//! gate's report reaches the guard's long poll at once; the guard releases once; the guard
//! role sees permits and nothing else of the desk's.

use crate::app::{TestApp, error_code, spawn_managed, spawn_staffed};
use crate::desk::{card, desk_with_unit, renovation, seed_unit, worker};
use crate::monitor::post_journal;
use crate::platform::enrol_device;
use chrono::Utc;
use gatehouse_credential::api::gate::{DenyReason, GateEvent, JournalEntry};
use gatehouse_credential::{CardId, KeyRing, Kind};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Creates a guard account and returns its token.
pub async fn guard(app: &TestApp, admin: &str) -> String {
    app.add_staff(admin, "王小明", "guard", "guard-password-1")
        .await;
    app.login("王小明", "guard-password-1").await
}

/// A permit for two items from unit 2-1203, today.
pub fn new_permit(unit: i64) -> Value {
    json!({
        "unit_id": unit, "applicant": "owner", "applicant_name": "张三明", "applicant_phone": "13812345678",
        "items": [{"description": "沙发 sofa", "count": 1}, {"description": "纸箱 boxes", "count": 6}],
        "plate": "沪A 12345", "notes": "搬家 moving out"
    })
}

/// What a goods-check gate uploads after reading permit `id`.
fn permit_scan(id: u32) -> Value {
    let entry = JournalEntry {
        id: uuid::Uuid::new_v4(),
        at: Utc::now(),
        clock_trusted: true,
        card_id: Some(CardId(id)),
        kind: Some(Kind::GoodsRelease),
        event: GateEvent::Denied {
            reason: DenyReason::GoodsPermit,
        },
        direction: None,
        area: None,
    };
    json!({ "entries": [entry] })
}

/// Approves permit `id` as `token`; the answer must be a success.
async fn approve(app: &TestApp, token: &str, id: impl std::fmt::Display) -> Value {
    json_of(ask_approval(app, token, id).await).await
}

/// `token` asks to approve permit `id`; the answer, whatever it is.
async fn ask_approval(app: &TestApp, token: &str, id: impl std::fmt::Display) -> reqwest::Response {
    let path = format!("/api/v1/goods-permits/{id}/approve");
    app.post(&path, Some(token), json!({})).await
}

/// Writes [`new_permit`] as `token`; its number.
async fn write_permit(app: &TestApp, token: &str, unit: i64) -> u64 {
    json_of(
        app.post("/api/v1/goods-permits", Some(token), new_permit(unit))
            .await,
    )
    .await["id"]
        .as_u64()
        .unwrap()
}

async fn json_of(r: reqwest::Response) -> Value {
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert!(status.is_success(), "{status}: {v}");
    v
}

#[tokio::test]
async fn a_permit_approved_by_a_manager_is_signed_reported_by_the_gate_at_once_and_released_once() {
    let (app, admin, desk) = spawn_staffed().await;
    let guard = guard(&app, &admin).await;
    let unit = seed_unit(&app).await;

    // A tenant needs the owner's consent on record.
    let mut tenant = new_permit(unit);
    tenant["applicant"] = json!("tenant");
    let r = app
        .post("/api/v1/goods-permits", Some(&desk), tenant.clone())
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(error_code(r).await, "owner_consent_required");
    tenant["consent_how"] = json!("电话 phone call");
    tenant["consent_taken_by"] = json!("desk1");
    let r = app.post("/api/v1/goods-permits", Some(&desk), tenant).await;
    assert_eq!(r.status(), 201);

    let r = app
        .post("/api/v1/goods-permits", Some(&desk), new_permit(unit))
        .await;
    assert_eq!(r.status(), 201);
    let permit: Value = r.json().await.unwrap();
    let id = permit["id"].as_u64().unwrap() as u32;
    assert_eq!(permit["state"], "requested");
    assert_eq!(permit["applicant_masked"], "张*明");
    assert_eq!(permit["plate"], "沪A12345");

    // The desk may not approve unless the setting says so; the manager may.
    let r = ask_approval(&app, &desk, id).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "manager_required");
    let approved = approve(&app, &admin, id).await;
    assert_eq!(approved["state"], "approved");
    let ring = KeyRing::from_infos(&app.published_keys()).unwrap();
    let credential = ring
        .verify(approved["credential"].as_str().unwrap())
        .unwrap();
    assert_eq!(credential.claims.kind, Kind::GoodsRelease);
    assert_eq!(credential.claims.card_id, CardId(id));

    // A worker card issued after it takes a number of its own: gates never confuse them.
    let r = renovation(&app, &desk).await;
    let w = worker(&app, &desk, r, "110101199003074514").await;
    let (card_id, _) = card(&app, &desk, w).await;
    assert!(card_id > id, "card {card_id} after permit {id}");

    // The guard page waits; the gate's report wakes it.
    let (gate_id, gate) = enrol_device(&app, &admin, "gate").await;
    let client = app.client.clone();
    let url = app.url("/api/v1/guard/scans?after=0&wait_ms=20000");
    let token = guard.clone();
    let waiting = tokio::spawn(async move {
        let r = client.get(url).bearer_auth(token).send().await.unwrap();
        (r.json::<Value>().await.unwrap(), Instant::now())
    });
    app.parked_on("goods_long_polls_waiting").await;
    let sent = Instant::now();
    let r = post_journal(&app, &gate, permit_scan(id)).await;
    assert_eq!(r.status(), 200);
    let (scans, answered) = waiting.await.unwrap();
    assert!(
        answered.duration_since(sent) < Duration::from_secs(2),
        "the guard heard of the scan {:?} after it was reported",
        answered.duration_since(sent)
    );
    let scan = &scans[0];
    assert_eq!(scan["permit"]["id"], id);
    assert_eq!(scan["gate"], "test gate");
    assert_eq!(scan["gate_reason"], "goods_permit");
    assert_eq!(scan["verdict"]["ok"], true);
    let items: Vec<&str> = scan["permit"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["description"].as_str().unwrap())
        .collect();
    assert_eq!(items, ["沙发 sofa", "纸箱 boxes"]);

    // Stopping needs a reason; releasing works once.
    let url = format!("/api/v1/goods-permits/{id}/guard");
    let r = app
        .post(
            &url,
            Some(&guard),
            json!({"scan_id": scan["scan_id"], "release": false}),
        )
        .await;
    assert_eq!(error_code(r).await, "reason_required");
    let released = json_of(
        app.post(
            &url,
            Some(&guard),
            json!({"scan_id": scan["scan_id"], "release": true}),
        )
        .await,
    )
    .await;
    assert_eq!(released["state"], "released");
    assert_eq!(released["closed_gate"], "test gate");
    assert_eq!(released["closed_by"], "guard 王*明");

    // A second scan: the guard is told when, where and by whom it was used.
    let r = post_journal(&app, &gate, permit_scan(id)).await;
    assert_eq!(r.status(), 200);
    let last = scan["scan_id"].as_i64().unwrap();
    let again = json_of(
        app.get(
            &format!("/api/v1/guard/scans?after={last}&wait_ms=0"),
            Some(&guard),
        )
        .await,
    )
    .await;
    let verdict = &again[0]["verdict"];
    assert_eq!(verdict["ok"], false);
    assert_eq!(verdict["code"], "already_released");
    let message = verdict["message"].as_str().unwrap();
    assert!(
        message.contains("already released at") && message.contains("at test gate by guard 王*明"),
        "{message}"
    );
    let r = app.post(&url, Some(&guard), json!({"release": true})).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "already_released");

    // In the gate's events and the audit log.
    let csv = app
        .get_text(&format!("/api/v1/events.csv?device={gate_id}"), Some(&desk))
        .await;
    assert!(csv.contains(",goods_released,"), "{csv}");
    assert!(csv.contains("goods_permit"), "{csv}");
    let log = json_of(app.get("/api/v1/audit?limit=50", Some(&admin)).await).await;
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subject"] == format!("permit:{id}"))
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in ["goods.create", "goods.approved", "goods.released"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}

#[tokio::test]
async fn a_refused_permit_never_goes_out_and_the_desk_approves_when_the_setting_allows() {
    let (app, admin, desk) = spawn_staffed().await;
    let guard = guard(&app, &admin).await;
    let unit = seed_unit(&app).await;
    let id = write_permit(&app, &desk, unit).await;
    let r = app
        .post(
            &format!("/api/v1/goods-permits/{id}/refuse"),
            Some(&admin),
            json!({"reason": " "}),
        )
        .await;
    assert_eq!(error_code(r).await, "reason_required");
    let refused = json_of(
        app.post(
            &format!("/api/v1/goods-permits/{id}/refuse"),
            Some(&admin),
            json!({"reason": "业主未同意 owner did not agree"}),
        )
        .await,
    )
    .await;
    assert_eq!(refused["state"], "refused");
    // The guard types the number: refused, and the buttons would not help.
    let scan = json_of(
        app.post(
            "/api/v1/guard/scans",
            Some(&guard),
            json!({"text": format!("#{id}")}),
        )
        .await,
    )
    .await;
    assert_eq!(scan["verdict"]["code"], "permit_refused");
    let r = app
        .post(
            &format!("/api/v1/goods-permits/{id}/guard"),
            Some(&guard),
            json!({"release": true}),
        )
        .await;
    assert_eq!(error_code(r).await, "permit_refused");

    let r = app
        .put(
            "/api/v1/settings/goods-approval",
            Some(&admin),
            json!({"desk_approves": true}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let id = write_permit(&app, &desk, unit).await;
    let approved = approve(&app, &desk, id).await;
    assert_eq!(approved["state"], "approved");
    // Released on a typed number, with no gate: in the events CSV all the same.
    let scan = json_of(
        app.post(
            "/api/v1/guard/scans",
            Some(&guard),
            json!({"text": id.to_string()}),
        )
        .await,
    )
    .await;
    assert_eq!(scan["verdict"]["ok"], true);
    json_of(
        app.post(
            &format!("/api/v1/goods-permits/{id}/guard"),
            Some(&guard),
            json!({"scan_id": scan["scan_id"], "release": true}),
        )
        .await,
    )
    .await;
    let csv = app.get_text("/api/v1/events.csv", Some(&desk)).await;
    let row = csv
        .lines()
        .find(|l| l.contains(",goods_released,"))
        .unwrap_or_else(|| panic!("no release in {csv}"));
    let fields: Vec<&str> = row.split(',').collect();
    assert_eq!(fields[2], "门岗手持 guard handheld", "{row}");
    assert_eq!(fields[3], id.to_string(), "{row}");
    assert_eq!(fields[4], "goods_release", "{row}");
    assert!(fields[6].contains("王小明"), "who released it: {row}");
    let only_denied = app
        .get_text("/api/v1/events.csv?result=denied", Some(&desk))
        .await;
    assert!(!only_denied.contains("goods_released"), "{only_denied}");
    // A scan of a worker card at the guard's field is no permit.
    let r = app
        .post(
            "/api/v1/guard/scans",
            Some(&guard),
            json!({"text": "hello"}),
        )
        .await;
    assert_eq!(error_code(r).await, "unreadable_permit");
}

#[tokio::test]
async fn a_guard_sees_permits_and_nothing_else_of_the_desk() {
    let (app, admin) = spawn_managed().await;
    let guard = guard(&app, &admin).await;
    for path in [
        "/api/v1/renovations",
        "/api/v1/cards/outstanding",
        "/api/v1/events",
        "/desk/renovations",
        "/desk/goods",
    ] {
        let r = app.get(path, Some(&guard)).await;
        assert_eq!(r.status(), 403, "{path}");
    }
    let r = app
        .post("/api/v1/goods-permits", Some(&guard), new_permit(1))
        .await;
    assert_eq!(r.status(), 403, "a guard does not write permits");
    for path in ["/api/v1/goods-permits", "/guard", "/api/v1/auth/me"] {
        let r = app.get(path, Some(&guard)).await;
        assert_eq!(r.status(), 200, "{path}");
    }
    let home = app.get("/", Some(&guard)).await;
    assert_eq!(home.url().path(), "/guard");
}

#[tokio::test]
async fn the_desk_sends_an_approved_permit_to_a_kiosk_printer_which_takes_it_once_and_reports() {
    let (app, admin, desk, unit) = desk_with_unit().await;
    let (kiosk_id, kiosk) = enrol_device(&app, &admin, "kiosk").await;
    let (gate_id, _) = enrol_device(&app, &admin, "gate").await;
    let id = write_permit(&app, &desk, unit).await;
    let send = |device: String| {
        let app = &app;
        let desk = desk.clone();
        async move {
            app.post(
                &format!("/api/v1/goods-permits/{id}/kiosk-print"),
                Some(&desk),
                json!({ "device_id": device }),
            )
            .await
        }
    };
    // Only an approved permit, and only to a kiosk.
    let r = send(kiosk_id.clone()).await;
    assert_eq!(error_code(r).await, "permit_not_approved");
    let approved = approve(&app, &admin, id).await;
    let r = send(gate_id).await;
    assert_eq!(error_code(r).await, "unknown_kiosk");

    // The kiosk is waiting when the desk sends it.
    let client = app.client.clone();
    let url = app.url("/api/v1/kiosk/print-jobs?wait_ms=20000");
    let key = kiosk.clone();
    let waiting = tokio::spawn(async move {
        let r = client.get(url).bearer_auth(key).send().await.unwrap();
        assert_eq!(r.status(), 200);
        (r.json::<Value>().await.unwrap(), Instant::now())
    });
    app.parked_on("goods_long_polls_waiting").await;
    let sent = Instant::now();
    let job = json_of(send(kiosk_id.clone()).await).await;
    let (slips, answered) = waiting.await.unwrap();
    assert!(
        answered.duration_since(sent) < Duration::from_secs(2),
        "the kiosk heard of the slip {:?} after it was sent",
        answered.duration_since(sent)
    );
    let slip = &slips[0];
    assert_eq!(slip["job_id"], job["id"]);
    assert_eq!(slip["permit_id"], id);
    assert_eq!(slip["credential"], approved["credential"]);
    assert_eq!(slip["applicant_masked"], "张*明");
    assert_eq!(slip["plate"], "沪A12345");
    assert_eq!(slip["items"][1]["description"], "纸箱 boxes");
    assert_eq!(slip["items"][1]["count"], 6);
    // Taken once.
    let again = json_of(
        app.get("/api/v1/kiosk/print-jobs?wait_ms=0", Some(&kiosk))
            .await,
    )
    .await;
    assert_eq!(again, json!([]));

    let result = format!("/api/v1/kiosk/print-jobs/{}/result", job["id"]);
    for (paper, status, what) in [
        ("paper?", 422, "an unknown paper state"),
        ("near_end", 204, "the result"),
        ("ok", 404, "reported once"),
    ] {
        let body = json!({"printed": true, "paper": paper});
        let r = app.post(&result, Some(&kiosk), body).await;
        assert_eq!(r.status(), status, "{what}");
    }

    let page = app
        .get_text(&format!("/desk/goods/print/{id}"), Some(&desk))
        .await;
    assert!(
        page.contains(&format!("data-job=\"{}\" data-printed=\"true\"", job["id"]))
            && page.contains("已打印（纸将用完）"),
        "{page}"
    );
    let log = json_of(app.get("/api/v1/audit?limit=50", Some(&admin)).await).await;
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "goods.kiosk_print" && e["subject"] == format!("permit:{id}")),
        "sending is audited"
    );
    // A desk clerk cannot act as the kiosk.
    let r = app.get("/api/v1/kiosk/print-jobs", Some(&desk)).await;
    assert_eq!(r.status(), 403);
}

//! Front desk: renovations and their 3-month limits, extensions reaching the gates, worker
//! cards (issue, reprint, return by scan, lost, revoke), deposits and every refund rule,
//! visitors, invites, the deny list, the kiosk calls, retention.

use crate::app::{TestApp, assert_error, error_code, spawn_staffed};
use chrono::{DateTime, Months, NaiveDate, Utc};
use gatehouse_credential::api::gate::{Change, ChangeEvent, RevocationReason};
use gatehouse_credential::{Claims, KeyRing, Kind, ZoneClass};
use serde_json::{Value, json};

/// Adds building 2 with unit "2-1203" on floor 12; returns the unit id.
pub async fn seed_unit(app: &TestApp) -> i64 {
    app.db(|c| {
        c.execute_batch(
            "INSERT OR IGNORE INTO buildings (number, name, floor_lo, floor_hi) VALUES (2, 'Tower 2', -2, 30);
             INSERT OR IGNORE INTO units (label, building, floor) VALUES ('2-1203', 2, 12);",
        )?;
        c.query_row("SELECT id FROM units WHERE label = '2-1203'", [], |r| r.get(0))
            .map_err(gatehouse_server::db::DbError::from)
    })
        .await
}

/// The estate's local date today.
pub fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
}

/// The end of the estate's local day `day` (the next midnight), in UTC.
pub fn end_of_local_day(day: NaiveDate) -> DateTime<Utc> {
    day.succ_opt()
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_local_timezone(chrono_tz::Asia::Shanghai)
        .unwrap()
        .with_timezone(&Utc)
}

/// Registers a renovation from `start` to `end` (dates, or their text); returns the response.
pub async fn register(
    app: &TestApp,
    token: &str,
    unit: i64,
    start: impl serde::Serialize,
    end: impl serde::Serialize,
) -> reqwest::Response {
    app.post(
        "/api/v1/renovations",
        Some(token),
        json!({
            "unit_id": unit, "owner_name": "王小明", "contractor": "Acme Decoration Co.",
            "supervisor_name": "李四", "supervisor_phone": "13812345678",
            "start_date": start, "end_date": end, "waterproofing": false,
        }),
    )
    .await
}

/// A renovation running from today for two months; returns its id.
pub async fn renovation(app: &TestApp, token: &str) -> i64 {
    let unit = seed_unit(app).await;
    let t = today();
    let r = register(app, token, unit, t, t + Months::new(2)).await;
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// A fresh server with a manager, a desk clerk and unit 2-1203: (app, manager token, desk
/// token, unit id).
pub async fn desk_with_unit() -> (TestApp, String, String, i64) {
    let (app, admin, desk) = spawn_staffed().await;
    let unit = seed_unit(&app).await;
    (app, admin, desk, unit)
}

/// A fresh server with a manager, a desk clerk and one renovation: (app, manager token, desk
/// token, renovation id).
pub async fn desk_with_renovation() -> (TestApp, String, String, i64) {
    let (app, admin, desk) = spawn_staffed().await;
    let id = renovation(&app, &desk).await;
    (app, admin, desk, id)
}

/// `POST /api/v1/renovations/{id}/{action}` (`workers`, `extensions`, `ledger`, …) with `body`.
pub async fn renovation_action(
    app: &TestApp,
    token: &str,
    id: i64,
    action: &str,
    body: Value,
) -> reqwest::Response {
    app.post(
        &format!("/api/v1/renovations/{id}/{action}"),
        Some(token),
        body,
    )
    .await
}

/// Asks to register worker 张三明 with ID number `id_number`; the answer, whatever it is.
pub async fn add_worker(
    app: &TestApp,
    token: &str,
    renovation: i64,
    id_number: &str,
) -> reqwest::Response {
    let body = json!({"name": "张三明", "phone": "13912345678", "id_number": id_number});
    renovation_action(app, token, renovation, "workers", body).await
}

/// Registers a worker with ID number `id_number`; returns the worker id.
pub async fn worker(app: &TestApp, token: &str, renovation: i64, id_number: &str) -> i64 {
    let r = add_worker(app, token, renovation, id_number).await;
    assert_eq!(r.status(), 201, "worker {id_number}");
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// `PUT /api/v1/renovations/{id}/progress` with `body`.
pub async fn progress(app: &TestApp, token: &str, id: i64, body: Value) -> reqwest::Response {
    app.put(
        &format!("/api/v1/renovations/{id}/progress"),
        Some(token),
        body,
    )
    .await
}

/// `GET /api/v1/renovations/{id}/refund-check`: each refund rule, met or not, with its reason.
pub async fn refund_check(app: &TestApp, token: &str, id: i64) -> Value {
    let path = format!("/api/v1/renovations/{id}/refund-check");
    let r = app.get(&path, Some(token)).await;
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

/// The code a contractor types at the kiosk for renovation `id`.
pub async fn renovation_code(app: &TestApp, token: &str, id: i64) -> String {
    let detail = detail(app, token, id).await;
    detail["renovation"]["code"].as_str().unwrap().to_owned()
}

/// The desk asks for a new one-time collection code for `worker`.
pub async fn collection_code(app: &TestApp, desk: &str, worker: i64) -> String {
    let path = format!("/api/v1/workers/{worker}/collection-code");
    app.created(&path, desk, json!({})).await["collection_code"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A worker asks the kiosk for their card.
pub async fn collect(
    app: &TestApp,
    kiosk: &str,
    code: &str,
    last4: &str,
    collection: &str,
) -> reqwest::Response {
    app.post(
        "/api/v1/kiosk/worker-cards",
        Some(kiosk),
        json!({"renovation_code": code, "id_last4": last4, "collection_code": collection}),
    )
    .await
}

/// A visitor registers at the kiosk: `body` names them, the unit, the purpose and the party.
pub async fn kiosk_visitor(app: &TestApp, kiosk: &str, body: Value) -> reqwest::Response {
    app.post("/api/v1/kiosk/visitors", Some(kiosk), body).await
}

/// An invite's `code` is typed at the kiosk.
pub async fn redeem(app: &TestApp, kiosk: &str, code: &str) -> reqwest::Response {
    let body = json!({"code": code});
    app.post("/api/v1/kiosk/invites/redeem", Some(kiosk), body)
        .await
}

/// The desk puts someone on the deny list: `body` has their name, maybe a phone, a reason.
pub async fn deny(app: &TestApp, desk: &str, body: Value) -> reqwest::Response {
    app.post("/api/v1/deny-list", Some(desk), body).await
}

/// The desk invites `name` to `unit` for a party of `party`; returns the invite's code.
pub async fn invite_code(app: &TestApp, desk: &str, name: &str, unit: i64, party: u8) -> String {
    let body = json!({"name": name, "unit_id": unit, "purpose": "dinner", "party_size": party});
    app.created("/api/v1/invites", desk, body).await["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Asks for a card for `worker`; the answer, whatever it is.
pub async fn issue_card(app: &TestApp, token: &str, worker: i64) -> reqwest::Response {
    app.post(
        &format!("/api/v1/workers/{worker}/card"),
        Some(token),
        json!({}),
    )
    .await
}

/// Issues a worker's card; returns (card id, credential text).
pub async fn card(app: &TestApp, token: &str, worker: i64) -> (u32, String) {
    let r = issue_card(app, token, worker).await;
    assert_eq!(r.status(), 201, "card for worker {worker}");
    let v: Value = r.json().await.unwrap();
    (
        v["card"]["card_id"].as_u64().unwrap() as u32,
        v["credential"].as_str().unwrap().to_owned(),
    )
}

/// Registers a worker with ID number `id_number` and issues their card; returns (card id,
/// credential text).
pub async fn worker_card(
    app: &TestApp,
    token: &str,
    renovation: i64,
    id_number: &str,
) -> (u32, String) {
    card(app, token, worker(app, token, renovation, id_number).await).await
}

/// Three workers of renovation `id`, each with a card: (card id, credential text) each.
pub async fn three_cards(app: &TestApp, desk: &str, id: i64) -> [(u32, String); 3] {
    [
        worker_card(app, desk, id, "110105194912310021").await,
        worker_card(app, desk, id, "110105194912310039").await,
        worker_card(app, desk, id, "110105194912310047").await,
    ]
}

/// `POST /api/v1/cards/{card}/{action}` (`lost`, `revoke`, `reprint`, …) with `body`.
pub async fn card_action(
    app: &TestApp,
    token: &str,
    card: u32,
    action: &str,
    body: Value,
) -> reqwest::Response {
    app.post(&format!("/api/v1/cards/{card}/{action}"), Some(token), body)
        .await
}

/// The desk takes a card back: `body` names it by `credential` or `card_id`.
pub async fn give_back(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.post("/api/v1/cards/return", Some(token), body).await
}

/// `GET /api/v1/renovations/{id}`: everything about a renovation.
pub async fn detail(app: &TestApp, token: &str, id: i64) -> Value {
    app.get_json(&format!("/api/v1/renovations/{id}"), Some(token))
        .await
}

/// The code printed on card `card` of renovation `id` (编号 No.).
pub async fn short_id(app: &TestApp, token: &str, id: i64, card: u32) -> String {
    detail(app, token, id).await["cards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["card_id"] == card)
        .unwrap()["short_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `POST /api/v1/renovations/{id}/refund` as `token`.
async fn refund(app: &TestApp, token: &str, id: i64) -> reqwest::Response {
    renovation_action(app, token, id, "refund", json!({})).await
}

/// Every gate change so far.
pub async fn gate_changes(app: &TestApp) -> Vec<Change> {
    app.db(|c| gatehouse_server::changes::since(c, 0).map_err(gatehouse_server::db::DbError::from))
        .await
}

/// Asserts `claims` open the entrance, the floor and `lift`, and nothing else.
fn assert_zone_classes(claims: &Claims, lift: ZoneClass) {
    let classes: Vec<ZoneClass> = claims.scope.classes.iter().collect();
    assert_eq!(classes, [ZoneClass::Entrance, ZoneClass::Floor, lift]);
}

fn ring(app: &TestApp) -> KeyRing {
    KeyRing::from_infos(&app.published_keys()).unwrap()
}

#[tokio::test]
async fn a_registration_longer_than_three_months_is_refused_with_the_latest_end() {
    let (app, _, desk, unit) = desk_with_unit().await;
    let start: NaiveDate = "2026-12-01".parse().unwrap();
    let r = register(&app, &desk, unit, start, "2027-03-02").await;
    let v = assert_error(r, 422, "period_too_long").await;
    assert!(v["message"].as_str().unwrap().contains("2027-03-01"), "{v}");
    let r = register(&app, &desk, unit, start, "2027-03-01").await;
    assert_eq!(r.status(), 201, "exactly three calendar months is allowed");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "active");
    assert_eq!(v["code"].as_str().unwrap().len(), 6);
    assert_eq!(v["documents"]["business_licence"], false);
    let r = register(&app, &desk, 999, start, start).await;
    assert_eq!(error_code(r).await, "unknown_unit");
}

#[tokio::test]
async fn an_extension_moves_every_active_card_to_the_new_date_without_reprint() {
    let (app, _, desk, id) = desk_with_renovation().await;
    let (a, text_a) = worker_card(&app, &desk, id, "110105194912310021").await;
    let (b, _) = worker_card(&app, &desk, id, "110105194912310039").await;
    // A returned card is not extended.
    let r = give_back(&app, &desk, json!({"credential": text_a})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["card_id"], a);

    let end = today() + Months::new(2);
    let extend = |new_end: NaiveDate| {
        renovation_action(
            &app,
            &desk,
            id,
            "extensions",
            json!({"new_end_date": new_end}),
        )
    };
    let r = extend(end + Months::new(3) + chrono::Days::new(1)).await;
    assert_eq!(r.status(), 422);
    assert_eq!(error_code(r).await, "extension_too_long");
    let r = extend(end).await;
    assert_eq!(error_code(r).await, "extension_not_later");

    let new_end = end + Months::new(3);
    let r = extend(new_end).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["cards_extended"], json!([b]));
    assert_eq!(v["renovation"]["end_date"], new_end.to_string());

    // The gates learn the new end for card b: the end of the new last day, local time.
    let expected = end_of_local_day(new_end);
    let extended: Vec<_> = gate_changes(&app)
        .await
        .into_iter()
        .filter_map(|c| match c.event {
            ChangeEvent::Extended { card_id, not_after } => {
                Some((card_id.0, not_after.to_datetime()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(extended, vec![(b, expected)]);
    let detail = detail(&app, &desk, id).await;
    assert_eq!(detail["extensions"][0]["approved_by"], "desk:desk1");
    assert_eq!(detail["extensions"][0]["new_end"], new_end.to_string());
    let card_b = detail["cards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["card_id"] == b)
        .unwrap();
    assert_eq!(card_b["not_after"], json!(expected));
    assert_ne!(
        card_b["printed_not_after"], card_b["not_after"],
        "the paper card keeps its printed end"
    );
}

#[tokio::test]
async fn worker_cards_are_signed_for_the_unit_and_hours_and_ids_are_never_echoed() {
    let (app, admin, desk, id) = desk_with_renovation().await;
    let r = add_worker(&app, &desk, id, "11010519491231002X").await;
    let text = r.text().await.unwrap();
    assert!(
        !text.contains("11010519491231002X") && !text.contains("110105"),
        "{text}"
    );
    let w: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(w["id_last4"], "002X");
    assert_eq!(w["name_masked"], "张*明");
    assert_eq!(w["phone_masked"], "139****5678");
    let (card_id, credential) = card(&app, &desk, w["id"].as_i64().unwrap()).await;
    let claims = ring(&app).verify(&credential).unwrap().claims;
    assert_eq!(claims.card_id.0, card_id);
    assert_eq!(claims.kind, Kind::Worker);
    assert_eq!(claims.schedule.map(|s| s.get()), Some(1));
    assert_eq!((claims.scope.floor_lo, claims.scope.floor_hi), (12, 12));
    assert_zone_classes(&claims, ZoneClass::ServiceElevator);
    // A second card while the first is active is refused: reprint instead.
    let r = issue_card(&app, &desk, w["id"].as_i64().unwrap()).await;
    assert_eq!(error_code(r).await, "card_active");
    let audit = app
        .get("/api/v1/audit?limit=1000", Some(&admin))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !audit.contains("11010519491231002X") && !audit.contains("张三明"),
        "no personal data in the audit log"
    );
}

#[tokio::test]
async fn reprint_return_lost_and_revoke_each_reach_the_gates_with_their_reason() {
    let (app, _, desk, id) = desk_with_renovation().await;
    let [(first, first_text), (lost, _), (revoked, _)] = three_cards(&app, &desk, id).await;

    let r = card_action(&app, &desk, first, "reprint", json!({})).await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    let second = v["card"]["card_id"].as_u64().unwrap() as u32;
    let second_text = v["credential"].as_str().unwrap().to_owned();
    assert_ne!(second, first);

    // The old paper is void at the gates, but the desk may still take it back.
    let r = give_back(&app, &desk, json!({"credential": first_text})).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["state"].as_str(), v["was"].as_str()),
        (Some("returned"), Some("reissued")),
        "{v}"
    );
    let r = give_back(
        &app,
        &desk,
        json!({"credential": format!("{second_text}\r\n")}),
    )
    .await;
    assert_eq!(r.status(), 200, "a scanner's line ending is ignored");
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "returned");
    let r = give_back(&app, &desk, json!({"credential": second_text})).await;
    let v = assert_error(r, 409, "already_returned").await;
    let message = v["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("card {second}")) && message.contains("already returned"),
        "{message}"
    );
    let r = give_back(&app, &desk, json!({"credential": "NOT A CARD"})).await;
    assert_eq!(r.status(), 422);
    assert_eq!(error_code(r).await, "unreadable_card");

    let r = card_action(&app, &desk, lost, "lost", json!({"fee_cents": 5000})).await;
    assert_eq!(r.status(), 200);
    let r = card_action(&app, &desk, revoked, "revoke", json!({})).await;
    assert_eq!(r.status(), 200);

    let revocations: Vec<(u32, RevocationReason)> = gate_changes(&app)
        .await
        .into_iter()
        .filter_map(|c| match c.event {
            ChangeEvent::Revoked {
                card_id, reason, ..
            } => Some((card_id.0, reason)),
            _ => None,
        })
        .collect();
    assert_eq!(
        revocations,
        vec![
            (first, RevocationReason::Reissued),
            (second, RevocationReason::Returned),
            (lost, RevocationReason::Lost),
            (revoked, RevocationReason::Revoked),
        ]
    );
    let detail = detail(&app, &desk, id).await;
    let fee = &detail["ledger"]["lines"][0];
    assert_eq!(
        (
            fee["kind"].as_str(),
            fee["amount_cents"].as_i64(),
            fee["card_id"].as_u64()
        ),
        (Some("deduction"), Some(5000), Some(lost as u64))
    );
    assert_eq!(fee["by"], "desk:desk1");
    // Outstanding: only the revoked card (it never came back).
    let out = app.get_json("/api/v1/cards/outstanding", Some(&desk)).await;
    let ids: Vec<u64> = out
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["card"]["card_id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![revoked as u64]);
    assert_eq!(out[0]["holder_masked"], "张*明");
}

async fn unmet(app: &TestApp, token: &str, id: i64) -> Vec<String> {
    let v = refund_check(app, token, id).await;
    let rules = v.as_array().unwrap();
    assert_eq!(rules.len(), 5, "every rule of the brief is reported");
    for r in rules {
        assert!(!r["reason"].as_str().unwrap().is_empty(), "{r}");
    }
    rules
        .iter()
        .filter(|r| r["met"] == false)
        .map(|r| r["rule"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_refund_is_refused_until_every_rule_holds_and_pays_deposit_minus_deductions() {
    let (app, admin, desk, unit) = desk_with_unit().await;
    // Started five months ago and extended, so occupancy three months ago is possible.
    let t = today();
    let start = t - Months::new(5);
    let r = register(&app, &desk, unit, start, start + Months::new(3)).await;
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let body = json!({"new_end_date": t + Months::new(1)});
    let r = renovation_action(&app, &desk, id, "extensions", body).await;
    assert_eq!(r.status(), 200);
    let (kept, kept_text) = worker_card(&app, &desk, id, "110105194912310021").await;
    let (lost, _) = worker_card(&app, &desk, id, "110105194912310039").await;
    let deposit = json!({"kind": "deposit", "amount_cents": 500000});
    let r = renovation_action(&app, &desk, id, "ledger", deposit).await;
    assert_eq!(error_code(r).await, "receipt_required");
    for line in [
        json!({"kind": "deposit", "amount_cents": 500000, "receipt_no": "SJ-2026-001"}),
        json!({"kind": "rubbish_fee", "amount_cents": 80000, "receipt_no": "SJ-2026-002"}),
        json!({"kind": "deduction", "amount_cents": 30000, "note": "rubbish left in the corridor"}),
    ] {
        let r = renovation_action(&app, &desk, id, "ledger", line).await;
        assert_eq!(r.status(), 201);
    }

    let all = [
        "inspection_passed",
        "occupancy_and_downstairs",
        "cards_accounted_for",
        "documents_complete",
        "certificate_and_receipt",
    ];
    assert_eq!(unmet(&app, &desk, id).await, all);
    let r = refund(&app, &desk, id).await;
    let v = assert_error(r, 409, "refund_rules_unmet").await;
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("card(s) not returned"),
        "{v}"
    );

    // 3: cards back or lost.
    let r = give_back(&app, &desk, json!({"credential": kept_text})).await;
    assert_eq!(r.status(), 200, "card {kept}");
    assert_eq!(unmet(&app, &desk, id).await, all, "one card is still out");
    let r = card_action(&app, &desk, lost, "lost", json!({"fee_cents": 5000})).await;
    assert_eq!(r.status(), 200);
    assert!(
        !unmet(&app, &desk, id)
            .await
            .contains(&"cards_accounted_for".to_owned())
    );

    // 1 and 2: inspection, then occupancy less than three months ago, then more.
    let inspected = t - Months::new(4);
    let body = json!({"inspection_passed_on": inspected, "occupied_on": t - Months::new(2), "downstairs_signed_off": true});
    assert_eq!(progress(&app, &desk, id, body).await.status(), 200);
    let v = refund_check(&app, &desk, id).await;
    assert_eq!(v[0]["met"], true);
    assert_eq!(v[1]["met"], false);
    assert!(
        v[1]["reason"]
            .as_str()
            .unwrap()
            .contains("three months pass on"),
        "{}",
        v[1]
    );
    // Correcting a recorded date is a manager's, with a reason.
    let body = json!({"occupied_on": t - Months::new(3)});
    let r = progress(&app, &desk, id, body).await;
    assert_eq!(error_code(r).await, "correction_needs_manager");
    let body =
        json!({"occupied_on": t - Months::new(3), "reason": "moved in a month earlier than typed"});
    assert_eq!(progress(&app, &admin, id, body).await.status(), 200);
    assert_eq!(
        unmet(&app, &desk, id).await,
        ["documents_complete", "certificate_and_receipt"]
    );

    // 4: documents; 5: papers presented.
    let docs: serde_json::Map<String, Value> = gatehouse_test_support::RENOVATION_DOCUMENTS
        .into_iter()
        .map(|d| (d.to_owned(), json!(true)))
        .collect();
    let r = app
        .put(
            &format!("/api/v1/renovations/{id}/documents"),
            Some(&desk),
            Value::Object(docs),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(unmet(&app, &desk, id).await, ["certificate_and_receipt"]);
    let body = json!({"certificate_presented": true});
    progress(&app, &desk, id, body).await;
    let r = refund(&app, &desk, id).await;
    let v: Value = r.json().await.unwrap();
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("deposit receipt has not been presented"),
        "{v}"
    );
    let body = json!({"receipt_presented": true});
    progress(&app, &desk, id, body).await;
    assert!(unmet(&app, &desk, id).await.is_empty());

    // The clerk's refund waits for a manager (the default approval setting).
    let r = refund(&app, &desk, id).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "awaiting_approval", "{v}");
    let r = refund(&app, &desk, id).await;
    assert_eq!(error_code(r).await, "awaiting_approval");
    let r = refund(&app, &admin, id).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "paid");
    assert_eq!(v["deposit_cents"], 500000);
    assert_eq!(
        v["deductions_cents"], 35000,
        "damage 300 yuan + lost card 50 yuan"
    );
    assert_eq!(v["amount_cents"], 465000);
    assert_eq!(v["by"], "desk:desk1");
    assert_eq!(v["approved_by"], "manager:admin");
    let kinds: Vec<&str> = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["deposit", "rubbish_fee", "deduction", "deduction", "refund"],
        "the slip lists every line"
    );
    let r = refund(&app, &desk, id).await;
    assert_eq!(error_code(r).await, "already_refunded");
    let log = app.get_json("/api/v1/audit?limit=5", Some(&admin)).await;
    let refund = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "renovation.refund")
        .unwrap();
    assert_eq!(refund["actor"], "manager:admin");
    assert!(
        refund["details"].to_string().contains("desk:desk1"),
        "both names: {refund}"
    );
    let detail = detail(&app, &desk, id).await;
    assert_eq!(detail["renovation"]["status"], "refunded");
}

#[tokio::test]
async fn waterproofing_makes_the_owners_commitment_required() {
    let (app, _, desk, unit) = desk_with_unit().await;
    let t = today();
    let r = app
        .post(
            "/api/v1/renovations",
            Some(&desk),
            json!({"unit_id": unit, "owner_name": "王", "contractor": "Acme", "supervisor_name": "李四",
                   "supervisor_phone": "13812345678", "start_date": t, "end_date": t, "waterproofing": true}),
        )
        .await;
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let detail = detail(&app, &desk, id).await;
    assert!(
        detail["missing_documents"]
            .as_array()
            .unwrap()
            .contains(&json!("waterproofing_commitment"))
    );
    let docs = &detail["refund_check"][3];
    assert!(
        docs["reason"]
            .as_str()
            .unwrap()
            .contains("Owner's waterproofing commitment"),
        "{docs}"
    );
}

#[tokio::test]
async fn visitors_register_sign_out_and_the_deny_list_and_invites_work_at_the_kiosk() {
    let (app, admin, desk, unit) = desk_with_unit().await;
    let (_, kiosk) = crate::platform::enrol_device(&app, &admin, "kiosk").await;

    let units = app.get_json("/api/v1/kiosk/units", Some(&kiosk)).await;
    assert_eq!(units[0]["label"], "2-1203");
    assert_eq!(units[0]["floor"], 12);

    let body = json!({"name": "赵六一", "unit_id": unit, "host_name": "王小明", "purpose": "delivery", "party_size": 2});
    let r = kiosk_visitor(&app, &kiosk, body.clone()).await;
    assert_eq!(r.status(), 201);
    let pass: Value = r.json().await.unwrap();
    assert_eq!(pass["kind"], "visitor");
    assert_eq!(pass["holder_masked"], "赵*一");
    assert_eq!(pass["unit_label"], "2-1203");
    let claims = ring(&app)
        .verify(pass["credential"].as_str().unwrap())
        .unwrap()
        .claims;
    assert_eq!(claims.schedule, None);
    assert_zone_classes(&claims, ZoneClass::PassengerElevator);
    // Valid until the end of the local day.
    let midnight = end_of_local_day(today());
    assert_eq!(claims.not_after.to_datetime(), midnight);

    let on_site = app.get_json("/api/v1/visitors/on-site", Some(&desk)).await;
    assert_eq!(on_site.as_array().unwrap().len(), 1);
    assert_eq!(on_site[0]["name_masked"], "赵*一");
    assert!(!on_site.to_string().contains("赵六一"));

    let r = app
        .post(
            "/api/v1/kiosk/sign-out",
            Some(&kiosk),
            json!({"pass": pass["short_id"].as_str().unwrap().to_lowercase()}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["holder_masked"], "赵*一");
    let on_site = app.get_json("/api/v1/visitors/on-site", Some(&desk)).await;
    assert!(on_site.as_array().unwrap().is_empty());
    let signed_out = gate_changes(&app).await.into_iter().any(|c| {
        matches!(c.event, ChangeEvent::Revoked { card_id, reason: RevocationReason::SignedOut, .. } if card_id.0 == pass["card_id"].as_u64().unwrap() as u32)
    });
    assert!(signed_out);
    let r = app
        .post(
            "/api/v1/kiosk/sign-out",
            Some(&kiosk),
            json!({"pass": pass["credential"]}),
        )
        .await;
    assert_eq!(error_code(r).await, "card_not_active");

    // Deny list: the kiosk answers neutrally.
    let r = deny(
        &app,
        &desk,
        json!({"name": "赵 六一", "reason": "trespass"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let r = kiosk_visitor(&app, &kiosk, body.clone()).await;
    let v = assert_error(r, 403, "see_front_desk").await;
    assert!(!v["message"].as_str().unwrap().contains("deny"));
    // Staff see the list masked; only a manager removes an entry, and then the person may
    // register again.
    let list: Vec<Value> = app.get_ok("/api/v1/deny-list", Some(&desk)).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name_masked"], "赵**一");
    assert_eq!(list[0]["reason"], "trespass");
    let entry = list[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/deny-list/{entry}");
    let r = app.delete(&path, Some(&desk)).await;
    assert_eq!(r.status(), 403, "the desk cannot lift a ban");
    let admin_token = app.admin().await;
    let r = app.delete(&path, Some(&admin_token)).await;
    assert_eq!(r.status(), 204);
    let r = app.delete(&path, Some(&admin_token)).await;
    assert_eq!(r.status(), 404);
    let r = kiosk_visitor(&app, &kiosk, body.clone()).await;
    assert_eq!(r.status(), 201, "registers once off the list");

    // Invites: created by the desk, redeemed once at the kiosk.
    let code = invite_code(&app, &desk, "钱七", unit, 3).await;
    let r = redeem(&app, &kiosk, &format!(" {} ", code.to_lowercase())).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["holder_masked"], "钱*");
    let r = redeem(&app, &kiosk, &code).await;
    assert_eq!(error_code(r).await, "already_redeemed");
    let r = redeem(&app, &kiosk, "NOPE").await;
    assert_eq!(r.status(), 404);

    // Bad input is named.
    let r = kiosk_visitor(
        &app,
        &kiosk,
        json!({"name": "x", "unit_id": unit, "purpose": "p", "party_size": 0}),
    )
    .await;
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.unwrap();
    assert!(v["message"].as_str().unwrap().contains("party_size"), "{v}");
}

/// A fresh server, a renovation with worker 张三明 (ID ending 002X), an enrolled kiosk and the
/// worker's collection code: (app, desk token, renovation id, worker id, kiosk key, code).
async fn worker_to_collect() -> (TestApp, String, i64, i64, String, String) {
    let (app, admin, desk, id) = desk_with_renovation().await;
    let w = worker(&app, &desk, id, "11010519491231002X").await;
    let (_, kiosk) = crate::platform::enrol_device(&app, &admin, "kiosk").await;
    let collection = collection_code(&app, &desk, w).await;
    (app, desk, id, w, kiosk, collection)
}

#[tokio::test]
async fn a_worker_collects_a_card_at_the_kiosk_once() {
    let (app, desk, id, _, kiosk, collection) = worker_to_collect().await;
    let code = renovation_code(&app, &desk, id).await;
    let r = collect(&app, &kiosk, &code, "9999", &collection).await;
    assert_eq!(r.status(), 404);
    let r = collect(&app, &kiosk, &code.to_lowercase(), "002x", &collection).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["kind"], "worker");
    assert_eq!(v["holder_masked"], "张*明");
    assert!(ring(&app).verify(v["credential"].as_str().unwrap()).is_ok());
    let r = collect(&app, &kiosk, &code, "002X", &collection).await;
    assert_eq!(error_code(r).await, "already_collected");
}

#[tokio::test]
async fn a_worker_whose_card_the_desk_issued_is_told_so_at_the_kiosk_with_the_time() {
    let (app, desk, id, w, kiosk, collection) = worker_to_collect().await;
    let r = issue_card(&app, &desk, w).await;
    assert_eq!(r.status(), 201);
    let issued: Value = r.json().await.unwrap();
    let code = renovation_code(&app, &desk, id).await;
    let r = collect(&app, &kiosk, &code, "002X", &collection).await;
    let v = assert_error(r, 409, "issued_at_desk").await;
    let said: chrono::DateTime<chrono::Utc> =
        v["details"]["issued_at"].as_str().unwrap().parse().unwrap();
    let desk_time: chrono::DateTime<chrono::Utc> = issued["card"]["issued_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(said, desk_time, "{v}");
}

#[tokio::test]
async fn retention_purges_old_personal_data_keeps_counts_and_is_for_managers() {
    let (app, admin, desk, unit) = desk_with_unit().await;
    for name in ["old visitor", "new visitor"] {
        let r = app.post("/api/v1/visitors", Some(&desk), json!({"name": name, "unit_id": unit, "purpose": "visit", "party_size": 1, "phone": "13812345678"})).await;
        assert_eq!(r.status(), 201);
    }
    app.db(|c| {
        c.execute(
            "UPDATE visitors SET registered_at = '2020-01-01T00:00:00.000000Z' WHERE id = 1",
            [],
        )
        .map_err(gatehouse_server::db::DbError::from)
    })
    .await;
    let r = app
        .post("/api/v1/retention/run", Some(&desk), json!({}))
        .await;
    assert_eq!(r.status(), 403);
    let r = app
        .post("/api/v1/retention/run", Some(&admin), json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (
            v["visitors"].as_u64(),
            v["total_visitors"].as_u64(),
            v["retention_days"].as_i64()
        ),
        (Some(1), Some(2), Some(180))
    );
    let names: Vec<(Option<String>, Option<String>)> = app
        .db(|c| {
            let mut s = c.prepare("SELECT name, phone FROM visitors ORDER BY id")?;
            let rows = s
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<Vec<_>, _>>();
            rows.map_err(gatehouse_server::db::DbError::from)
        })
        .await;
    assert_eq!(
        names,
        vec![
            (None, None),
            (Some("new visitor".into()), Some("13812345678".into()))
        ]
    );
    // A second run finds nothing new.
    let v: Value = app
        .post("/api/v1/retention/run", Some(&admin), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["visitors"], 0);
}

//! Keys and radios: register with a QR label, lend, take back by the label's scan with its
//! condition, lose, hand unit keys over with their count, one overdue alarm per loan, the shift
//! handover confirmed by the incoming clerk, and the holder's name purged with retention.

use crate::app::{TestApp, error_code, spawn_staffed};
use crate::desk::{desk_with_unit, seed_unit};
use chrono::{Duration, Utc};
use serde_json::{Value, json};

async fn ok(r: reqwest::Response) -> Value {
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert!(status.is_success(), "{status}: {v}");
    v
}

/// How many times the audit log says item `id` was raised as overdue.
pub(crate) async fn overdue_raised(
    app: &TestApp,
    admin: &str,
    id: impl std::fmt::Display,
) -> usize {
    let log: Vec<Value> = app.get_ok("/api/v1/audit?limit=100", Some(admin)).await;
    let subject = format!("item:{id}");
    log.iter()
        .filter(|e| e["action"] == "custody.overdue" && e["subject"] == subject)
        .count()
}

/// Asks for the overdue items until the answer holds one (a loan's due time has passed), and
/// returns that first answer.
pub(crate) async fn until_overdue(app: &TestApp, token: &str) -> Value {
    let started = std::time::Instant::now();
    loop {
        let alarms = ok(app
            .get("/api/v1/custody-items/overdue-alarms", Some(token))
            .await)
        .await;
        if !alarms.as_array().unwrap().is_empty() {
            return alarms;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the loan never became overdue"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn register(app: &TestApp, token: &str, body: Value) -> Value {
    ok(app.post("/api/v1/custody-items", Some(token), body).await).await
}

/// `incoming` takes over the shift from `outgoing`: `POST /api/v1/handovers`.
async fn hand_over(app: &TestApp, incoming: &str, outgoing: &str) -> reqwest::Response {
    let body = json!({"outgoing": outgoing});
    app.post("/api/v1/handovers", Some(incoming), body).await
}

#[tokio::test]
async fn a_radio_is_lent_taken_back_by_its_label_and_its_overdue_alarm_is_raised_once() {
    let (app, admin, desk) = spawn_staffed().await;
    let radio = register(
        &app,
        &desk,
        json!({"kind": "radio", "label": "对讲机 3 radio 3"}),
    )
    .await;
    let id = radio["id"].as_i64().unwrap();
    let code = radio["code"].as_str().unwrap().to_owned();
    assert!(code.starts_with("GH-") && code.len() == 9, "{code}");
    assert_eq!(radio["state"], "in");

    // The label's QR code carries the code the desk scanner reads.
    let png = app.get(&format!("/desk/keys/qr/{id}"), Some(&desk)).await;
    assert_eq!(png.status(), 200);
    let img = image::load_from_memory(&png.bytes().await.unwrap())
        .unwrap()
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let (_, text) = prepared.detect_grids()[0].decode().unwrap();
    assert_eq!(text, code);

    // Lent until a minute ago: overdue, raised once.
    let lend = |until: chrono::DateTime<Utc>| {
        json!({"holder_name": "李四", "holder_phone": "13812345678", "holder_kind": "contractor",
               "expected_back": until})
    };
    let r = app
        .post(
            &format!("/api/v1/custody-items/{id}/check-out"),
            Some(&desk),
            lend(Utc::now() - Duration::minutes(1)),
        )
        .await;
    assert_eq!(error_code(r).await, "invalid_return_time");
    let out = ok(app
        .post(
            &format!("/api/v1/custody-items/{id}/check-out"),
            Some(&desk),
            lend(Utc::now() + Duration::seconds(1)),
        )
        .await)
    .await;
    assert_eq!(out["state"], "out");
    assert_eq!(out["holder_masked"], "李*");
    let r = app
        .post(
            &format!("/api/v1/custody-items/{id}/check-out"),
            Some(&desk),
            lend(Utc::now() + Duration::hours(1)),
        )
        .await;
    assert_eq!(error_code(r).await, "item_state", "lent twice");
    // Asked until the second has passed: the first answer that holds the alarm must hold it once.
    let alarms = until_overdue(&app, &desk).await;
    assert_eq!(alarms.as_array().unwrap().len(), 1);
    assert_eq!(alarms[0]["code"], code.as_str());
    let again = ok(app
        .get("/api/v1/custody-items/overdue-alarms", Some(&desk))
        .await)
    .await;
    assert_eq!(
        again.as_array().unwrap().len(),
        1,
        "still shown until acknowledged"
    );
    let seen = format!("/api/v1/custody-items/{id}/overdue/acknowledge");
    let r = app.post(&seen, Some(&desk), json!({})).await;
    assert_eq!(r.status(), 204);
    let after = ok(app
        .get("/api/v1/custody-items/overdue-alarms", Some(&desk))
        .await)
    .await;
    assert!(after.as_array().unwrap().is_empty());
    let raised = overdue_raised(&app, &admin, id).await;
    assert_eq!(raised, 1, "the alarm is raised once");

    // The shift hands over what is out; the incoming clerk confirms, not the outgoing one.
    let sheet = app.get_text("/desk/handover", Some(&desk)).await;
    assert!(
        sheet.contains(&code) && sheet.contains("李*"),
        "the handover sheet lists the radio"
    );
    let r = hand_over(&app, &desk, "desk1").await;
    assert_eq!(error_code(r).await, "same_clerk");
    let h = ok(hand_over(&app, &admin, "desk1").await).await;
    assert_eq!(h["items_out"], 1);
    assert_eq!(h["overdue"], 1);

    // Back by a scan of its label (typed in lower case too), damaged with a note.
    let r = app
        .post(
            "/api/v1/custody-items/check-in",
            Some(&desk),
            json!({"code": code.to_lowercase(), "condition": "damaged"}),
        )
        .await;
    assert_eq!(error_code(r).await, "note_required");
    let back = ok(app
        .post(
            "/api/v1/custody-items/check-in",
            Some(&desk),
            json!({"code": code.to_lowercase(), "condition": "damaged", "note": "天线断 antenna broken", "received_by": "张三"}),
        )
        .await)
    .await;
    assert_eq!(back["state"], "in");
    assert!(back["holder_masked"].is_null());

    // Lost with a note; when it turns up it is taken back like any return.
    let lost = ok(app
        .post(
            &format!("/api/v1/custody-items/{id}/lost"),
            Some(&desk),
            json!({"note": "巡逻时丢失 lost on patrol"}),
        )
        .await)
    .await;
    assert_eq!(lost["state"], "lost");
    let found = ok(app
        .post(
            "/api/v1/custody-items/check-in",
            Some(&desk),
            json!({"code": code, "condition": "ok"}),
        )
        .await)
    .await;
    assert_eq!(found["state"], "in");

    // Retention erases the holder's name of the ended loan.
    app.db(|c| {
        c.execute("INSERT INTO settings (key, value) VALUES ('retention_days', '1') ON CONFLICT(key) DO UPDATE SET value = '1'", [])?;
        c.execute("UPDATE custody_events SET at = '2020-01-01T00:00:00.000000Z'", [])
            .map_err(gatehouse_server::db::DbError::from)
    })
        .await;
    let purge = ok(app
        .post("/api/v1/retention/run", Some(&admin), json!({}))
        .await)
    .await;
    assert!(purge["custody_loans"].as_u64().unwrap() >= 1, "{purge}");
    let names: i64 = app
        .db(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM custody_events WHERE holder_name IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .map_err(gatehouse_server::db::DbError::from)
        })
        .await;
    assert_eq!(names, 0);
}

#[tokio::test]
async fn unit_keys_are_handed_to_the_owner_with_their_count_once() {
    let (app, _, desk, unit) = desk_with_unit().await;
    let r = app
        .post(
            "/api/v1/custody-items",
            Some(&desk),
            json!({"kind": "unit_key", "label": "房屋钥匙 unit keys"}),
        )
        .await;
    assert_eq!(error_code(r).await, "unit_required");
    let keys = register(
        &app,
        &desk,
        json!({"kind": "unit_key", "label": "房屋钥匙 unit keys", "unit_id": unit, "key_count": 3}),
    )
    .await;
    let id = keys["id"].as_i64().unwrap();
    assert_eq!(keys["unit_label"], "2-1203");
    let url = format!("/api/v1/custody-items/{id}/hand-over");
    let hand_over = |key_count: u32| {
        let body = json!({"owner_name": "张三明", "key_count": key_count});
        app.post(&url, Some(&desk), body)
    };
    let r = hand_over(2).await;
    assert_eq!(error_code(r).await, "key_count_differs");
    let given = ok(hand_over(3).await).await;
    assert_eq!(given["state"], "handed_over");
    assert_eq!(given["holder_masked"], "张*明");
    let r = hand_over(3).await;
    assert_eq!(error_code(r).await, "item_state", "handed over once");
    let r = app
        .post(
            &format!("/api/v1/custody-items/{id}/check-out"),
            Some(&desk),
            json!({"holder_name": "x", "holder_kind": "staff", "expected_back": Utc::now() + Duration::hours(1)}),
        )
        .await;
    assert_eq!(r.status(), 409);
}

/// The HTML of the table with `id` in `page`.
fn table<'a>(page: &'a str, id: &str) -> &'a str {
    page.split(&format!("id=\"{id}\""))
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap_or_else(|| panic!("no table {id} in {page}"))
}

#[tokio::test]
async fn the_handover_lists_worker_cards_out_and_visitors_on_site_and_names_them_in_the_audit() {
    let (app, admin, desk) = spawn_staffed().await;
    let r = crate::desk::renovation(&app, &desk).await;
    let (card_id, _) = crate::desk::worker_card(&app, &desk, r, "110101199003074514").await;
    let unit = seed_unit(&app).await;
    let pass = ok(app
        .post(
            "/api/v1/visitors",
            Some(&desk),
            json!({"name": "赵小六", "unit_id": unit, "purpose": "visit", "party_size": 2}),
        )
        .await)
    .await;
    let pass_id = pass["issued"]["card"]["card_id"].as_u64().unwrap();

    let sheet = app.get_text("/desk/handover", Some(&desk)).await;
    let cards = table(&sheet, "cards-out");
    assert!(
        cards.contains(&format!("data-card=\"{card_id}\"")) && cards.contains("张*明"),
        "the worker's card is on the sheet: {cards}"
    );
    let visitors = table(&sheet, "visitors-on-site");
    assert!(
        visitors.contains(&format!("data-card=\"{pass_id}\"")) && visitors.contains("赵*六"),
        "the visitor is on the sheet: {visitors}"
    );
    // One language: the Chinese page carries no English headings.
    assert!(sheet.contains("未还工卡") && !sheet.contains("Worker cards out"));

    let h = ok(hand_over(&app, &admin, "desk1").await).await;
    let log = ok(app.get("/api/v1/audit?limit=50", Some(&admin)).await).await;
    let entry = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["subject"] == format!("handover:{}", h["id"]))
        .unwrap_or_else(|| panic!("the handover is audited: {log}"));
    let detail = entry["details"].to_string();
    assert!(
        detail.contains(&card_id.to_string()) && detail.contains(&pass_id.to_string()),
        "{entry}"
    );
}

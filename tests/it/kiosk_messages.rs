//! What the kiosk tells a person, from what the real server answers: a walk-in under host
//! approval waits for the host, and a worker whose card the desk handed out hears when.

use chrono::{DateTime, Days, Utc};
use gatehouse_e2e::estate;
use gatehouse_e2e::kiosk;
use gatehouse_e2e::server::{http_client, send};
use gatehouse_e2e::system::System;
use serde_json::json;

#[test]
fn the_kiosk_says_pending_for_host_approval_and_issued_at_desk_with_the_desks_time() {
    let system = System::launch(&[], true).unwrap();
    let admin = system.api.clone();
    let kiosk_url = system.kiosk_url().unwrap().to_owned();
    let units = send(
        "GET /api/units",
        http_client().get(format!("{kiosk_url}/api/units")),
    )
    .unwrap()
    .1;
    let unit_id = estate::unit_id(&units, &estate::visited_unit(), "unit_id").unwrap();

    // The estate makes walk-ins wait for the host.
    admin
        .put(
            "/api/v1/settings/walk-in-approval",
            &json!({"walk_in_approval": "host"}),
        )
        .unwrap();
    let (status, body) = send(
        "POST /api/visitors",
        http_client()
            .post(format!("{kiosk_url}/api/visitors"))
            .json(&json!({"name": "孙悟空", "unit_id": unit_id, "purpose": "探亲访友", "party_size": 1})),
    )
    .unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("host_approval_pending")),
        "{body}"
    );
    let pending = admin.get("/api/v1/visitors/pending").unwrap();
    assert_eq!(pending.as_array().unwrap().len(), 1, "{pending}");

    // A worker whose card the desk printed comes to the kiosk with their collection code.
    let today = Utc::now().date_naive();
    let end = today.checked_add_days(Days::new(30)).unwrap();
    let renovation = admin.register_renovation(unit_id, today, end).unwrap();
    let id = renovation["id"].as_i64().unwrap();
    let code = renovation["code"].as_str().unwrap().to_owned();
    let worker = admin
        .post(
            &format!("/api/v1/renovations/{id}/workers"),
            &json!({"name": "张三", "phone": "13912345678", "id_number": "110105194912310021"}),
        )
        .unwrap();
    let collection = worker["collection_code"].as_str().unwrap().to_owned();
    let issued = admin
        .post(
            &format!("/api/v1/workers/{}/card", worker["id"]),
            &json!({}),
        )
        .unwrap();
    let (status, body) = send(
        "POST /api/worker-cards",
        http_client()
            .post(format!("{kiosk_url}/api/worker-cards"))
            .json(&json!({"renovation_code": code, "id_last4": "0021", "collection_code": collection})),
    )
    .unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("issued_at_desk")),
        "{body}"
    );
    let said: DateTime<Utc> = body["issued_at"].as_str().unwrap().parse().unwrap();
    let desk: DateTime<Utc> = issued["card"]["issued_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(said, desk);
    assert!(
        kiosk::printed(&system.kiosk_files).is_empty(),
        "the kiosk printed nothing"
    );
}

//! Bad input the server refuses with a clear JSON error: over-long request lines and heads
//! answered before the router runs, dates outside a sane window, references to nothing.

use crate::app::{assert_error, spawn_app, spawn_managed, spawn_staffed};
use crate::monitor::post_journal;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends `request` on a fresh TCP connection and reads the answer until the server closes it:
/// (status, content-type, body).
async fn raw(addr: std::net::SocketAddr, request: &[u8]) -> (u16, String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    tokio::time::timeout(std::time::Duration::from_secs(30), read)
        .await
        .expect("the server closes the connection after an early error")
        .unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").expect("a complete head");
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let content_type = headers.into_iter().find(|(k, _)| k == "content-type");
    (status, content_type.unwrap_or_default().1, body.to_owned())
}

#[tokio::test]
async fn a_100_kb_query_string_and_oversized_heads_get_json_error_bodies() {
    let app = spawn_app().await;
    let long = format!(
        "GET /api/v1/cards?q={} HTTP/1.1\r\nHost: gatehouse\r\n\r\n",
        "a".repeat(100_000)
    );
    let mut many = String::from("GET /healthz HTTP/1.1\r\nHost: gatehouse\r\n");
    for i in 0..200 {
        many.push_str(&format!("X-Filler-{i}: {i}\r\n"));
    }
    many.push_str("\r\n");
    for (request, status, code) in [
        (long.as_bytes(), 414, "uri_too_long"),
        (many.as_bytes(), 431, "headers_too_large"),
        (
            &b"GET /healthz HTTP/1.1\r\nHost gatehouse\r\n\r\n"[..],
            400,
            "bad_request",
        ),
    ] {
        let (got, content_type, body) = raw(app.addr, request).await;
        assert_eq!(got, status, "{body}");
        assert_eq!(content_type, "application/json");
        let v: Value = serde_json::from_str(&body).expect("a JSON body");
        assert_eq!(v["error"], code, "{v}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    }
    // The server goes on answering.
    assert_eq!(app.get("/healthz", None).await.status(), 200);
}

/// Asserts a 422 `date_out_of_range` naming `field` and `value`, with the window; the body.
async fn out_of_range(r: reqwest::Response, field: &str, value: &str) -> Value {
    let v = assert_error(r, 422, "date_out_of_range").await;
    assert_eq!(v["details"]["field"], field, "{v}");
    assert!(
        v["details"]["value"]
            .as_str()
            .is_some_and(|s| s.starts_with(value)),
        "{v}"
    );
    assert!(
        v["details"]["min"].is_string() && v["details"]["max"].is_string(),
        "{v}"
    );
    v
}

#[tokio::test]
async fn dates_far_off_are_refused_with_the_field_and_its_window_in_details() {
    let (app, admin, desk) = spawn_staffed().await;
    let unit = crate::desk::seed_unit(&app).await;
    let far = (chrono::Utc::now().date_naive() + chrono::Days::new(400)).to_string();

    // A renovation starting in 1900, and a blackout date in 9999.
    let r = crate::desk::register(&app, &desk, unit, "1900-01-01", "1900-03-01").await;
    out_of_range(r, "start_date", "1900-01-01").await;
    let r = app
        .post(
            "/api/v1/blackout-dates",
            Some(&admin),
            json!({"date": "9999-12-31"}),
        )
        .await;
    out_of_range(r, "date", "9999-12-31").await;

    // An invitation and a goods permit more than three months ahead.
    let r = app
        .post(
            "/api/v1/invites",
            Some(&desk),
            json!({"name": "张三", "unit_id": unit, "purpose": "dinner", "party_size": 1, "valid_on": far}),
        )
        .await;
    out_of_range(r, "valid_on", &far).await;
    let mut permit = crate::goods::new_permit(unit);
    permit["valid_from"] = json!(far);
    permit["valid_to"] = json!(far);
    let r = app.post("/api/v1/goods-permits", Some(&desk), permit).await;
    out_of_range(r, "valid_from", &far).await;

    // A gate's journal entry with a trusted clock dated years before the gate was enrolled.
    let (_, gate) = crate::platform::enrol_device(&app, &admin, "gate").await;
    let early = gatehouse_credential::api::gate::JournalEntry {
        id: uuid::Uuid::new_v4(),
        at: "2021-06-01T08:00:00Z".parse().unwrap(),
        clock_trusted: true,
        card_id: Some(gatehouse_credential::CardId(7)),
        kind: Some(gatehouse_credential::Kind::Worker),
        event: gatehouse_credential::api::gate::GateEvent::Admitted { flag: None },
        direction: None,
        area: None,
    };
    let r = post_journal(&app, &gate, json!({"entries": [early]})).await;
    let v = out_of_range(r, "at", "2021-06-01T08:00:00Z").await;
    assert_eq!(v["details"]["entry"], early.id.to_string(), "{v}");
    let events = app.get_json("/api/v1/events", Some(&admin)).await;
    assert_eq!(events, json!([]), "nothing stored");
}

#[tokio::test]
async fn a_zone_in_a_building_that_does_not_exist_is_refused_with_the_building() {
    let (app, admin) = spawn_managed().await;
    let r = app
        .post(
            "/api/v1/zones",
            Some(&admin),
            json!({"name": "nowhere", "building": 7, "class": "entrance"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["error"].as_str(), v["details"]["building"].as_u64()),
        (Some("unknown_building"), Some(7)),
        "{v}"
    );
    // Once the estate's buildings are recorded, a gate's zone must name one of them.
    app.created(
        "/api/v1/buildings",
        &admin,
        json!({"number": 2, "name": "二号楼", "floor_lo": 1, "floor_hi": 20}),
    )
    .await;
    let gate = |building: u8| json!({"kind": "gate", "name": "lobby", "zone": {"building": building, "class": "entrance"}});
    let r = app.post("/api/v1/devices", Some(&admin), gate(7)).await;
    assert_error(r, 422, "unknown_building").await;
    let r = app.post("/api/v1/devices", Some(&admin), gate(2)).await;
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn a_refused_card_names_the_card_its_state_and_when_in_details() {
    let (app, _, desk) = spawn_staffed().await;
    let reno = crate::desk::renovation(&app, &desk).await;
    let worker = crate::desk::worker(&app, &desk, reno, "110101199001011234").await;
    let (card_id, text) = crate::desk::card(&app, &desk, worker).await;
    for expected in [200, 409] {
        let r = crate::desk::give_back(&app, &desk, json!({"credential": text})).await;
        assert_eq!(r.status(), expected);
        if expected == 409 {
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["error"], "already_returned", "{v}");
            assert_eq!(v["details"]["card_id"], card_id, "{v}");
            assert_eq!(v["details"]["state"], "returned", "{v}");
            let since = v["details"]["since"].as_str().unwrap();
            chrono::DateTime::parse_from_rfc3339(since).expect("since is RFC 3339");
        }
    }
}

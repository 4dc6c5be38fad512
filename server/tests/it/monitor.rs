//! The live event monitor's stream (`GET /api/v1/monitor/events`, server-sent events): a
//! decision a gate uploads reaches the desk's open stream, in words, with the holder masked;
//! the door filter; who may subscribe; resuming after a lost connection and a server restart
//! without gaps or duplicates; the cap on open streams.

use crate::app::{ADMIN_PASSWORD, TestApp, error_code, spawn_managed, spawn_staffed, spawn_with};
use crate::browser::DESK;
use crate::platform::enrol_device;
use chrono::Utc;
use gatehouse_credential::api::gate::{AlarmKind, DenyReason, GateEvent, JournalEntry};
use gatehouse_credential::{CardId, Kind};
use gatehouse_server::Config;
use gatehouse_server::config::Secret;
use serde_json::{Value, json};
use std::time::Duration;

/// An open monitor stream, read event by event.
pub struct MonitorStream {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl MonitorStream {
    /// Opens the stream as `token`, with `query` (e.g. `?door=…`) and a `Last-Event-ID`.
    pub async fn open(
        app: &TestApp,
        token: &str,
        query: &str,
        last_event_id: Option<i64>,
    ) -> MonitorStream {
        let mut req = app
            .client
            .get(app.url(&format!("/api/v1/monitor/events{query}")))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let response = req.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        MonitorStream {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next event's id and data, waiting for it (a test failure after 10 s).
    pub async fn next(&mut self) -> (i64, Value) {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                let block = String::from_utf8(block).unwrap();
                let mut id = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = Some(v.trim().parse::<i64>().unwrap());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                // Comments (the greeting, keep-alives) carry no event.
                if let (Some(id), false) = (id, data.is_empty()) {
                    return (id, serde_json::from_str(&data).unwrap());
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.response.chunk())
                .await
                .expect("an event within 10 s")
                .unwrap()
                .expect("the stream stays open");
            self.buffer.extend_from_slice(&chunk);
        }
    }
}

/// A journal entry made now at a gate.
pub fn entry(card: Option<(u32, Kind)>, event: GateEvent) -> JournalEntry {
    JournalEntry {
        id: uuid::Uuid::new_v4(),
        at: Utc::now(),
        clock_trusted: true,
        card_id: card.map(|(c, _)| CardId(c)),
        kind: card.map(|(_, k)| k),
        event,
        direction: None,
        area: None,
    }
}

/// The gate with key `gate` uploads the journal `body` (`{"entries": [...]}`); the answer.
pub async fn post_journal(app: &TestApp, gate: &str, body: Value) -> reqwest::Response {
    app.post("/api/v1/gate/journal", Some(gate), body).await
}

/// Uploads `entries` as the gate with key `gate`.
pub async fn upload(app: &TestApp, gate: &str, entries: &[JournalEntry]) {
    let r = post_journal(app, gate, json!({ "entries": entries })).await;
    assert_eq!(r.status(), 200);
}

fn denied(reason: DenyReason) -> GateEvent {
    GateEvent::Denied { reason }
}

#[tokio::test]
async fn a_decision_a_gate_uploads_reaches_the_open_stream_in_words_with_the_holder_masked() {
    let (app, admin, desk) = spawn_staffed().await;
    let card = crate::muster::visitor(&app, &desk).await;
    let (gate_id, gate) = enrol_device(&app, &admin, "gate").await;
    let mut stream = MonitorStream::open(&app, &desk, "", None).await;

    let e = entry(
        Some((card, Kind::Visitor)),
        denied(DenyReason::OutsideHours),
    );
    upload(&app, &gate, &[e]).await;
    let (id, e) = stream.next().await;
    assert_eq!(e["id"], id);
    assert_eq!(e["door_id"], gate_id.as_str());
    assert_eq!(e["door"], "test gate");
    assert_eq!(e["result"], "denied");
    assert_eq!(e["reason"], "outside_hours");
    assert_eq!(e["words"]["zh"], "不在允许的施工时段");
    assert_eq!(e["words"]["en"], "outside permitted hours");
    assert_eq!(e["who"], "赵*六", "the visitor 赵小六, masked");
    assert_eq!(e["card_id"], card);
    assert_eq!(e["alarm"], false);

    upload(
        &app,
        &gate,
        &[
            entry(
                Some((card, Kind::Visitor)),
                GateEvent::Admitted { flag: None },
            ),
            entry(
                None,
                GateEvent::Alarm {
                    alarm: AlarmKind::DoorForced,
                },
            ),
        ],
    )
    .await;
    let (admitted, e) = stream.next().await;
    assert!(admitted > id);
    assert_eq!(
        (e["result"].as_str(), e["words"]["en"].as_str()),
        (Some("admitted"), Some("admitted"))
    );
    let (_, e) = stream.next().await;
    assert_eq!(e["alarm"], true);
    assert_eq!(e["words"]["zh"], "门被强行打开");
    assert_eq!(e["who"], Value::Null);
}

#[tokio::test]
async fn a_stream_for_one_door_shows_only_that_door_and_every_door_shows_all_in_order() {
    let (app, admin, desk) = spawn_staffed().await;
    let (lobby_id, lobby) = enrol_device(&app, &admin, "gate").await;
    let (_, garage) = enrol_device(&app, &admin, "gate").await;
    let mut only_lobby = MonitorStream::open(&app, &desk, &format!("?door={lobby_id}"), None).await;
    let mut every = MonitorStream::open(&app, &desk, "", None).await;

    let e = entry(None, denied(DenyReason::Unreadable));
    upload(&app, &garage, &[e]).await;
    let e = entry(None, denied(DenyReason::BadSignature));
    upload(&app, &lobby, &[e]).await;

    let (_, first) = only_lobby.next().await;
    assert_eq!(first["door_id"], lobby_id.as_str());
    assert_eq!(
        first["reason"], "bad_signature",
        "the garage's event was left out"
    );
    let reasons = [every.next().await.1, every.next().await.1].map(|e| e["reason"].clone());
    assert_eq!(reasons, [json!("unreadable"), json!("bad_signature")]);

    let r = app
        .get("/api/v1/monitor/events?door=no-such-gate", Some(&desk))
        .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn desk_and_managers_may_subscribe_and_devices_and_strangers_may_not() {
    let (app, admin, desk) = spawn_staffed().await;
    let (_, kiosk) = enrol_device(&app, &admin, "kiosk").await;
    let (_, gate) = enrol_device(&app, &admin, "gate").await;
    MonitorStream::open(&app, &desk, "", None).await;
    MonitorStream::open(&app, &admin, "", None).await;
    for key in [&kiosk, &gate] {
        let r = app.get("/api/v1/monitor/events", Some(key)).await;
        assert_eq!(r.status(), 403);
    }
    assert_eq!(app.get("/api/v1/monitor/events", None).await.status(), 401);
    let r = app
        .client
        .get(app.url("/api/v1/monitor/events"))
        .bearer_auth(&desk)
        .header("Last-Event-ID", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(error_code(r).await, "invalid");
}

#[tokio::test]
async fn a_client_resumes_after_a_lost_connection_and_a_restart_without_gaps_or_duplicates() {
    let (app, admin, desk) = spawn_staffed().await;
    let (_, gate) = enrol_device(&app, &admin, "gate").await;
    let reasons = [
        DenyReason::Expired,
        DenyReason::Lost,
        DenyReason::Returned,
        DenyReason::Revoked,
        DenyReason::WrongZone,
        DenyReason::Blackout,
    ];
    let entries: Vec<JournalEntry> = reasons.iter().map(|r| entry(None, denied(*r))).collect();
    upload(&app, &gate, &entries[..3]).await;

    // The first connection sees two events, then is lost.
    let mut stream = MonitorStream::open(&app, &desk, "", None).await;
    let (first, _) = stream.next().await;
    let (second, _) = stream.next().await;
    drop(stream);
    upload(&app, &gate, &entries[3..4]).await;

    // The browser reconnects with the last id it saw, and so does a client with ?after=.
    let mut resumed = MonitorStream::open(&app, &desk, "", Some(second)).await;
    let mut after = MonitorStream::open(&app, &desk, &format!("?after={first}"), None).await;
    let (third, e) = resumed.next().await;
    assert_eq!(e["reason"], "returned");
    assert_eq!(after.next().await.0, second);
    let (fourth, e) = resumed.next().await;
    assert_eq!(e["reason"], "revoked");
    drop((resumed, after));

    // The server restarts; the gate uploads again (one entry a second time) and more.
    let dir = app.stop().await;
    let mut config = Config::for_tests(dir.path());
    config.admin_password = Some(Secret::new(ADMIN_PASSWORD));
    let app = spawn_with(config, dir).await;
    let desk = app.login("desk1", "desk-password-1").await;
    upload(&app, &gate, &entries[3..]).await;
    let mut resumed = MonitorStream::open(&app, &desk, "", Some(fourth)).await;
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (id, e) = resumed.next().await;
        seen.push((id, e["reason"].as_str().unwrap().to_owned()));
    }
    assert_eq!(
        seen,
        [
            (fourth + 1, "wrong_zone".to_owned()),
            (fourth + 2, "blackout".to_owned())
        ],
        "every event once, in order, after {third} and {fourth}"
    );
}

#[tokio::test]
async fn open_streams_are_capped() {
    let (app, admin) = spawn_managed().await;
    let mut open = Vec::new();
    for _ in 0..gatehouse_server::http::monitor::MAX_STREAMS {
        open.push(MonitorStream::open(&app, &admin, "", None).await);
    }
    let r = app.get("/api/v1/monitor/events", Some(&admin)).await;
    assert_eq!(r.status(), 429);
    assert_eq!(error_code(r).await, "too_many_requests");
}

/// The row text the page shows for an event at `at`: local time (Asia/Shanghai) to the second.
fn local_seconds(at: chrono::DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%H:%M:%S")
        .to_string()
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn a_scan_appears_on_the_open_monitor_page_in_each_language_and_after_a_server_restart() {
    let b = crate::browser::sized("live monitor", 1366, 768).await;
    let (app, admin, desk) = spawn_staffed().await;
    let card = crate::muster::visitor(&app, &desk).await;
    let (gate_id, gate) = enrol_device(&app, &admin, "gate").await;
    b.log_in_as(&app, DESK, "nav").await;
    b.go(&app, "/desk/monitor").await;
    assert_eq!(b.text("nav a.current").await, "实时监控");
    b.wait_for("#monitor-state.live").await;

    // A denial, then a forced door: newest first, in Chinese, the holder masked.
    let denial = entry(Some((card, Kind::Visitor)), denied(DenyReason::Expired));
    upload(&app, &gate, std::slice::from_ref(&denial)).await;
    let row = b.wait_text("#monitor-rows", "已过期").await;
    for part in ["赵*六", "test gate", "拒绝", &local_seconds(denial.at)] {
        assert!(row.contains(part), "{part:?} in {row}");
    }
    let forced = entry(
        None,
        GateEvent::Alarm {
            alarm: AlarmKind::DoorForced,
        },
    );
    upload(&app, &gate, &[forced]).await;
    b.wait_text("#monitor-rows tr.alarm", "门被强行打开").await;
    assert!(
        b.text("#monitor-rows tr:first-child")
            .await
            .contains("门被强行打开")
    );
    b.shot("monitor-zh-1366").await;

    // In English after the switch: the same events in English words.
    crate::browser::choose_language(&app, &desk, "en").await;
    b.client.refresh().await.unwrap();
    b.wait_for("#monitor-state.live").await;
    assert_eq!(b.text("nav a.current").await, "Live monitor");
    let rows = b.wait_text("#monitor-rows", "door forced open").await;
    assert!(
        rows.contains("expired") && rows.contains("Denied"),
        "{rows}"
    );
    assert!(!rows.contains("已过期"), "one language: {rows}");

    // The server restarts on the same address; the open page reconnects and goes on.
    let addr = app.addr;
    let dir = app.stop().await;
    let mut config = Config::for_tests(dir.path());
    config.admin_password = Some(Secret::new(ADMIN_PASSWORD));
    config.listen = addr;
    let app = spawn_with(config, dir).await;
    let admin = app.admin().await;
    let (_, other_door) = enrol_device(&app, &admin, "gate").await;
    let e = entry(Some((card, Kind::Visitor)), denied(DenyReason::SignedOut));
    upload(&app, &gate, &[e]).await;
    let rows = b.wait_text("#monitor-rows", "visitor signed out").await;
    assert_eq!(
        rows.matches("door forced open").count(),
        1,
        "no duplicates: {rows}"
    );

    // The door filter: only the chosen door's events.
    let e = entry(None, denied(DenyReason::Unreadable));
    upload(&app, &other_door, &[e]).await;
    b.wait_text("#monitor-rows", "not a readable card").await;
    b.client
        .execute(
            "const s=document.getElementById('monitor-door');s.value=arguments[0];s.dispatchEvent(new Event('change'));",
            vec![json!(gate_id)],
        )
        .await
        .unwrap();
    b.wait_text("#monitor-rows", "visitor signed out").await;
    b.until(
        "only the first door's rows",
        &format!(
            "return [...document.querySelectorAll('#monitor-rows tr')].every(t=>t.dataset.door==={gate_id:?})
               && document.querySelectorAll('#monitor-rows tr').length===3;"
        ),
    )
    .await;
    b.shot("monitor-en-1366").await;
    let _ = b.client.clone().close().await;
}

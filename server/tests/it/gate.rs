//! Gate sync (snapshot, long-poll changes, cursor), journal upload, events, unlock, lockdown.

use crate::app::{TestApp, assert_content_type, spawn_managed, spawn_staffed};
use crate::monitor::post_journal;
use crate::platform::enrol_device;
use chrono::Utc;
use gatehouse_credential::api::gate::DenyReason;
use gatehouse_credential::api::gate::{
    ChangeBatch, ChangeEvent, GateEvent, GateSnapshot, JournalAck, JournalEntry,
};
use gatehouse_credential::{CardId, Kind};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn changes(app: &TestApp, gate: &str, since: u64, wait_ms: u64) -> ChangeBatch {
    let r = app
        .get(
            &format!("/api/v1/gate/changes?since={since}&wait_ms={wait_ms}"),
            Some(gate),
        )
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn set_lockdown(app: &TestApp, admin: &str, active: bool) -> Value {
    let r = app
        .put("/api/v1/lockdown", Some(admin), json!({"active": active}))
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// `token` asks to unlock door `device` with `body` (its seconds, if any).
async fn unlock(app: &TestApp, token: &str, device: &str, body: Value) -> reqwest::Response {
    let path = format!("/api/v1/doors/{device}/unlock");
    app.post(&path, Some(token), body).await
}

#[tokio::test]
async fn snapshot_has_the_signing_key_default_calendar_and_cursor() {
    let (app, admin) = spawn_managed().await;
    let (_, gate) = enrol_device(&app, &admin, "gate").await;
    set_lockdown(&app, &admin, true).await;
    let r = app.get("/api/v1/gate/snapshot", Some(&gate)).await;
    assert_eq!(r.status(), 200);
    let s: GateSnapshot = r.json().await.unwrap();
    assert_eq!(s.keys, vec![app.key_file(0).public_info()]);
    assert_eq!(s.calendar.time_zone, chrono_tz::Asia::Shanghai);
    assert_eq!(s.calendar.schedules.len(), 1);
    assert_eq!(s.calendar.schedules[0].name, "renovation hours");
    assert_eq!(s.calendar.schedules[0].windows.len(), 2);
    assert!(s.lockdown);
    assert_eq!(s.cursor, 1, "the lockdown is change 1");
    assert!((Utc::now() - s.server_time).num_seconds().abs() < 5);
}

#[tokio::test]
async fn a_waiting_gate_learns_of_a_change_within_one_second() {
    let (app, admin) = spawn_managed().await;
    let (_, gate) = enrol_device(&app, &admin, "gate").await;
    let url = app.url("/api/v1/gate/changes?since=0&wait_ms=20000");
    let client = app.client.clone();
    let gate2 = gate.clone();
    let poll = tokio::spawn(async move {
        let r = client.get(url).bearer_auth(gate2).send().await.unwrap();
        (Instant::now(), r.json::<ChangeBatch>().await.unwrap())
    });
    app.long_poll_parked().await;
    assert!(
        !poll.is_finished(),
        "the poll is held while nothing changes"
    );
    let changed_at = Instant::now();
    set_lockdown(&app, &admin, true).await;
    let (answered_at, batch) = poll.await.unwrap();
    let delay = answered_at.duration_since(changed_at);
    assert!(delay < Duration::from_secs(1), "took {delay:?}");
    assert_eq!(batch.changes.len(), 1);
    assert_eq!(
        batch.changes[0].event,
        ChangeEvent::Lockdown { active: true }
    );
    assert_eq!(batch.cursor, batch.changes[0].seq);
}

#[tokio::test]
async fn an_empty_wait_times_out_with_the_same_cursor() {
    let (app, admin) = spawn_managed().await;
    let (_, gate) = enrol_device(&app, &admin, "gate").await;
    let started = Instant::now();
    let batch = changes(&app, &gate, 0, 300).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(batch.changes.is_empty());
    assert_eq!(batch.cursor, 0);
    let r = app.get("/api/v1/gate/changes?wait_ms=5", Some(&gate)).await;
    assert_eq!(r.status(), 400, "since is required");
}

#[tokio::test]
async fn reconnecting_from_the_cursor_loses_and_repeats_nothing() {
    let (app, admin) = spawn_managed().await;
    let (gate_id, gate) = enrol_device(&app, &admin, "gate").await;
    // A gate reads part of the stream, then "disconnects" while more changes happen.
    set_lockdown(&app, &admin, true).await;
    set_lockdown(&app, &admin, false).await;
    let first = changes(&app, &gate, 0, 0).await;
    assert_eq!(first.changes.len(), 2);
    for _ in 0..3 {
        let r = unlock(&app, &admin, &gate_id, json!({"seconds": 4})).await;
        assert_eq!(r.status(), 200);
    }
    set_lockdown(&app, &admin, true).await;
    let rest = changes(&app, &gate, first.cursor, 0).await;
    let seqs: Vec<u64> = first
        .changes
        .iter()
        .chain(&rest.changes)
        .map(|c| c.seq)
        .collect();
    assert_eq!(
        seqs,
        (1..=6).collect::<Vec<_>>(),
        "every change once, in order, no gaps"
    );
    assert_eq!(
        rest.changes[0].event,
        ChangeEvent::RemoteUnlock {
            device_id: gate_id.clone(),
            seconds: 4
        }
    );
    assert_eq!(changes(&app, &gate, rest.cursor, 0).await.changes.len(), 0);
    // The same lockdown state again is not a change.
    let pushed = set_lockdown(&app, &admin, true).await;
    assert!(pushed["seq"].is_null());
}

#[tokio::test]
async fn remote_unlock_needs_an_active_gate() {
    let (app, admin) = spawn_managed().await;
    let (kiosk_id, _) = enrol_device(&app, &admin, "kiosk").await;
    let r = unlock(&app, &admin, &kiosk_id, json!({})).await;
    assert_eq!(r.status(), 422);
    let r = unlock(&app, &admin, "no-such-device", json!({})).await;
    assert_eq!(r.status(), 404);
    let (gate_id, _) = enrol_device(&app, &admin, "gate").await;
    let r = unlock(&app, &admin, &gate_id, json!({"seconds": 600})).await;
    assert_eq!(r.status(), 422);
    let log = app.get_json("/api/v1/audit", Some(&admin)).await;
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] != "door.remote_unlock"),
        "refused unlocks are not logged as done"
    );
}

fn entry(card: u32, event: GateEvent, minutes_ago: i64) -> JournalEntry {
    JournalEntry {
        id: uuid::Uuid::new_v4(),
        at: Utc::now() - chrono::Duration::minutes(minutes_ago),
        clock_trusted: true,
        card_id: Some(CardId(card)),
        kind: Some(Kind::Worker),
        event,
        direction: None,
        area: None,
    }
}

#[tokio::test]
async fn a_retried_journal_upload_is_stored_once_and_events_filter_and_export() {
    let (app, admin) = spawn_managed().await;
    let (gate_id, gate) = enrol_device(&app, &admin, "gate").await;
    let entries = vec![
        entry(11, GateEvent::Admitted { flag: None }, 30),
        entry(
            12,
            GateEvent::Denied {
                reason: DenyReason::Lost,
            },
            20,
        ),
        entry(
            11,
            GateEvent::Denied {
                reason: DenyReason::OutsideHours,
            },
            10,
        ),
    ];
    let body = json!({ "entries": entries });
    for attempt in 0..2 {
        let r = post_journal(&app, &gate, body.clone()).await;
        assert_eq!(r.status(), 200, "attempt {attempt}");
        let ack: JournalAck = r.json().await.unwrap();
        assert_eq!(ack.stored, entries.iter().map(|e| e.id).collect::<Vec<_>>());
    }
    let desk = app.desk(&admin).await;
    let all: Vec<Value> = app.get_ok("/api/v1/events", Some(&desk)).await;
    assert_eq!(all.len(), 3, "the retry stored nothing twice");
    assert_eq!(all[0]["reason"], "outside_hours", "newest first");
    assert_eq!(all[0]["device_id"], gate_id.as_str());
    let card11: Vec<Value> = app.get_ok("/api/v1/events?card=11", Some(&desk)).await;
    assert_eq!(card11.len(), 2);
    let denied: Vec<Value> = app
        .get_ok("/api/v1/events?result=denied", Some(&desk))
        .await;
    assert_eq!(denied.len(), 2);
    let from = (Utc::now() - chrono::Duration::minutes(25))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let to = (Utc::now() - chrono::Duration::minutes(15))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let window: Vec<Value> = app
        .get_ok(&format!("/api/v1/events?from={from}&to={to}"), Some(&desk))
        .await;
    assert_eq!(window.len(), 1);
    assert_eq!(window[0]["reason"], "lost");
    let none: Vec<Value> = app
        .get_ok(&format!("/api/v1/events?device={}", "other"), Some(&desk))
        .await;
    assert!(none.is_empty());
    assert_eq!(
        app.get("/api/v1/events?result=maybe", Some(&desk))
            .await
            .status(),
        422
    );
    let r = app
        .get("/api/v1/events.csv?result=denied", Some(&desk))
        .await;
    assert_eq!(r.status(), 200);
    assert_content_type(&r, "text/csv");
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "header + 2 denied: {csv}");
    assert!(lines[0].starts_with("at,device_id"));
    assert!(
        lines[1].contains(",11,worker,denied,outside_hours,"),
        "{csv}"
    );
    // Oversized batches are refused with a reason.
    let big: Vec<JournalEntry> = (0..501)
        .map(|i| entry(i, GateEvent::ExitRequest, 1))
        .collect();
    let r = post_journal(&app, &gate, json!({ "entries": big })).await;
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn shutdown_answers_waiting_long_polls_at_once() {
    let (app, admin) = spawn_managed().await;
    let (_, gate) = enrol_device(&app, &admin, "gate").await;
    let url = app.url("/api/v1/gate/changes?since=0&wait_ms=30000");
    let client = app.client.clone();
    let poll = tokio::spawn(async move {
        client
            .get(url)
            .bearer_auth(gate)
            .send()
            .await
            .map(|r| r.status())
    });
    app.long_poll_parked().await;
    let started = Instant::now();
    app.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "graceful shutdown took {:?}",
        started.elapsed()
    );
    assert_eq!(poll.await.unwrap().unwrap(), 200);
}

#[tokio::test]
async fn the_direction_of_a_lane_scan_is_stored_listed_and_exported() {
    let (app, admin) = spawn_managed().await;
    let (_, gate) = enrol_device(&app, &admin, "gate").await;
    let mut lane = entry(21, GateEvent::Admitted { flag: None }, 5);
    lane.direction = Some(gatehouse_credential::api::gate::Direction::Exit);
    let door = entry(22, GateEvent::Admitted { flag: None }, 4);
    let r = post_journal(&app, &gate, json!({ "entries": [lane, door] })).await;
    assert_eq!(r.status(), 200);
    let events: Vec<Value> = app.get_ok("/api/v1/events", Some(&admin)).await;
    let direction = |card: u64| {
        events
            .iter()
            .find(|e| e["card_id"] == card)
            .map(|e| e["direction"].clone())
            .unwrap()
    };
    assert_eq!(direction(21), "exit");
    assert!(
        direction(22).is_null(),
        "a one-reader door has no direction"
    );
    let csv = app
        .get("/api/v1/events.csv", Some(&admin))
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.lines().next().unwrap().contains(",direction,"));
    assert!(csv.lines().any(|l| l.contains(",exit,")), "{csv}");
}

#[tokio::test]
async fn a_passage_at_one_door_of_an_area_reaches_the_areas_other_doors_once() {
    use gatehouse_credential::api::gate::{AreaName, Direction};
    let (app, admin) = spawn_managed().await;
    let (entry_id, entry_gate) = enrol_device(&app, &admin, "gate").await;
    let (exit_id, exit_gate) = enrol_device(&app, &admin, "gate").await;
    let since = changes(&app, &exit_gate, 0, 5).await.cursor;
    let lobby = AreaName::try_from("lobby".to_owned()).unwrap();
    set_area(&app, &admin, "lobby", &[&entry_id, &exit_id]).await;

    let mut went_in = entry(31, GateEvent::Admitted { flag: None }, 2);
    went_in.direction = Some(Direction::Entry);
    went_in.area = Some(lobby.clone());
    // A door outside any area and a passage under an untrusted clock are not told.
    let plain = entry(32, GateEvent::Admitted { flag: None }, 2);
    let mut untrusted = went_in.clone();
    untrusted.id = uuid::Uuid::new_v4();
    untrusted.card_id = Some(CardId(33));
    untrusted.clock_trusted = false;
    let mut annulled = entry(31, GateEvent::PassageAnnulled, 1);
    annulled.direction = Some(Direction::Entry);
    annulled.area = Some(lobby.clone());
    let upload = json!({ "entries": [went_in, plain, untrusted] });
    for _ in 0..2 {
        let r = post_journal(&app, &entry_gate, upload.clone()).await;
        assert_eq!(r.status(), 200, "a retried upload is acknowledged again");
    }
    let r = post_journal(&app, &entry_gate, json!({ "entries": [annulled] })).await;
    assert_eq!(r.status(), 200);

    let told: Vec<ChangeEvent> = changes(&app, &exit_gate, since, 5)
        .await
        .changes
        .into_iter()
        .map(|c| c.event)
        .filter(|e| matches!(e, ChangeEvent::Passage { .. }))
        .collect();
    let stored_at = |t: chrono::DateTime<Utc>| {
        chrono::DateTime::parse_from_rfc3339(&t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
            .unwrap()
            .with_timezone(&Utc)
    };
    let passage = |annulled| ChangeEvent::Passage {
        area: lobby.clone(),
        card_id: CardId(31),
        direction: Some(Direction::Entry),
        passed_at: stored_at(went_in.at),
        device_id: entry_id.clone(),
        annulled,
    };
    assert_eq!(
        told,
        vec![passage(false), passage(true)],
        "one passage (not twice for the retried upload), then its annulment naming the \
         passage's own time"
    );

    let r = post_journal(
        &app,
        &entry_gate,
        json!({ "entries": [{
                "id": uuid::Uuid::new_v4(), "at": Utc::now(), "clock_trusted": true,
                "card_id": 34, "kind": "visitor", "event": {"type": "admitted"},
                "area": "Lobby 1"
            }] }),
    )
    .await;
    assert_eq!(
        r.status(),
        422,
        "an area name with capitals and a space is refused"
    );
}

#[tokio::test]
async fn a_journal_with_a_huge_flag_or_an_impossible_time_is_refused_and_formulas_are_neutralised()
{
    let (app, admin) = spawn_managed().await;
    let (_, gate) = enrol_device(&app, &admin, "gate").await;
    let upload = |e: JournalEntry| json!({ "entries": [e] });
    let huge = entry(
        7,
        GateEvent::Admitted {
            flag: Some("x".repeat(1_000_000)),
        },
        1,
    );
    let mut year_one = entry(7, GateEvent::Admitted { flag: None }, 1);
    year_one.at = "0001-01-01T00:00:00Z".parse().unwrap();
    let mut far_future = entry(7, GateEvent::Admitted { flag: None }, 1);
    far_future.at = "9999-12-31T00:00:00Z".parse().unwrap();
    for bad in [huge, year_one, far_future] {
        let r = post_journal(&app, &gate, upload(bad)).await;
        assert_eq!(r.status(), 422);
    }
    let events = app.get_json("/api/v1/events", Some(&admin)).await;
    assert_eq!(events, json!([]), "nothing stored");

    // A flag that a spreadsheet would run, hidden behind a tab or spaces.
    for flag in ["\t=HYPERLINK(1)", "  =cmd()", " @SUM(1)"] {
        let e = entry(
            7,
            GateEvent::Admitted {
                flag: Some(flag.to_owned()),
            },
            1,
        );
        let r = post_journal(&app, &gate, upload(e)).await;
        if flag.starts_with('\t') {
            assert_eq!(r.status(), 422, "a tab is a control character");
        } else {
            assert_eq!(r.status(), 200);
        }
    }
    let csv = app.get_text("/api/v1/events.csv", Some(&admin)).await;
    for line in csv.lines().skip(1) {
        for cell in line.split(',') {
            let cell = cell.trim_start_matches('"');
            assert!(
                !cell.trim_start().starts_with(['=', '+', '@']) || cell.starts_with('\''),
                "a formula cell in {line}"
            );
        }
    }
    assert!(
        csv.contains("'  =cmd()") && csv.contains("' @SUM(1)"),
        "{csv}"
    );
}

async fn set_area(app: &TestApp, admin: &str, area: &str, gates: &[&str]) {
    let r = app
        .put(
            &format!("/api/v1/areas/{area}"),
            Some(admin),
            json!({ "gates": gates }),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn a_gate_outside_an_area_cannot_inject_passages_into_it() {
    use gatehouse_credential::api::gate::{AreaName, Direction};
    let (app, admin) = spawn_managed().await;
    let (member_id, member) = enrol_device(&app, &admin, "gate").await;
    let (door_id, door) = enrol_device(&app, &admin, "gate").await;
    let (_, foreign) = enrol_device(&app, &admin, "gate").await;
    let (kiosk_id, _) = enrol_device(&app, &admin, "kiosk").await;
    let desk = app.desk(&admin).await;
    // Only a manager sets membership, and only gates can be members.
    let path = "/api/v1/areas/lobby";
    let body = json!({ "gates": [member_id, door_id] });
    for token in [&desk, &member] {
        let r = app.put(path, Some(token), body.clone()).await;
        assert_eq!(r.status(), 403);
    }
    let r = app
        .put(path, Some(&admin), json!({ "gates": [kiosk_id] }))
        .await;
    assert_eq!(r.status(), 422, "a kiosk is not a gate");
    set_area(&app, &admin, "lobby", &[&member_id, &door_id]).await;
    let listed = app.get_json("/api/v1/areas", Some(&admin)).await;
    assert_eq!(listed[0]["area"], "lobby");
    assert_eq!(listed[0]["gates"].as_array().unwrap().len(), 2);

    let since = changes(&app, &door, 0, 5).await.cursor;
    let passage = |card: u32| {
        let mut e = entry(card, GateEvent::Admitted { flag: None }, 1);
        e.direction = Some(Direction::Entry);
        e.area = Some(AreaName::try_from("lobby".to_owned()).unwrap());
        e
    };
    // The foreign gate's key uploads a passage for the lobby: stored, never passed on.
    let r = post_journal(&app, &foreign, json!({ "entries": [passage(41)] })).await;
    assert_eq!(r.status(), 200);
    let r = post_journal(&app, &member, json!({ "entries": [passage(42)] })).await;
    assert_eq!(r.status(), 200);
    let told: Vec<(u32, String)> = changes(&app, &door, since, 5)
        .await
        .changes
        .into_iter()
        .filter_map(|c| match c.event {
            ChangeEvent::Passage {
                card_id, device_id, ..
            } => Some((card_id.0, device_id)),
            _ => None,
        })
        .collect();
    assert_eq!(
        told,
        vec![(42, member_id.clone())],
        "only the member's passage reaches the door"
    );
    let audit = app.get_json("/api/v1/audit?limit=50", Some(&admin)).await;
    assert!(crate::app::texts(&audit, "action").contains(&"area.members".to_owned()));
}

/// The doors as the desk's doors page reads them.
async fn door(app: &TestApp, desk: &str, device_id: &str) -> Value {
    let doors: Value = app.get_json("/api/v1/doors", Some(desk)).await;
    doors
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device_id"] == device_id)
        .cloned()
        .unwrap_or_else(|| panic!("gate {device_id} is listed: {doors}"))
}

#[tokio::test]
async fn a_gate_reports_its_relay_door_and_fire_with_its_long_poll_and_the_desk_sees_its_lag() {
    let (app, admin, desk) = spawn_staffed().await;
    let (gate_id, gate) = crate::muster::entrance_gate(&app, &admin).await;
    let before = door(&app, &desk, &gate_id).await;
    assert_eq!(before["relay"], Value::Null, "{before}");
    assert_eq!(before["behind_changes"], Value::Null, "{before}");

    let r = app
        .get(
            "/api/v1/gate/changes?since=0&wait_ms=0&relay=released&door=held&fire=true",
            Some(&gate),
        )
        .await;
    assert_eq!(r.status(), 200);
    let seen = door(&app, &desk, &gate_id).await;
    assert_eq!(seen["online"], true, "{seen}");
    assert_eq!(seen["relay"], "released", "{seen}");
    assert_eq!(seen["door"], "held", "{seen}");
    assert_eq!(seen["fire"], true, "{seen}");
    assert_eq!(seen["behind_changes"], 0, "{seen}");
    assert_eq!(seen["behind_seconds"], 0, "{seen}");

    // A lockdown the gate has not fetched yet: one change behind, waiting since it was made.
    set_lockdown(&app, &admin, true).await;
    let behind = door(&app, &desk, &gate_id).await;
    assert_eq!(behind["behind_changes"], 1, "{behind}");
    assert!(
        behind["behind_seconds"]
            .as_i64()
            .is_some_and(|s| (0..60).contains(&s)),
        "{behind}"
    );

    let batch = changes(&app, &gate, 0, 0).await;
    let r = app
        .get(
            &format!(
                "/api/v1/gate/changes?since={}&wait_ms=0&relay=locked&door=closed&fire=false",
                batch.cursor
            ),
            Some(&gate),
        )
        .await;
    assert_eq!(r.status(), 200);
    let level = door(&app, &desk, &gate_id).await;
    assert_eq!(level["behind_changes"], 0, "{level}");
    assert_eq!(level["relay"], "locked", "{level}");
    assert_eq!(level["door"], "closed", "{level}");
    assert_eq!(level["fire"], false, "{level}");
}

#[tokio::test]
async fn a_bad_gate_report_is_refused_and_only_the_gate_itself_reports() {
    let (app, admin, desk) = spawn_staffed().await;
    let (gate_id, gate) = crate::muster::entrance_gate(&app, &admin).await;
    let (_, kiosk) = enrol_device(&app, &admin, "kiosk").await;
    let base = "/api/v1/gate/changes?since=0&wait_ms=0";
    for (query, status) in [
        ("&relay=open&door=closed&fire=false", 400),
        ("&relay=locked&door=ajar&fire=false", 400),
        ("&relay=locked&door=closed&fire=yes", 400),
        ("&relay=LOCKED&door=closed&fire=false", 400),
        ("&relya=locked", 400),
        ("&relay=locked", 422),
        ("&relay=locked&door=closed", 422),
    ] {
        let r = app.get(&format!("{base}{query}"), Some(&gate)).await;
        assert_eq!(r.status(), status, "{query}");
        let code = crate::app::error_code(r).await;
        assert!(
            ["bad_request", "invalid"].contains(&code.as_str()),
            "{query}: {code}"
        );
    }
    let ok = "&relay=released&door=open&fire=true";
    for (who, token) in [("the desk", &desk), ("a kiosk", &kiosk)] {
        let r = app.get(&format!("{base}{ok}"), Some(token)).await;
        assert_eq!(r.status(), 403, "{who} may not report for a gate");
    }
    assert_eq!(app.get(&format!("{base}{ok}"), None).await.status(), 401);
    let stored = door(&app, &desk, &gate_id).await;
    assert_eq!(
        stored["relay"],
        Value::Null,
        "nothing refused was kept: {stored}"
    );
}

//! Scans through a real pty: admits, every denial reason, garbage, debounce, sync effects.

use crate::support::*;
use chrono::{DateTime, Utc};
use gatehouse_credential::api::gate::{ChangeEvent, GateEvent, RevocationReason};
use gatehouse_credential::{BuildingScope, KeyId, Kind, Signer, UtcMinute};
use serde_json::{Value, json};
use std::time::Duration;

fn transitions(status: &Value) -> Vec<(DateTime<Utc>, String)> {
    status["door"]["relay_transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["at"].as_str().unwrap().parse().unwrap(),
                t["level"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_pass_opens_the_relay_for_the_pulse_and_reaches_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (mut gate, stub, _) = start_synced(
        dir.path(),
        GateOptions {
            pulse_ms: 1000,
            use_port: true,
            ..GateOptions::default()
        },
    )
    .await;
    let s = gate.status().await;
    assert_eq!(s["door"]["relay"], "locked");
    assert_eq!(s["sync"]["device_id"], "gate-lobby");
    gate.scan(&pass(101));
    let s = gate
        .wait_for(5, "relay locked again", |s| transitions(s).len() >= 3)
        .await;
    let t = transitions(&s);
    // Locked at start, unlocked by the admit, locked after the pulse.
    assert_eq!(
        t.iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>(),
        vec!["locked", "unlocked", "locked"]
    );
    let open_ms = (t[2].0 - t[1].0).num_milliseconds();
    assert!(
        (950..=1300).contains(&open_ms),
        "relay open for {open_ms} ms, pulse is 1000 ms"
    );
    assert_eq!(decisions(&s), vec![(Some(101), true, None)]);
    gate.wait_for(5, "upload", |s| s["journal"]["pending_uploads"] == 0)
        .await;
    let stored = stub.gate().stored.clone();
    assert!(
        stored.iter().any(|e| e.card_id.map(|c| c.0) == Some(101)
            && matches!(e.event, GateEvent::Admitted { .. })),
        "{stored:?}"
    );
    assert_eq!(gate.terminate().code(), Some(0), "SIGTERM exits 0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_denial_reason_reaches_the_journal_and_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (mut gate, stub, _) = start_synced(dir.path(), GateOptions::default()).await;
    let s = signer();
    let issue = |c| s.issue(&c).unwrap();
    let now = Utc::now();
    let mut cases: Vec<(String, &str)> = vec![
        ("hello, world".into(), "unreadable"),
        (
            {
                let mut b = base45::decode(pass(200)).unwrap();
                b[0] = 0x21;
                base45::encode(&b)
            },
            "unknown_version",
        ),
        (
            Signer::from_seed(KeyId::new(2).unwrap(), [9; 32])
                .issue(&current_claims(201, Kind::Visitor, None))
                .unwrap(),
            "unknown_key",
        ),
        (
            {
                let mut b = base45::decode(pass(202)).unwrap();
                b[30] ^= 0x40;
                base45::encode(&b)
            },
            "bad_signature",
        ),
        (
            {
                let mut c = current_claims(203, Kind::Visitor, None);
                c.not_before = UtcMinute::floor(now + chrono::Duration::hours(2)).unwrap();
                issue(c)
            },
            "not_yet_valid",
        ),
        (
            {
                let mut c = current_claims(204, Kind::Visitor, None);
                c.not_before = UtcMinute::floor(now - chrono::Duration::days(2)).unwrap();
                c.not_after = UtcMinute::floor(now - chrono::Duration::days(1)).unwrap();
                issue(c)
            },
            "expired",
        ),
        (
            issue(current_claims(205, Kind::Worker, Some(2))),
            "outside_hours",
        ),
        (
            issue(current_claims(206, Kind::Worker, Some(9))),
            "unknown_schedule",
        ),
        (
            {
                let mut c = current_claims(207, Kind::Visitor, None);
                c.scope.building = BuildingScope::One(3);
                issue(c)
            },
            "wrong_zone",
        ),
    ];
    let revocations = [
        (210, RevocationReason::Revoked, "revoked"),
        (211, RevocationReason::Returned, "returned"),
        (212, RevocationReason::Lost, "lost"),
        (213, RevocationReason::SignedOut, "signed_out"),
        (214, RevocationReason::Reissued, "reissued"),
    ];
    let pushed = std::time::Instant::now();
    for (card, reason, name) in revocations {
        stub.push(ChangeEvent::Revoked {
            card_id: gatehouse_credential::CardId(card),
            reason,
            not_after: UtcMinute::floor(now + chrono::Duration::days(3)).unwrap(),
        });
        cases.push((pass(card), name));
    }
    gate.wait_for(5, "revocations synced", |s| s["sync"]["cursor"] == 5)
        .await;
    assert!(
        pushed.elapsed() < Duration::from_secs(1),
        "revocations took {:?} to reach the gate",
        pushed.elapsed()
    );
    for (text, _) in &cases {
        gate.scan(text);
    }
    // Lockdown last: a valid pass is then refused.
    stub.push(ChangeEvent::Lockdown { active: true });
    gate.wait_for(5, "lockdown synced", |s| s["sync"]["lockdown"] == true)
        .await;
    gate.scan(&pass(220));
    cases.push((pass(220), "lockdown"));
    let s = gate
        .wait_for(10, "all decisions", |s| decisions(s).len() == cases.len())
        .await;
    let seen: Vec<String> = decisions(&s)
        .into_iter()
        .map(|(_, admitted, reason)| {
            assert!(!admitted);
            reason.unwrap()
        })
        .collect();
    let expected: Vec<String> = cases.iter().map(|(_, r)| r.to_string()).collect();
    assert_eq!(seen, expected);
    // The relay never moved after the initial lock.
    assert_eq!(transitions(&s).len(), 1);
    gate.wait_for(5, "upload", |s| s["journal"]["pending_uploads"] == 0)
        .await;
    let server_reasons: Vec<String> = stub
        .gate()
        .stored
        .iter()
        .filter_map(|e| match e.event {
            GateEvent::Denied { reason } => Some(
                serde_json::to_value(reason)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ),
            _ => None,
        })
        .collect();
    assert_eq!(server_reasons, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_over_long_lines_never_reach_the_verifier() {
    let dir = tempfile::tempdir().unwrap();
    let mut gate = GateProc::start(dir.path(), GateOptions::default());
    gate.scan_raw(b"\x00\xff\xfe\x01binary\r");
    gate.scan_raw(format!("{}\r", "A".repeat(600)).as_bytes());
    gate.scan_raw(b"\r\n\r\n");
    gate.scan(&pass(300));
    let s = gate
        .wait_for(5, "the valid scan", |s| !decisions(s).is_empty())
        .await;
    assert_eq!(decisions(&s), vec![(Some(300), true, None)]);
    assert_eq!(s["scanner"]["dropped_not_text"], 1);
    assert_eq!(s["scanner"]["dropped_too_long"], 1);
    let journal = gate.journal();
    assert!(
        journal
            .iter()
            .all(|e| !matches!(e.event, GateEvent::Denied { .. })),
        "nothing dropped was journalled: {journal:?}"
    );
    let log = std::fs::read_to_string(dir.path().join("gate.log")).unwrap();
    assert_eq!(log.matches("scanner line too long; dropped").count(), 1);
    assert_eq!(log.matches("is not text").count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_pass_within_the_debounce_time_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut gate = GateProc::start(
        dir.path(),
        GateOptions {
            debounce_ms: 1500,
            ..GateOptions::default()
        },
    );
    let p = pass(400);
    gate.scan(&p);
    gate.scan(&p);
    gate.scan(&p);
    gate.scan(&pass(401));
    let s = gate
        .wait_for(5, "two decisions", |s| decisions(s).len() == 2)
        .await;
    assert_eq!(s["scanner"]["debounced"], 2);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    gate.scan(&p);
    let s = gate
        .wait_for(5, "third decision", |s| decisions(s).len() == 3)
        .await;
    assert_eq!(
        decisions(&s)
            .iter()
            .map(|d| d.0.unwrap())
            .collect::<Vec<_>>(),
        vec![400, 401, 400]
    );
    let admitted = gate
        .journal()
        .iter()
        .filter(|e| matches!(e.event, GateEvent::Admitted { .. }))
        .count();
    assert_eq!(admitted, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_anti_passback_denies_a_second_passage_through_the_door() {
    let dir = tempfile::tempdir().unwrap();
    let mut gate = GateProc::start(
        dir.path(),
        GateOptions {
            debounce_ms: 0,
            pulse_ms: 800,
            extra_door: "anti_passback = \"hard\"".into(),
            ..GateOptions::default()
        },
    );
    gate.scan(&pass(500));
    gate.wait_for(5, "admit", |s| decisions(s).len() == 1).await;
    // The visitor walks through: the door opens during the pulse and closes again.
    gate.post("/sim/door", json!({"open": true})).await;
    gate.wait_for(5, "door open", |s| s["door"]["contact"] == "open")
        .await;
    gate.post("/sim/door", json!({"open": false})).await;
    gate.wait_for(5, "door closed", |s| s["door"]["contact"] == "closed")
        .await;
    gate.scan(&pass(500));
    let s = gate
        .wait_for(5, "second decision", |s| decisions(s).len() == 2)
        .await;
    assert_eq!(
        decisions(&s),
        vec![
            (Some(500), true, None),
            (Some(500), false, Some("anti_passback".into()))
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blackout_and_untrusted_clock_with_a_simulated_clock() {
    let dir = tempfile::tempdir().unwrap();
    // First start: enrol and sync, so the data dir holds the calendar and a trusted time.
    let (mut gate, _stub, _) = start_synced(dir.path(), GateOptions::default()).await;
    let worker = signer()
        .issue(&current_claims(600, Kind::Worker, Some(1)))
        .unwrap();
    gate.scan(&worker);
    gate.wait_for(5, "admit", |s| decisions(s).len() == 1).await;
    assert_eq!(gate.terminate().code(), Some(0));

    // Restart with the clock an hour behind the last trusted time (a Pi after a power cut).
    let mut gate = GateProc::start_with(
        dir.path(),
        &GateOptions {
            server: None,
            clock_offset_secs: Some(-3600),
            ..GateOptions::default()
        },
        Scanner::Sim(dir.path().join("scanner")),
    );
    let s = gate
        .wait_for(5, "untrusted clock", |s| s["clock"]["trusted"] == false)
        .await;
    assert_eq!(s["clock"]["sim_offset_secs"], -3600);
    gate.scan(&pass(601));
    let s = gate
        .wait_for(5, "decision", |s| decisions(s).len() == 1)
        .await;
    assert_eq!(
        decisions(&s),
        vec![(Some(601), false, Some("untrusted_clock".into()))]
    );
    let alarms: Vec<_> = gate
        .journal()
        .into_iter()
        .filter_map(|e| match e.event {
            GateEvent::Alarm { alarm } => Some(alarm),
            _ => None,
        })
        .collect();
    assert!(
        alarms.contains(&gatehouse_credential::api::gate::AlarmKind::UntrustedClock),
        "{alarms:?}"
    );
    assert_eq!(gate.terminate().code(), Some(0));

    // Restart a day ahead with no server: the persisted calendar says tomorrow is a blackout.
    let mut gate = GateProc::start_with(
        dir.path(),
        &GateOptions {
            server: None,
            clock_offset_secs: Some(86_400),
            ..GateOptions::default()
        },
        Scanner::Sim(dir.path().join("scanner")),
    );
    gate.scan(
        &signer()
            .issue(&current_claims(602, Kind::Worker, Some(1)))
            .unwrap(),
    );
    let s = gate
        .wait_for(5, "decision", |s| decisions(s).len() == 1)
        .await;
    assert_eq!(s["clock"]["trusted"], true);
    assert_eq!(
        decisions(&s),
        vec![(Some(602), false, Some("blackout".into()))]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_and_sigint_right_after_ready_exit_cleanly() {
    for sig in [Signal::SIGTERM, Signal::SIGINT] {
        let dir = tempfile::tempdir().unwrap();
        let mut gate = GateProc::start(dir.path(), GateOptions::default());
        signal(&gate.child, sig).unwrap();
        let status = gate.child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{sig}: {status}");
        let log = std::fs::read_to_string(dir.path().join("gate.log")).unwrap();
        assert!(log.contains("gate stopped; relay locked"), "{log}");
        assert!(!dir.path().join("scanner").exists(), "sim link removed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_server_away_the_gate_keeps_deciding_and_uploads_afterwards() {
    let dir = tempfile::tempdir().unwrap();
    let (mut gate, stub, _) = start_synced(dir.path(), GateOptions::default()).await;
    stub.gate().offline = true;
    let s = gate
        .wait_for(10, "server seen away", |s| {
            s["sync"]["server_reachable"] == false
        })
        .await;
    assert!(
        s["sync"]["last_error"].as_str().unwrap().contains("503"),
        "{s:#}"
    );
    gate.scan(&pass(700));
    gate.scan(&pass(701));
    let s = gate
        .wait_for(5, "offline decisions", |s| decisions(s).len() == 2)
        .await;
    assert_eq!(
        decisions(&s),
        vec![(Some(700), true, None), (Some(701), true, None)]
    );
    assert!(s["journal"]["pending_uploads"].as_u64().unwrap() >= 2);
    assert!(
        stub.gate()
            .stored
            .iter()
            .all(|e| e.card_id.is_none() || e.card_id.unwrap().0 < 700)
    );
    stub.gate().offline = false;
    gate.wait_for(10, "uploads after the server is back", |s| {
        s["journal"]["pending_uploads"] == 0 && s["sync"]["server_reachable"] == true
    })
    .await;
    let cards: Vec<u32> = stub
        .gate()
        .stored
        .iter()
        .filter_map(|e| e.card_id.map(|c| c.0))
        .collect();
    assert!(cards.contains(&700) && cards.contains(&701), "{cards:?}");
}

#[test]
fn a_reader_decides_on_its_own_and_a_dropped_gate_leaves_the_relay_locked() {
    use gatehouse_gate::app::{Application, Env};
    use gatehouse_gate::config::Config;
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scanner");
    let options = GateOptions {
        pulse_ms: 60_000,
        ..GateOptions::default()
    };
    let config = Config::load(&write_config(
        dir.path(),
        &options,
        &Scanner::Sim(link.clone()),
    ))
    .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app = runtime
        .block_on(Application::build(config, Env::default()))
        .unwrap();
    let relay = app.sim().unwrap().relay;
    // Nothing calls `run`: the door's owner, started by `build`, decides and opens the door.
    let mut scanner = std::fs::OpenOptions::new().write(true).open(&link).unwrap();
    scanner
        .write_all(format!("{}\r", pass(5)).as_bytes())
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !relay.is_set_high() && std::time::Instant::now() < deadline {
        relay.wait_for_set(relay.set_count(), Duration::from_millis(100));
    }
    assert!(relay.is_set_high(), "unlocked for the one-minute pulse");
    drop(app);
    assert!(
        !relay.is_set_high(),
        "a gate that goes away leaves the door locked"
    );
}

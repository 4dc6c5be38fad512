//! The end-to-end stories across the real server, gates and kiosk.

use gatehouse_credential::PublicKeyInfo;
use gatehouse_credential::{Zone, ZoneClass};
use gatehouse_e2e::estate::{BUILDING, OTHER_FLOOR, VISITED_FLOOR};
use gatehouse_e2e::gate::{self, Decision, GateSetup, GateStatus, ScannerSource};
use gatehouse_e2e::kiosk;
use gatehouse_e2e::process::Running;
use gatehouse_e2e::scanner::ScannerPty;
use gatehouse_e2e::server::{expect_ok, http_client};
use gatehouse_e2e::system::System;
use gatehouse_e2e::wait_for;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Starts the whole system for a story.
fn system(gates: &[Zone], with_kiosk: bool) -> System {
    System::launch(gates, with_kiosk).unwrap()
}

fn entrance() -> Zone {
    Zone {
        building: BUILDING,
        class: ZoneClass::Entrance,
        floor: None,
    }
}

fn floor(f: i8) -> Zone {
    Zone {
        building: BUILDING,
        class: ZoneClass::Floor,
        floor: Some(f),
    }
}

/// Registers a visitor at the kiosk the way its touch screen does; returns the pass answer.
fn register_visitor(system: &System, name: &str, unit_label: &str) -> Value {
    kiosk::register_visitor(system.kiosk_url().unwrap(), name, unit_label).unwrap()
}

fn sign_out(system: &System, pass: &str) {
    kiosk::sign_out(system.kiosk_url().unwrap(), pass).unwrap();
}

/// Scans `pass` at `gate` every 50 ms until the gate denies it for `reason`; the time it took.
fn time_until_denied(system: &mut System, gate: usize, pass: &str, reason: &str) -> Duration {
    let start = Instant::now();
    loop {
        let d = system.gates[gate].scan(pass).unwrap();
        if !d.admitted {
            assert_eq!(d.reason.as_deref(), Some(reason), "{d:?}");
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "still admitted after 10 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn assert_admitted(d: &Decision, what: &str) {
    assert!(d.admitted, "{what}: {d:?}");
}

fn assert_denied(d: &Decision, reason: &str, what: &str) {
    assert_eq!(
        (d.admitted, d.reason.as_deref()),
        (false, Some(reason)),
        "{what}: {d:?}"
    );
}

#[test]
fn visitor_registers_in_chinese_enters_signs_out_and_is_shut_out() {
    let mut system = system(
        &[entrance(), floor(VISITED_FLOOR), floor(OTHER_FLOOR)],
        true,
    );
    let unit = format!("{BUILDING}-{VISITED_FLOOR}03");
    let pass = register_visitor(&system, "张伟明", &unit);
    let credential = pass["credential"].as_str().unwrap().to_owned();
    assert_eq!(pass["holder_masked"], "张*明", "{pass}");
    assert_eq!(pass["unit_label"], unit.as_str());

    // The slip printed: the QR code's data is the exact credential.
    let printed = wait_for("the kiosk to print", Duration::from_secs(5), || {
        let bytes = gatehouse_e2e::kiosk::printed(&system.kiosk_files);
        bytes
            .windows(credential.len())
            .any(|w| w == credential.as_bytes())
            .then_some(bytes)
    })
    .unwrap();
    assert!(printed.starts_with(&[0x1B, 0x40]), "ESC @ first");

    let d = system.gates[0].scan(&credential).unwrap();
    assert_admitted(&d, "the entrance");
    let d = system.gates[1].scan(&credential).unwrap();
    assert_admitted(&d, "the visited floor");
    let d = system.gates[2].scan(&credential).unwrap();
    assert_denied(&d, "wrong_zone", "another floor");

    let card_id = pass["card_id"].as_u64().unwrap();
    assert!(
        on_site(&system).contains(&card_id),
        "registered visitors are on site"
    );

    sign_out(&system, &credential);
    let took = time_until_denied(&mut system, 0, &credential, "signed_out");
    assert!(
        took < Duration::from_secs(1),
        "denied {took:?} after the sign-out"
    );
    let d = system.gates[1].scan(&credential).unwrap();
    assert_denied(&d, "signed_out", "the visited floor after the sign-out");
    assert!(
        !on_site(&system).contains(&card_id),
        "signed-out visitors leave the on-site list"
    );

    // The next day, a pass issued today and never used is expired: a gate whose clock runs a
    // day ahead, holding the server's public keys, denies it offline.
    let unused = register_visitor(&system, "陈小红", &unit)["credential"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, api_key) = gate::device_key(&system.gates[0].setup).unwrap();
    let snapshot = expect_ok(
        "GET /api/v1/gate/snapshot",
        http_client()
            .get(format!("{}/api/v1/gate/snapshot", system.api.base()))
            .bearer_auth(api_key),
    )
    .unwrap();
    let keys: Vec<PublicKeyInfo> = serde_json::from_value(snapshot["keys"].clone()).unwrap();
    let mut pty = ScannerPty::open().unwrap();
    let mut setup = GateSetup::new(
        &system.data_dir().join("tomorrow"),
        entrance(),
        ScannerSource::Port(pty.slave_path().into()),
    );
    setup.keys = keys;
    setup.clock_offset_secs = Some(24 * 3600);
    let tomorrow = Running::start(gate::launch(&setup, "127.0.0.1:0").unwrap()).unwrap();
    pty.scan(&unused).unwrap();
    let d = gate::next_decision(tomorrow.url(), None, Duration::from_secs(5)).unwrap();
    assert_denied(&d, "expired", "an unused pass the next day");
}

/// The cards on the desk's on-site list.
fn on_site(system: &System) -> Vec<u64> {
    let list = system.api.get("/api/v1/visitors/on-site").unwrap();
    list.as_array()
        .unwrap_or_else(|| panic!("on-site is not a list: {list}"))
        .iter()
        .filter_map(|v| v["card_id"].as_u64())
        .collect()
}

/// Decisions the server stored for each device, counted by (card, result), as the desk's
/// events list reports them. (Other journal entries, such as a passage annulled because the
/// simulated door never opened, are left out.) Each stored entry id appears once.
fn server_journal(system: &System) -> BTreeMap<String, BTreeMap<(Option<i64>, String), i64>> {
    let events = system.api.get("/api/v1/events?limit=10000").unwrap();
    let events = events
        .as_array()
        .unwrap_or_else(|| panic!("events is not a list: {events}"));
    let mut ids = std::collections::BTreeSet::new();
    let mut out: BTreeMap<String, BTreeMap<_, _>> = BTreeMap::new();
    for e in events {
        let id = e["id"].as_str().unwrap().to_owned();
        assert!(ids.insert(id.clone()), "entry {id} stored twice");
        let result = e["result"].as_str().unwrap().to_owned();
        if result != "admitted" && result != "denied" {
            continue;
        }
        let device = e["device_id"].as_str().unwrap().to_owned();
        let card = e["card_id"].as_i64();
        *out.entry(device)
            .or_default()
            .entry((card, result))
            .or_insert(0) += 1;
    }
    out
}

/// A gate's own decisions, counted by (card, result).
fn gate_journal(status: &GateStatus) -> BTreeMap<(Option<i64>, String), i64> {
    let mut out = BTreeMap::new();
    for d in status.decisions() {
        let result = if d.admitted { "admitted" } else { "denied" };
        *out.entry((d.card_id.map(|c| c as i64), result.to_owned()))
            .or_insert(0) += 1;
    }
    out
}

#[test]
fn outage_gates_keep_deciding_offline_and_every_journal_entry_arrives_once() {
    let mut system = system(&[entrance(), floor(VISITED_FLOOR)], true);
    let unit = format!("{BUILDING}-{VISITED_FLOOR}01");
    let valid = register_visitor(&system, "王芳", &unit)["credential"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = register_visitor(&system, "赵强", &unit)["credential"]
        .as_str()
        .unwrap()
        .to_owned();
    sign_out(&system, &revoked);
    time_until_denied(&mut system, 0, &revoked, "signed_out");
    time_until_denied(&mut system, 1, &revoked, "signed_out");

    system.stop_server(true).unwrap();
    for round in 0..5 {
        for gate in 0..2 {
            let d = system.gates[gate].scan(&valid).unwrap();
            assert_admitted(
                &d,
                &format!("valid pass, round {round}, gate {gate}, server down"),
            );
        }
        let d = system.gates[round % 2].scan(&revoked).unwrap();
        assert_denied(&d, "signed_out", "revoked before the outage");
    }
    for g in &system.gates {
        let s = wait_for(
            "the gate to notice the outage",
            Duration::from_secs(10),
            || {
                let s = GateStatus::fetch(g.url()).ok()?;
                (s.server_reachable() == Some(false)).then_some(s)
            },
        )
        .unwrap();
        assert!(s.pending_uploads().unwrap_or(0) > 0, "{:?}", s.0);
    }

    system.restart_server().unwrap();
    for g in &system.gates {
        wait_for(
            "the gate to upload its journal",
            Duration::from_secs(20),
            || {
                let s = GateStatus::fetch(g.url()).ok()?;
                (s.pending_uploads() == Some(0) && s.server_reachable() == Some(true)).then_some(())
            },
        )
        .unwrap();
    }
    let stored = server_journal(&system);
    for g in &system.gates {
        let status = GateStatus::fetch(g.url()).unwrap();
        let device = status.device_id().unwrap();
        assert_eq!(
            stored.get(&device).cloned().unwrap_or_default(),
            gate_journal(&status),
            "the server holds each of gate {device}'s decisions exactly once"
        );
    }
}

#[test]
fn crash_server_killed_mid_burst_of_issuances_loses_and_duplicates_no_pass() {
    let mut system = system(&[entrance()], true);
    let kiosk_url = system.kiosk_url().unwrap().to_owned();
    let unit = format!("{BUILDING}-{VISITED_FLOOR}02");
    // Visitors keep registering at the kiosk while the server is killed and restarted. The
    // burst runs until it has seen the server refuse (it was down) and then issue again (it
    // came back), so the kill provably lands in the middle of it.
    let refused = Arc::new(AtomicUsize::new(0));
    let burst = {
        let refused = Arc::clone(&refused);
        std::thread::spawn(move || {
            let mut issued = Vec::new();
            let mut issued_after_refusal = 0;
            let start = Instant::now();
            for i in 0.. {
                if issued_after_refusal >= 5 || start.elapsed() > Duration::from_secs(60) {
                    break;
                }
                match kiosk::register_visitor(&kiosk_url, &format!("访客{i}"), &unit) {
                    Ok(pass) => {
                        if refused.load(Ordering::SeqCst) > 0 {
                            issued_after_refusal += 1;
                        }
                        issued.push((
                            pass["card_id"].as_u64().unwrap(),
                            pass["credential"].as_str().unwrap().to_owned(),
                        ))
                    }
                    Err(_) => {
                        refused.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
            (issued, issued_after_refusal)
        })
    };
    wait_for("some passes issued", Duration::from_secs(30), || {
        (on_site(&system).len() >= 10).then_some(())
    })
    .unwrap();
    system.stop_server(true).unwrap();
    wait_for(
        "the kiosk to refuse a visitor while the server is down",
        Duration::from_secs(30),
        || (refused.load(Ordering::SeqCst) > 0).then_some(()),
    )
    .unwrap();
    assert!(
        !burst.is_finished(),
        "the burst was still running when the server was killed"
    );
    system.restart_server().unwrap();
    let (issued, issued_after_refusal) = burst.join().unwrap();
    let refused = refused.load(Ordering::SeqCst);
    eprintln!(
        "{} passes issued ({issued_after_refusal} after the restart), {refused} refused while the server was down",
        issued.len()
    );
    assert!(
        issued.len() > issued_after_refusal,
        "passes were issued before the kill"
    );
    assert_eq!(
        issued_after_refusal, 5,
        "the kiosk issues passes again once the server is back"
    );

    let listed = on_site(&system);
    let mut unique = listed.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        unique.len(),
        listed.len(),
        "no pass is listed twice: {listed:?}"
    );
    let cards: Vec<u64> = issued.iter().map(|(card, _)| *card).collect();
    let missing: Vec<_> = cards.iter().filter(|c| !listed.contains(c)).collect();
    assert!(
        missing.is_empty(),
        "passes the kiosk handed out but the server lost: {missing:?}"
    );
    let mut cards_unique = cards.clone();
    cards_unique.sort_unstable();
    cards_unique.dedup();
    assert_eq!(
        cards_unique.len(),
        cards.len(),
        "no card number issued twice: {cards:?}"
    );
    // A pass issued before the kill still opens the door after the restart.
    let (_, first) = issued.first().expect("passes were issued before the kill");
    let d = system.gates[0].scan(first).unwrap();
    assert_admitted(&d, "a pass issued before the server was killed");
}

/// Scans `pass` at `gate` every 50 ms until the gate admits it; the time it took.
fn time_until_admitted(system: &mut System, gate: usize, pass: &str) -> Duration {
    let start = Instant::now();
    loop {
        let d = system.gates[gate].scan(pass).unwrap();
        if d.admitted {
            return start.elapsed();
        }
        assert_eq!(d.reason.as_deref(), Some("anti_passback"), "{d:?}");
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "still refused after 10 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_entry_door_and_an_exit_door_on_two_controllers_keep_anti_passback_together() {
    let mut system = system(&[entrance(), entrance()], true);
    // Two turnstiles at the entrance, each on its own controller: gate 0 lets people in,
    // gate 1 lets them out; they share the "lobby" anti-passback area through the server.
    for (gate, direction) in [(0, "entry"), (1, "exit")] {
        system.gates[gate].setup.door_extra = format!(
            "direction = \"{direction}\"\nanti_passback = \"hard\"\nanti_passback_area = \"lobby\"\n"
        );
        system.restart_gate(gate, None, true).unwrap();
    }
    // The manager makes both controllers members of the area (only members' passages count).
    let members: Vec<String> = system
        .gates
        .iter()
        .map(|g| GateStatus::fetch(g.url()).unwrap().device_id().unwrap())
        .collect();
    system
        .api
        .put("/api/v1/areas/lobby", &json!({ "gates": members }))
        .unwrap();
    let unit = format!("{BUILDING}-{VISITED_FLOOR}01");
    let pass = register_visitor(&system, "韩梅梅", &unit)["credential"]
        .as_str()
        .unwrap()
        .to_owned();

    let d = system.gates[0].scan(&pass).unwrap();
    assert_admitted(&d, "in through the entry turnstile");
    system.gates[0].walk_through().unwrap();
    let d = system.gates[0].scan(&pass).unwrap();
    assert_denied(&d, "anti_passback", "in again without going out");

    let d = system.gates[1].scan(&pass).unwrap();
    assert_admitted(&d, "out through the exit turnstile");
    system.gates[1].walk_through().unwrap();
    let d = system.gates[1].scan(&pass).unwrap();
    assert_denied(&d, "anti_passback", "out twice");
    // The entry turnstile hears of the exit from the server and lets the visitor in again.
    let heard = time_until_admitted(&mut system, 0, &pass);
    assert!(
        heard < Duration::from_secs(1),
        "the exit took {heard:?} to reach the entry"
    );
    system.gates[0].walk_through().unwrap();
    // And the exit turnstile hears of that entry.
    let heard = time_until_admitted(&mut system, 1, &pass);
    assert!(
        heard < Duration::from_secs(1),
        "the entry took {heard:?} to reach the exit"
    );
    system.gates[1].walk_through().unwrap();

    // A restart of the entry controller keeps what the area told it: the visitor is out.
    system.restart_gate(0, None, true).unwrap();
    let d = system.gates[0].scan(&pass).unwrap();
    assert_admitted(&d, "in again after the entry controller restarted");
    system.gates[0].walk_through().unwrap();
    let d = system.gates[0].scan(&pass).unwrap();
    assert_denied(&d, "anti_passback", "and in twice still refused");
}

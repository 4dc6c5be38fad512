//! A renovation from registration at the desk to the refund, with its
//! workers' cards collected at the kiosk and scanned at an entrance and two floor doors whose
//! clocks are moved to the days and hours the story needs.

use chrono::{Datelike, Duration as Days, FixedOffset, Months, NaiveDate, NaiveTime, Utc, Weekday};
use gatehouse_credential::{Zone, ZoneClass};
use gatehouse_e2e::estate::{BUILDING, OTHER_FLOOR, VISITED_FLOOR, unit_id, visited_unit};
use gatehouse_e2e::gate::{Decision, GateStatus};
use gatehouse_e2e::server::{Api, http_client, send};
use gatehouse_e2e::system::System;
use gatehouse_e2e::{kiosk, wait_for};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The gates, in the order the system starts them.
const ENTRANCE: usize = 0;
const FLOOR: usize = 1;
const OTHER: usize = 2;

/// The estate's time zone, Asia/Shanghai (UTC+8 all year).
fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap()
}

fn today() -> NaiveDate {
    Utc::now().with_timezone(&shanghai()).date_naive()
}

/// The first Monday–Friday on or after `d`.
fn weekday_from(mut d: NaiveDate) -> NaiveDate {
    while matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
        d += Days::days(1);
    }
    d
}

/// Seconds to shift a gate's clock so that now reads `date` at `hh:00` in the estate.
fn offset_to(date: NaiveDate, hh: u32) -> i64 {
    let at = date
        .and_time(NaiveTime::from_hms_opt(hh, 0, 0).unwrap())
        .and_local_timezone(shanghai())
        .unwrap();
    (at.with_timezone(&Utc) - Utc::now()).num_seconds()
}

/// Restarts `gates` offline with their clocks at `date` `hh:00` local time: they decide on
/// what they last synced (a synced gate would distrust a clock the server contradicts).
fn gates_offline_at(system: &mut System, gates: &[usize], date: NaiveDate, hh: u32) {
    let offset = offset_to(date, hh);
    for &i in gates {
        system.restart_gate(i, Some(offset), false).unwrap();
    }
}

/// Restarts `gates` online on the real clock.
fn gates_online(system: &mut System, gates: &[usize]) {
    for &i in gates {
        system.restart_gate(i, None, true).unwrap();
    }
}

/// Each gate's sync cursor now.
fn cursors(system: &System, gates: &[usize]) -> Vec<u64> {
    gates
        .iter()
        .map(|&i| {
            GateStatus::fetch(system.gates[i].url())
                .unwrap()
                .cursor()
                .unwrap_or(0)
        })
        .collect()
}

/// Waits until each gate's cursor has moved past `before` (it received the change made since).
fn wait_synced_past(system: &System, gates: &[usize], before: &[u64]) {
    for (&i, &was) in gates.iter().zip(before) {
        let url = system.gates[i].url();
        wait_for(
            "the gate to receive the change",
            Duration::from_secs(10),
            || {
                let now = GateStatus::fetch(url).ok()?.cursor()?;
                (now > was).then_some(())
            },
        )
        .unwrap();
    }
}

/// Scans `pass` at `gate` until the decision is `(admitted, reason)` (a restarted gate may
/// still be catching up with the server); fails with the last decision after 10 s.
fn scan_until(
    system: &mut System,
    gate: usize,
    pass: &str,
    admitted: bool,
    reason: Option<&str>,
    what: &str,
) -> Duration {
    let start = Instant::now();
    loop {
        let d: Decision = system.gates[gate].scan(pass).unwrap();
        if d.admitted == admitted && d.reason.as_deref() == reason {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what}: expected admitted={admitted} reason={reason:?}, got {d:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// [`scan_until`] at each of `gates` in turn; `what` is named with the gate's index.
fn scan_at_each(
    system: &mut System,
    gates: &[usize],
    pass: &str,
    admitted: bool,
    reason: Option<&str>,
    what: &str,
) {
    for &gate in gates {
        scan_until(
            system,
            gate,
            pass,
            admitted,
            reason,
            &format!("gate {gate}, {what}"),
        );
    }
}

/// The refund check's unmet rules, as `(rule, reason)`.
fn unmet(desk: &Api, id: i64) -> Vec<(String, String)> {
    let check = desk
        .get(&format!("/api/v1/renovations/{id}/refund-check"))
        .unwrap();
    check
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["met"] == false)
        .map(|r| {
            (
                r["rule"].as_str().unwrap().to_owned(),
                r["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn renovation_workers_enter_on_schedule_the_card_outlives_its_print_and_the_refund_waits_for_every_rule()
 {
    let zones = [
        Zone {
            building: BUILDING,
            class: ZoneClass::Entrance,
            floor: None,
        },
        Zone {
            building: BUILDING,
            class: ZoneClass::Floor,
            floor: Some(VISITED_FLOOR),
        },
        Zone {
            building: BUILDING,
            class: ZoneClass::Floor,
            floor: Some(OTHER_FLOOR),
        },
    ];
    let mut system = System::launch(&zones, true).unwrap();
    let admin = system.api.clone();
    admin
        .post(
            "/api/v1/staff",
            &json!({"username": "desk1", "role": "desk", "password": "desk-password-1"}),
        )
        .unwrap();
    let desk = Api::login(admin.base(), "desk1", "desk-password-1").unwrap();

    // Registered five months ago for three months, then extended to a week from today, so an
    // occupancy more than three months ago can be recorded at the end.
    let t = today();
    let start = t - Months::new(5);
    let unit_label = visited_unit();
    let estate = desk.get("/api/v1/estate").unwrap();
    let unit_id = unit_id(&estate["units"], &unit_label, "id")
        .unwrap_or_else(|| panic!("no unit {unit_label} in {estate}"));
    let renovation = desk
        .register_renovation(unit_id, start, start + Months::new(3))
        .unwrap();
    let id = renovation["id"].as_i64().unwrap();
    let code = renovation["code"].as_str().unwrap().to_owned();
    let printed_end = t + Days::days(7);
    desk.post(
        &format!("/api/v1/renovations/{id}/extensions"),
        &json!({"new_end_date": printed_end}),
    )
    .unwrap();
    for line in [
        json!({"kind": "deposit", "amount_cents": 500000, "receipt_no": "SJ-2026-001"}),
        json!({"kind": "rubbish_fee", "amount_cents": 80000, "receipt_no": "SJ-2026-002"}),
    ] {
        desk.post(&format!("/api/v1/renovations/{id}/ledger"), &line)
            .unwrap();
    }
    let docs: serde_json::Map<String, Value> = [
        "application",
        "commitment_letter",
        "floor_plans",
        "business_licence",
        "qualification_certificate",
        "construction_plan",
        "supervisor_id",
        "supervisor_photo",
        "worker_register",
    ]
    .into_iter()
    .map(|d| (d.to_owned(), json!(true)))
    .collect();
    // The owner's papers are recorded at registration; the contractor's come later.
    let owners: serde_json::Map<String, Value> =
        ["application", "commitment_letter", "floor_plans"]
            .into_iter()
            .map(|d| (d.to_owned(), json!(true)))
            .collect();
    desk.put(
        &format!("/api/v1/renovations/{id}/documents"),
        &Value::Object(owners),
    )
    .unwrap();
    let detail = desk.get(&format!("/api/v1/renovations/{id}")).unwrap();
    let missing_docs = detail["missing_documents"].as_array().unwrap();
    assert_eq!(missing_docs.len(), docs.len() - 3, "{detail}");
    assert!(!missing_docs.contains(&json!("application")), "{detail}");
    assert_eq!(detail["ledger"]["deposit_cents"], 500000, "{detail}");

    // Three workers; each collects their card at the kiosk with the code, their ID's end and
    // the collection code the desk gave.
    let ids = [
        "110105194912310021",
        "110105194912310039",
        "110105194912310047",
    ];
    let mut cards = Vec::new();
    for (n, id_number) in ids.iter().enumerate() {
        let worker = desk
            .post(
                &format!("/api/v1/renovations/{id}/workers"),
                &json!({"name": format!("张三{n}"), "phone": "13912345678", "id_number": id_number}),
            )
            .unwrap();
        // The desk gives the contractor each worker's one-time collection code.
        let collection = worker["collection_code"].as_str().unwrap().to_owned();
        let pass = send(
            "POST /api/worker-cards",
            http_client()
                .post(format!("{}/api/worker-cards", system.kiosk_url().unwrap()))
                .json(&json!({"renovation_code": code, "id_last4": &id_number[14..], "collection_code": collection})),
        )
        .unwrap();
        assert_eq!(pass.0, 200, "{}", pass.1);
        let pass = pass.1;
        assert_eq!(pass["kind"], "worker", "{pass}");
        assert_eq!(pass["unit_label"], unit_label.as_str(), "{pass}");
        let credential = pass["credential"].as_str().unwrap().to_owned();
        wait_for("the kiosk to print", Duration::from_secs(5), || {
            kiosk::printed(&system.kiosk_files)
                .windows(credential.len())
                .any(|w| w == credential.as_bytes())
                .then_some(())
        })
        .unwrap();
        cards.push((pass["card_id"].as_u64().unwrap(), credential));
    }
    let (_, worker) = cards[0].clone();
    let all = [ENTRANCE, FLOOR, OTHER];
    let doors = [ENTRANCE, FLOOR];

    // A blackout date the manager adds reaches the gates.
    let workday = weekday_from(t + Days::days(1));
    let blackout = weekday_from(workday + Days::days(1));
    let before = cursors(&system, &all);
    admin
        .post(
            "/api/v1/blackout-dates",
            &json!({"date": blackout, "note": "e2e holiday"}),
        )
        .unwrap();
    wait_synced_past(&system, &all, &before);

    // Inside working hours on a working day: the entrance and the renovation's floor open,
    // another floor does not.
    gates_offline_at(&mut system, &all, workday, 10);
    scan_until(
        &mut system,
        ENTRANCE,
        &worker,
        true,
        None,
        "entrance, 10:00",
    );
    scan_until(&mut system, FLOOR, &worker, true, None, "floor, 10:00");
    scan_until(
        &mut system,
        OTHER,
        &worker,
        false,
        Some("wrong_zone"),
        "another floor, 10:00",
    );

    // Outside hours: at lunch and in the evening.
    for hh in [13, 20] {
        gates_offline_at(&mut system, &doors, workday, hh);
        scan_at_each(
            &mut system,
            &doors,
            &worker,
            false,
            Some("outside_hours"),
            &format!("{hh}:00"),
        );
    }

    // The blackout date: denied even inside hours.
    gates_offline_at(&mut system, &doors, blackout, 10);
    scan_at_each(
        &mut system,
        &doors,
        &worker,
        false,
        Some("blackout"),
        "on a blackout date",
    );

    // After its printed end the card is expired, until the desk extends the renovation.
    let after_print = weekday_from(printed_end + Days::days(1));
    gates_offline_at(&mut system, &doors, after_print, 10);
    scan_at_each(
        &mut system,
        &doors,
        &worker,
        false,
        Some("expired"),
        "past the printed end",
    );
    gates_online(&mut system, &doors);
    let before = cursors(&system, &doors);
    let extended = desk
        .post(
            &format!("/api/v1/renovations/{id}/extensions"),
            &json!({"new_end_date": t + Months::new(1)}),
        )
        .unwrap();
    wait_synced_past(&system, &doors, &before);
    let mut extended_cards: Vec<u64> = extended["cards_extended"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    extended_cards.sort_unstable();
    let mut card_ids: Vec<u64> = cards.iter().map(|(c, _)| *c).collect();
    card_ids.sort_unstable();
    assert_eq!(extended_cards, card_ids, "every card follows the extension");
    gates_offline_at(&mut system, &doors, after_print, 10);
    scan_at_each(
        &mut system,
        &doors,
        &worker,
        true,
        None,
        "past the printed end, after the extension",
    );

    // One card is lost: both gates, online again, deny it within a second.
    gates_online(&mut system, &doors);
    let (lost_id, lost) = cards[2].clone();
    for gate in doors {
        let d = system.gates[gate].scan(&lost).unwrap();
        assert_ne!(d.reason.as_deref(), Some("lost"), "before the loss: {d:?}");
    }
    desk.post(
        &format!("/api/v1/cards/{lost_id}/lost"),
        &json!({"fee_cents": 5000}),
    )
    .unwrap();
    let declared = Instant::now();
    scan_at_each(
        &mut system,
        &doors,
        &lost,
        false,
        Some("lost"),
        "the lost card",
    );
    let both = declared.elapsed();
    eprintln!("the lost card was denied at both gates {both:?} after it was declared lost");
    assert!(
        both < Duration::from_secs(1),
        "both gates denied the lost card after {both:?}"
    );

    // Two cards come back at the desk as the scanner reads them.
    for (card_id, text) in &cards[..2] {
        let back = desk
            .post(
                "/api/v1/cards/return",
                &json!({"credential": format!("{text}\r\n")}),
            )
            .unwrap();
        assert_eq!(back["card_id"].as_u64(), Some(*card_id), "{back}");
        assert_eq!(back["state"], "returned", "{back}");
    }

    // The refund is refused and names every rule still unmet.
    let unmet_now = unmet(&desk, id);
    let rules: Vec<&str> = unmet_now.iter().map(|(rule, _)| rule.as_str()).collect();
    assert_eq!(
        rules,
        [
            "inspection_passed",
            "occupancy_and_downstairs",
            "documents_complete",
            "certificate_and_receipt"
        ]
    );
    let (status, refused) = desk
        .post_raw(&format!("/api/v1/renovations/{id}/refund"), &json!({}))
        .unwrap();
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"], "refund_rules_unmet", "{refused}");
    let message = refused["message"].as_str().unwrap();
    eprintln!("refund refused: {message}");
    for (_, reason) in &unmet_now {
        assert!(
            message.contains(reason.as_str()),
            "{message:?} lacks {reason:?}"
        );
    }

    // Inspection, occupancy more than three months ago, sign-off, documents, papers.
    desk.put(
        &format!("/api/v1/renovations/{id}/progress"),
        &json!({
            "inspection_passed_on": t - Months::new(4), "occupied_on": t - Months::new(3),
            "downstairs_signed_off": true, "certificate_presented": true, "receipt_presented": true,
        }),
    )
    .unwrap();
    desk.put(
        &format!("/api/v1/renovations/{id}/documents"),
        &Value::Object(docs),
    )
    .unwrap();
    assert_eq!(unmet(&desk, id), []);

    // The clerk asks; a manager approves and the refund is paid (the default setting).
    let asked = desk
        .post(&format!("/api/v1/renovations/{id}/refund"), &json!({}))
        .unwrap();
    assert_eq!(asked["status"], "awaiting_approval", "{asked}");
    let refund = admin
        .post(&format!("/api/v1/renovations/{id}/refund"), &json!({}))
        .unwrap();
    assert_eq!(refund["status"], "paid", "{refund}");
    assert_eq!(refund["approved_by"], "manager:admin", "{refund}");
    assert_eq!(refund["deposit_cents"], 500000, "{refund}");
    assert_eq!(
        refund["deductions_cents"], 5000,
        "the lost card's fee: {refund}"
    );
    assert_eq!(refund["amount_cents"], 495000, "{refund}");

    let verified = admin.get("/api/v1/audit/verify").unwrap();
    eprintln!("audit verify: {verified}");
    assert_eq!(verified["ok"], true, "{verified}");
}

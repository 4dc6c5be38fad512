//! A lane with an entry reader and an exit reader on one controller, each a real pty:
//! directional anti-passback and the direction in the journal.

use crate::support::*;
use gatehouse_credential::api::gate::{Direction, GateEvent};
use serde_json::json;

/// Somebody walks through while the relay is open (each post returns once the gate has
/// seen the contact).
async fn walk_through(gate: &GateProc) {
    gate.post("/sim/door", json!({"open": true})).await;
    gate.post("/sim/door", json!({"open": false})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entry_then_exit_then_entry_is_admitted_but_a_second_entry_is_denied() {
    let dir = tempfile::tempdir().unwrap();
    let mut gate = GateProc::start(
        dir.path(),
        GateOptions {
            exit_scanner: true,
            extra_door: "anti_passback = \"hard\"\nanti_passback_minutes = 10".into(),
            pulse_ms: 1500,
            // Same card on the same reader again at once: anti-passback, not the debounce.
            debounce_ms: 0,
            ..GateOptions::default()
        },
    );
    let s = gate.status().await;
    assert_eq!(s["exit_scanner"]["connected"], true, "{s:#}");
    let card = pass(401);
    let decided = |n: usize| move |s: &serde_json::Value| decisions(s).len() >= n;

    gate.scan(&card);
    gate.wait_for(5, "entry admitted", decided(1)).await;
    walk_through(&gate).await;
    // In again without going out.
    gate.scan(&card);
    gate.wait_for(5, "second entry", decided(2)).await;
    gate.scan_exit(&card);
    gate.wait_for(5, "exit", decided(3)).await;
    walk_through(&gate).await;
    gate.scan(&card);
    let s = gate.wait_for(5, "entry after exit", decided(4)).await;

    assert_eq!(
        decisions(&s),
        vec![
            (Some(401), true, None),
            (Some(401), false, Some("anti_passback".into())),
            (Some(401), true, None),
            (Some(401), true, None),
        ]
    );
    let shown: Vec<_> = s["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["direction"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(shown, vec!["entry", "entry", "exit", "entry"]);

    let journal: Vec<_> = gate
        .journal()
        .into_iter()
        .filter(|e| {
            matches!(
                e.event,
                GateEvent::Admitted { .. } | GateEvent::Denied { .. }
            )
        })
        .map(|e| (e.direction, matches!(e.event, GateEvent::Admitted { .. })))
        .collect();
    assert_eq!(
        journal,
        vec![
            (Some(Direction::Entry), true),
            (Some(Direction::Entry), false),
            (Some(Direction::Exit), true),
            (Some(Direction::Entry), true),
        ]
    );
    assert_eq!(gate.terminate().code(), Some(0));
    assert!(
        !dir.path().join("exit-scanner").exists(),
        "the exit reader's link is removed at stop"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_power_cut_the_lane_still_knows_who_is_inside() {
    let dir = tempfile::tempdir().unwrap();
    let options = || GateOptions {
        exit_scanner: true,
        extra_door: "anti_passback = \"hard\"\nanti_passback_minutes = 10".into(),
        pulse_ms: 1500,
        debounce_ms: 0,
        ..GateOptions::default()
    };
    let card = pass(402);
    let mut gate = GateProc::start(dir.path(), options());
    gate.scan(&card);
    gate.wait_for(5, "entry admitted", |s| !decisions(s).is_empty())
        .await;
    walk_through(&gate).await;
    gate.kill9();
    drop(gate);

    let mut gate = GateProc::start(dir.path(), options());
    gate.scan(&card);
    gate.wait_for(5, "entry after the restart", |s| !decisions(s).is_empty())
        .await;
    gate.scan_exit(&card);
    let s = gate
        .wait_for(5, "exit after the restart", |s| decisions(s).len() >= 2)
        .await;
    assert_eq!(
        decisions(&s),
        vec![
            (Some(402), false, Some("anti_passback".into())),
            (Some(402), true, None),
        ],
        "in twice is refused across the restart; going out is not"
    );
    assert_eq!(gate.terminate().code(), Some(0));
}

/// The levels and times of one relay's transitions on the status page.
fn transitions(s: &serde_json::Value, relay: &str) -> Vec<(String, chrono::DateTime<chrono::Utc>)> {
    s["door"][relay]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["level"].as_str().unwrap().to_owned(),
                t["at"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turnstile_lane_pulses_open_a_for_entries_and_open_b_for_exits() {
    let dir = tempfile::tempdir().unwrap();
    let mut gate = GateProc::start(
        dir.path(),
        GateOptions {
            exit_scanner: true,
            extra_door: "turnstile = true".into(),
            pulse_ms: 300,
            ..GateOptions::default()
        },
    );
    let pulsed = |relay: &'static str| {
        move |s: &serde_json::Value| {
            transitions(s, relay).last().map(|t| t.0.as_str()) == Some("locked")
                && transitions(s, relay).len() == 3
        }
    };
    gate.scan(&pass(501));
    let s = gate
        .wait_for(5, "open A", pulsed("relay_transitions"))
        .await;
    assert_eq!(transitions(&s, "exit_relay_transitions").len(), 1, "{s:#}");
    gate.scan_exit(&pass(502));
    let s = gate
        .wait_for(5, "open B", pulsed("exit_relay_transitions"))
        .await;
    assert_eq!(
        transitions(&s, "relay_transitions").len(),
        3,
        "A moved once: {s:#}"
    );
    for relay in ["relay_transitions", "exit_relay_transitions"] {
        let t = transitions(&s, relay);
        let levels: Vec<&str> = t.iter().map(|t| t.0.as_str()).collect();
        assert_eq!(levels, ["locked", "unlocked", "locked"], "{relay}");
        let pulse = t[2].1 - t[1].1;
        assert!(
            pulse >= chrono::Duration::milliseconds(300) && pulse < chrono::Duration::seconds(2),
            "{relay} pulse {pulse}"
        );
    }
}

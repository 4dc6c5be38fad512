//! Fire alarm and evacuation on the real binary: the door is released with the server down
//! and storage refusing every write, egress still works, and what happened is journalled
//! once storage works again.

use crate::support::*;
use chrono::{DateTime, Utc};
use gatehouse_credential::api::gate::{AlarmKind, ChangeEvent, GateEvent};
use serde_json::{Value, json};

/// The relay levels the status page lists, oldest first.
fn levels(s: &Value) -> Vec<String> {
    s["door"]["relay_transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["level"].as_str().unwrap().to_owned())
        .collect()
}

fn last_level(s: &Value) -> Option<String> {
    levels(s).pop()
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

/// Makes the kernel refuse every write past the first byte of any file the gate writes, as
/// a full or failing SD card does; `false` lifts the limit.
fn refuse_writes(gate: &GateProc, refuse: bool) {
    gatehouse_e2e::process::refuse_writes(gate.child.id(), refuse).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fire_releases_within_100ms_with_the_server_down_and_storage_refusing_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (mut gate, stub, _) = start_synced(dir.path(), GateOptions::default()).await;
    stub.gate().offline = true;
    refuse_writes(&gate, true);

    // Egress does not depend on storage: the exit button opens the door although its entry
    // cannot be written.
    gate.post("/sim/exit", json!({})).await;
    let s = gate
        .wait_for(5, "the exit request to unlock", |s| {
            last_level(s).as_deref() == Some("unlocked")
        })
        .await;
    assert_eq!(s["journal"]["failing"], true, "the fault is real: {s:#}");
    gate.wait_for(5, "the pulse to end", |s| {
        last_level(s).as_deref() == Some("locked")
    })
    .await;

    // An admission does wait for its entry: the door stays shut.
    let card = pass(601);
    gate.scan(&card);
    let s = gate
        .wait_for(5, "the scan", |s| decisions(s).len() == 1)
        .await;
    assert_eq!(last_level(&s).as_deref(), Some("locked"), "{s:#}");
    let before_fire = levels(&s).len();

    gate.post("/sim/fire", json!({"active": true})).await;
    let s = gate
        .wait_for(5, "the fire release", |s| levels(s).len() > before_fire)
        .await;
    assert_eq!(s["emergency"]["fire_alarm"], true);
    assert_eq!(s["emergency"]["released"], true);
    let released = &s["door"]["relay_transitions"][before_fire];
    assert_eq!(released["level"], "unlocked", "{s:#}");
    let changed = s["sim"]["fire_alarm_transitions"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(changed["high"], true);
    let latency = time(&released["at"]) - time(&changed["at"]);
    assert!(
        latency <= chrono::Duration::milliseconds(100),
        "fire input → relay took {latency}"
    );

    // While it lasts, a scan is decided and recorded but changes nothing.
    gate.scan(&pass(602));
    let s = gate
        .wait_for(5, "the scan during the alarm", |s| decisions(s).len() == 2)
        .await;
    assert_eq!(levels(&s).len(), before_fire + 1, "{s:#}");
    assert_eq!(last_level(&s).as_deref(), Some("unlocked"));

    gate.post("/sim/fire", json!({"active": false})).await;
    gate.wait_for(5, "the relock after the alarm clears", |s| {
        last_level(s).as_deref() == Some("locked")
    })
    .await;

    // Storage back: every entry made meanwhile is journalled, in order.
    refuse_writes(&gate, false);
    gate.wait_for(5, "the unwritten entries", |s| {
        s["journal"]["unwritten"] == 0 && s["journal"]["failing"] == false
    })
    .await;
    // The admit held for want of storage is in the journal too; what matters here is that
    // the exit, the alarm, the scan during it and the clear all are, in this order.
    let events: Vec<GateEvent> = gate
        .journal()
        .into_iter()
        .map(|e| e.event)
        .filter(|e| match e {
            GateEvent::Alarm { alarm } => {
                matches!(alarm, AlarmKind::FireAlarm | AlarmKind::FireAlarmCleared)
            }
            GateEvent::ExitRequest | GateEvent::Admitted { .. } => true,
            _ => false,
        })
        .collect();
    let fire = GateEvent::Alarm {
        alarm: AlarmKind::FireAlarm,
    };
    let cleared = GateEvent::Alarm {
        alarm: AlarmKind::FireAlarmCleared,
    };
    let admitted = GateEvent::Admitted { flag: None };
    assert_eq!(
        events,
        [
            GateEvent::ExitRequest,
            admitted.clone(),
            fire,
            admitted,
            cleared
        ],
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evacuation_outranks_lockdown_and_outlives_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (mut gate, stub, server) = start_synced(dir.path(), GateOptions::default()).await;

    // Started while this gate could not reach the server: released once it can.
    stub.gate().offline = true;
    gate.wait_for(10, "the gate to notice", |s| {
        s["sync"]["server_reachable"] == false
    })
    .await;
    stub.push(ChangeEvent::Evacuation { active: true });
    stub.gate().offline = false;
    gate.wait_for(5, "the release on reconnecting", |s| {
        s["emergency"]["released"] == true && last_level(s).as_deref() == Some("unlocked")
    })
    .await;

    stub.push(ChangeEvent::Lockdown { active: true });
    let s = gate
        .wait_for(5, "the lockdown", |s| s["sync"]["lockdown"] == true)
        .await;
    assert_eq!(last_level(&s).as_deref(), Some("unlocked"), "{s:#}");

    // Restarted with the server gone: it keeps the emergency state it last had.
    gate.terminate();
    stub.gate().offline = true;
    drop(gate);
    let gate = GateProc::start(
        dir.path(),
        GateOptions {
            server: Some(server),
            ..GateOptions::default()
        },
    );
    let s = gate.status().await;
    assert_eq!(s["emergency"]["evacuation"], true, "{s:#}");
    assert_eq!(
        levels(&s),
        ["locked", "unlocked"],
        "locked first, then released"
    );

    // The end of the evacuation leaves the lockdown in force.
    stub.gate().offline = false;
    stub.push(ChangeEvent::Evacuation { active: false });
    let s = gate
        .wait_for(10, "the end of the evacuation", |s| {
            s["emergency"]["evacuation"] == false
        })
        .await;
    assert_eq!(last_level(&s).as_deref(), Some("locked"), "{s:#}");
    assert_eq!(s["sync"]["lockdown"], true);
}

//! The scanner vanishes (a USB scanner unplugged) and comes back; the door hardware inputs.

use crate::support::*;
use gatehouse_credential::api::gate::{AlarmKind, GateEvent};
use serde_json::json;
use serialport::{SerialPort, TTYPort};

/// A pty pair whose slave is reachable through `link`, like a udev symlink.
fn plug(link: &std::path::Path) -> TTYPort {
    let (master, slave) = pty_pair();
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(slave.name().unwrap(), link).unwrap();
    master
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unplugged_scanner_raises_an_alarm_and_is_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttyScanner");
    let master = plug(&link);
    let mut gate = GateProc::start_with(
        dir.path(),
        &GateOptions::default(),
        Scanner::Port {
            master,
            slave_path: link.display().to_string(),
        },
    );
    gate.wait_for(5, "scanner open", |s| s["scanner"]["connected"] == true)
        .await;
    gate.scan(&pass(800));
    gate.wait_for(5, "first scan", |s| decisions(s).len() == 1)
        .await;
    // Unplug: the pty disappears and the link dangles.
    gate.scanner = Scanner::Sim(dir.path().join("unused"));
    gate.wait_for(5, "scanner lost", |s| s["scanner"]["connected"] == false)
        .await;
    // Plug a scanner back in at the same path.
    let master = plug(&link);
    gate.scanner = Scanner::Port {
        master,
        slave_path: link.display().to_string(),
    };
    gate.wait_for(5, "scanner back", |s| s["scanner"]["connected"] == true)
        .await;
    gate.scan(&pass(801));
    let s = gate
        .wait_for(5, "scan after replug", |s| decisions(s).len() == 2)
        .await;
    assert_eq!(decisions(&s)[1], (Some(801), true, None));
    let lost = gate
        .journal()
        .iter()
        .filter(|e| {
            e.event
                == GateEvent::Alarm {
                    alarm: AlarmKind::ScannerLost,
                }
        })
        .count();
    assert_eq!(lost, 1, "one alarm per disappearance");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_door_and_exit_button_through_the_sim_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let gate = GateProc::start(
        dir.path(),
        GateOptions {
            pulse_ms: 500,
            ..GateOptions::default()
        },
    );
    // Opened with no admit and no exit request: forced.
    gate.post("/sim/door", json!({"open": true})).await;
    let s = gate
        .wait_for(5, "forced-door alarm", |s| {
            !s["alarms"].as_array().unwrap().is_empty()
        })
        .await;
    assert_eq!(s["alarms"][0]["alarm"], "door_forced");
    gate.post("/sim/door", json!({"open": false})).await;
    gate.wait_for(5, "door closed", |s| s["door"]["contact"] == "closed")
        .await;
    // The exit button opens the relay for the pulse.
    gate.post("/sim/exit", json!({})).await;
    let s = gate
        .wait_for(5, "exit pulse over", |s| {
            s["door"]["relay_transitions"].as_array().unwrap().len() == 3
        })
        .await;
    let levels: Vec<_> = s["door"]["relay_transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["level"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(levels, vec!["locked", "unlocked", "locked"]);
    assert!(
        gate.journal()
            .iter()
            .any(|e| e.event == GateEvent::ExitRequest)
    );
}

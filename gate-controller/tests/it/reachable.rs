//! The status says the server is reachable as soon as any call to it succeeded, not only when
//! a long poll returns.

use crate::support::*;
use gatehouse_credential::api::device::DeviceKind;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetched_snapshot_marks_the_server_reachable_while_the_long_poll_is_held() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, _stub) = stub::spawn(DeviceKind::Gate).await;
    let started = Instant::now();
    let gate = GateProc::start(
        dir.path(),
        GateOptions {
            server: Some(format!("http://{addr}")),
            // Nothing changes on the stub: the first long poll is held this long.
            wait_ms: 25_000,
            ..GateOptions::default()
        },
    );
    let s = gate
        .wait_for(10, "reachable after the snapshot", |s| {
            s["sync"]["server_reachable"] == true
        })
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "reachable only after the long poll returned"
    );
    assert!(s["sync"]["last_sync"].is_string(), "{s:#}");
    assert!(s["sync"]["last_error"].is_null(), "{s:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledged_upload_marks_the_server_reachable() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, stub) = stub::spawn(DeviceKind::Gate).await;
    // The change loop is stuck on a snapshot that never comes; uploads still work.
    stub.gate().snapshot_hangs = true;
    let mut gate = GateProc::start(
        dir.path(),
        GateOptions {
            server: Some(format!("http://{addr}")),
            ..GateOptions::default()
        },
    );
    gate.wait_for(10, "enrolment", |s| s["sync"]["device_id"] == "gate-lobby")
        .await;
    let s = gate.status().await;
    assert_eq!(s["sync"]["server_reachable"], false, "{s:#}");
    // No keys yet (no snapshot): the scan is denied, and its journal entry is uploaded.
    gate.scan(&pass(301));
    let s = gate
        .wait_for(5, "upload acknowledged", |s| {
            s["sync"]["uploaded"].as_u64() >= Some(1)
        })
        .await;
    assert_eq!(s["sync"]["server_reachable"], true, "{s:#}");
    assert!(s["sync"]["last_sync"].is_string(), "{s:#}");
    assert_eq!(
        decisions(&s),
        vec![(None, false, Some("unknown_key".into()))]
    );
    assert_eq!(stub.gate().stored.len(), 1);
}

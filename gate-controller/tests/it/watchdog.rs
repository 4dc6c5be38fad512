//! The systemd watchdog is petted by the loop that owns the door state, and only while it runs.

use crate::support::*;
use serde_json::json;
use std::os::unix::net::UnixDatagram;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_door_loop_stops_petting_the_watchdog() {
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    let pets: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let seen = pets.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        while let Ok(n) = socket.recv(&mut buf) {
            if String::from_utf8_lossy(&buf[..n])
                .lines()
                .any(|l| l == "WATCHDOG=1")
            {
                seen.lock().unwrap().push(Instant::now());
            }
        }
    });
    let gate = GateProc::start(
        dir.path(),
        GateOptions {
            env: vec![
                ("NOTIFY_SOCKET", socket_path.display().to_string()),
                // systemd's WatchdogSec=0.4: the gate pets every 0.2 s.
                ("WATCHDOG_USEC", "400000".into()),
            ],
            ..GateOptions::default()
        },
    );
    let count = || pets.lock().unwrap().len();
    let deadline = Instant::now() + Duration::from_secs(10);
    while count() < 3 {
        assert!(
            Instant::now() < deadline,
            "no WATCHDOG=1 from a running gate"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let stall = Duration::from_millis(2000);
    let stalled_at = Instant::now();
    gate.post("/sim/stall", json!({"ms": stall.as_millis() as u64}))
        .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while !pets.lock().unwrap().iter().any(|t| *t > stalled_at + stall) {
        assert!(Instant::now() < deadline, "petting never resumed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pets = pets.lock().unwrap().clone();
    // Around the stall, the longest silence is the stall itself (less what had passed of the
    // interval before it began); elsewhere a pet comes at least every interval.
    let longest = pets
        .windows(2)
        .filter(|w| w[1] > stalled_at)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap();
    assert!(
        longest >= stall - Duration::from_millis(250),
        "the watchdog was petted during a stalled door loop (longest silence {longest:?})"
    );
}

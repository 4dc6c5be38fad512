//! Journal upload after an outage: N entries (default 10,000) queued while the server was
//! away reach the real server after reconnect; how long until the gate's journal has nothing
//! left to send, and whether the server holds each entry exactly once.
//!
//! `cargo bench -p gatehouse-gate --bench upload` (release) or with `--profile dev`; the
//! server binary is taken from the same target directory (`GATEHOUSE_BIN_DIR` overrides it)
//! and built there when missing. `GATE_UPLOAD_ENTRIES` sets N, `GATE_UPLOAD_BATCH` the batch.

use chrono::Utc;
use gatehouse_credential::api::device::DeviceKind;
use gatehouse_credential::api::gate::{DenyReason, GateEvent};
use gatehouse_credential::claims::{CardId, Kind};
use gatehouse_e2e::estate::Estate;
use gatehouse_e2e::server::{self, Api};
use gatehouse_gate::clock::ServerTimeFeed;
use gatehouse_gate::config::SyncConfig;
use gatehouse_gate::core::Entry;
use gatehouse_gate::journal::Journal;
use gatehouse_gate::sync::{GateClient, SyncStatus, SyncTasks};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc};

const GOAL: Duration = Duration::from_secs(5);

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A gate's day: mostly admissions, some denials and alarms.
fn entry(i: usize) -> Entry {
    let event = match i % 10 {
        0 => GateEvent::Denied {
            reason: DenyReason::Expired,
        },
        9 => GateEvent::ExitRequest,
        _ => GateEvent::Admitted { flag: None },
    };
    let scan = !matches!(event, GateEvent::ExitRequest);
    Entry {
        card_id: scan.then_some(CardId(1_000 + i as u32)),
        kind: scan.then_some(Kind::Visitor),
        event,
        direction: None,
        area: None,
        unlocks: false,
    }
}

fn main() {
    let n = env_or("GATE_UPLOAD_ENTRIES", 10_000);
    let batch = env_or("GATE_UPLOAD_BATCH", 500);
    let dir = tempfile::tempdir().expect("temp dir");

    // The server, with the example estate and this gate's device.
    let server_dir = dir.path().join("server");
    let server = server::start(&server_dir).expect("start gatehouse-server");
    let api = Api::admin(server.url()).expect("log in");
    let estate = Estate::example();
    api.create_estate(&estate).expect("estate");
    let zone = &estate.doors[0].zone;
    let device = api
        .create_device(DeviceKind::Gate, "upload bench", Some(zone))
        .expect("device");

    // The outage: N entries journalled (durably, one commit each, as the gate does).
    let gate_dir = dir.path().join("gate");
    std::fs::create_dir_all(&gate_dir).unwrap();
    let queued = Instant::now();
    let mut journal = Journal::open(&gate_dir.join("journal.sqlite"), 100_000).unwrap();
    for i in 0..n {
        journal.append(&entry(i), Utc::now(), true).unwrap();
    }
    eprintln!("{n} entries queued offline in {:?}", queued.elapsed());
    assert_eq!(journal.pending().unwrap(), n as u64);
    let journal = Arc::new(Mutex::new(journal));

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // Enrolled before the outage: the device key is on disk.
    rt.block_on(async {
        GateClient::new(server.url())
            .unwrap()
            .enrol_or_load(&gate_dir, Some(&device.enrolment_token))
            .await
            .expect("enrol");
    });

    // Reconnect: the sync tasks start; time until nothing is left to send.
    let (updates, mut updates_rx) = mpsc::channel(64);
    let status = Arc::new(Mutex::new(SyncStatus::default()));
    let tasks = SyncTasks {
        config: SyncConfig {
            server: server.url().to_owned(),
            enrolment_token: None,
            wait_ms: 25_000,
            upload_batch: batch,
            max_backoff_secs: 1,
        },
        data_dir: gate_dir.clone(),
        token: None,
        cursor: 0,
        updates,
        journal: journal.clone(),
        journal_written: Arc::new(Notify::new()),
        status: status.clone(),
        server_time: ServerTimeFeed::default(),
        reports: mpsc::unbounded_channel().1,
        door: Arc::default(),
    };
    let started = Instant::now();
    let elapsed = rt.block_on(async move {
        tokio::spawn(async move { while updates_rx.recv().await.is_some() {} });
        tokio::spawn(tasks.run());
        loop {
            let pending = journal.lock().unwrap().pending().unwrap();
            if pending == 0 {
                break started.elapsed();
            }
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "{pending} still unsent after 5 min"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    let uploaded = status.lock().unwrap().uploaded;
    drop(rt);

    // Exactly once: the server's own table, after it stopped.
    let db_path = server_dir.join("gatehouse.db");
    server
        .terminate(Duration::from_secs(10))
        .expect("server stops");
    let db = rusqlite::Connection::open(&db_path).expect("server database");
    let (rows, ids): (i64, i64) = db
        .query_row(
            "SELECT count(*), count(DISTINCT id) FROM gate_events WHERE device_id = ?1",
            [&device.device_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("count gate_events");

    let rate = n as f64 / elapsed.as_secs_f64();
    println!(
        "journal upload after reconnect: {n} entries, batch {batch}: {:.2} s ({rate:.0} entries/s); \
         server rows {rows}, distinct ids {ids}; acknowledged {uploaded}; goal ≤ {:.0} s: {}",
        elapsed.as_secs_f64(),
        GOAL.as_secs_f64(),
        if elapsed <= GOAL { "met" } else { "NOT met" }
    );
    assert_eq!(
        (rows, ids),
        (n as i64, n as i64),
        "each entry stored exactly once"
    );
}

//! kill -9 in the middle of a burst of scans: nothing admitted is lost, nothing is uploaded
//! twice.

use crate::support::*;
use gatehouse_credential::api::gate::GateEvent;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_burst_then_restart_every_admit_journalled_and_uploaded_once() {
    let dir = tempfile::tempdir().unwrap();
    let options = || GateOptions {
        debounce_ms: 0,
        pulse_ms: 50,
        use_port: true,
        ..GateOptions::default()
    };
    let (mut gate, stub, server) = start_synced(dir.path(), options()).await;
    const BURST: u32 = 60;
    // The whole burst goes into the serial line at once; the gate dies part-way through it.
    let burst: String = (0..BURST)
        .map(|i| format!("{}\r", pass(1000 + i)))
        .collect();
    gate.scan_raw(burst.as_bytes());
    let before = gate
        .wait_for(10, "some decisions", |s| decisions(s).len() >= 10)
        .await;
    gate.kill9();
    let seen_admitted: HashSet<u64> = decisions(&before)
        .into_iter()
        .filter(|d| d.1)
        .filter_map(|d| d.0)
        .collect();
    let journal = gate.journal();
    let journalled: HashSet<u64> = journal
        .iter()
        .filter(|e| matches!(e.event, GateEvent::Admitted { .. }))
        .filter_map(|e| e.card_id.map(|c| u64::from(c.0)))
        .collect();
    assert!(
        seen_admitted.is_subset(&journalled),
        "admitted before the kill but not journalled: {:?}",
        seen_admitted.difference(&journalled)
    );
    let at_kill = journalled.len();

    // Restart on the same data dir and the same serial line: the rest of the burst is read.
    let scanner = std::mem::replace(&mut gate.scanner, Scanner::Sim(dir.path().join("unused")));
    drop(gate);
    let gate = GateProc::start_with(
        dir.path(),
        &GateOptions {
            server: Some(server),
            ..options()
        },
        scanner,
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let journal = loop {
        let journal = gate.journal();
        let admitted = journal
            .iter()
            .filter(|e| matches!(e.event, GateEvent::Admitted { .. }))
            .count();
        let pending = gate.status().await["journal"]["pending_uploads"].as_u64();
        // Lines the killed gate had read but not yet decided die with it, like scans during
        // a power cut (their relay never moved): the queue (4), the line in hand and one
        // 256-byte read buffer, so at most 8.
        if admitted as u32 >= BURST - 8 && pending == Some(0) {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if gate.status().await["journal"]["pending_uploads"].as_u64() == Some(0) {
                break gate.journal();
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "burst not finished: {admitted} admitted, pending {pending:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut per_card: HashMap<u64, u32> = HashMap::new();
    for e in &journal {
        if matches!(e.event, GateEvent::Admitted { .. }) {
            *per_card.entry(u64::from(e.card_id.unwrap().0)).or_default() += 1;
        }
    }
    assert!(
        per_card.values().all(|n| *n == 1),
        "a scan admitted twice: {per_card:?}"
    );
    let inner = stub.gate();
    let stored: Vec<_> = inner.stored.iter().map(|e| e.id).collect();
    let stored_set: HashSet<_> = stored.iter().copied().collect();
    assert_eq!(stored.len(), stored_set.len(), "server stored an id twice");
    let journal_ids: HashSet<_> = journal.iter().map(|e| e.id).collect();
    assert_eq!(
        stored_set, journal_ids,
        "server and journal differ after the upload"
    );
    eprintln!(
        "kill -9 after {at_kill} admits; {} admitted in all; {} uploads received for {} ids",
        per_card.len(),
        inner.received.values().sum::<u32>(),
        inner.received.len()
    );
}

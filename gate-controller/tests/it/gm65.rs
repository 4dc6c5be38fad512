//! The real gate binary against the GM65 emulator: a factory module is set up and saved, a
//! module already at 115200 is found and left alone, a reset is noticed and undone with an
//! alarm, a scanner that never answers is still read, a scan during setup is decided.

use crate::gm65_emulator::{Gm65, Quirks, factory};
use crate::support::*;
use gatehouse_credential::api::gate::{AlarmKind, GateEvent};
use serde_json::Value;

fn gate_on(dir: &std::path::Path, module: &Gm65) -> GateProc {
    GateProc::start_with(
        dir,
        &GateOptions::default(),
        Scanner::Port {
            master: module.master(),
            slave_path: module.path.clone(),
        },
    )
}

/// The zone bits the gate leaves in a module.
fn set_up() -> [u8; 256] {
    let mut z = factory();
    z[0x00] = 0xD6;
    z[0x03] = 0x02;
    z[0x13] = 0x85;
    z[0x2A] = 0x1A;
    z[0x2B] = 0x00;
    z
}

fn assert_set_up(zones: &[u8; 256]) {
    assert_eq!(zones[0x0D] & 0x03, 0x00, "serial output");
    assert_eq!(zones[0x00] & 0x03, 0x02, "continuous mode");
    assert_eq!(zones[0x03], 0x02, "setting barcodes closed, not echoed");
    assert_eq!(zones[0x60], 0x01, "CR tail, nothing added");
    assert_eq!(zones[0x13], 0x85, "same-code delay 0.5 s");
    assert_eq!([zones[0x2A], zones[0x2B]], [0x1A, 0x00], "115200 baud");
}

fn setup_ok(s: &Value) -> bool {
    s["scanner"]["gm65_setup_ok"] == true
}

/// A gate on `module`, once it has set the module up.
async fn set_up_gate(dir: &std::path::Path, module: &Gm65) -> GateProc {
    let gate = gate_on(dir, module);
    gate.wait_for(20, "GM65 set up", setup_ok).await;
    gate
}

/// The status once the desk's alarm list shows the scanner misconfigured.
async fn misconfigured(gate: &GateProc) -> Value {
    gate.wait_for(20, "the scanner_misconfigured alarm", |s| {
        s["alarms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["alarm"] == "scanner_misconfigured")
    })
    .await
}

fn misconfigured_alarms(gate: &GateProc) -> usize {
    gate.journal()
        .iter()
        .filter(|e| {
            e.event
                == GateEvent::Alarm {
                    alarm: AlarmKind::ScannerMisconfigured,
                }
        })
        .count()
}

async fn admits(gate: &GateProc, module: &Gm65, card: u32) {
    let before = decisions(&gate.status().await).len();
    module.scan(&pass(card));
    let s = gate
        .wait_for(5, "the scan decided", |s| decisions(s).len() > before)
        .await;
    assert_eq!(decisions(&s)[before], (Some(u64::from(card)), true, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_factory_module_is_set_up_saved_once_and_read_at_115200() {
    let dir = tempfile::tempdir().unwrap();
    // Its first ACK comes later than the gate waits: the write is sent again.
    let module = Gm65::start(
        factory(),
        Quirks {
            slow_first_ack: Some(std::time::Duration::from_millis(700)),
            ..Quirks::default()
        },
    );
    let gate = set_up_gate(dir.path(), &module).await;
    {
        let m = module.state();
        assert_set_up(&m.eeprom);
        assert_eq!(m.ram, m.eeprom);
        assert_eq!(m.saves(), 1, "saved to EEPROM once");
        assert_eq!(m.host_baud, Some(115200), "the gate reads at 115200");
        let mut writes = m.writes();
        writes.dedup();
        // 0x000D and 0x0060 already held what the gate needs: not written.
        assert_eq!(writes, vec![0x0000, 0x0003, 0x0013, 0x002A]);
    }
    admits(&gate, &module, 11).await;
    assert_eq!(misconfigured_alarms(&gate), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_already_at_115200_is_found_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let module = Gm65::start(set_up(), Quirks::default());
    let gate = set_up_gate(dir.path(), &module).await;
    assert_eq!(module.state().writes(), Vec::<u16>::new());
    assert_eq!(
        module.state().saves(),
        0,
        "no EEPROM write when nothing changed"
    );
    admits(&gate, &module, 12).await;
    assert_eq!(misconfigured_alarms(&gate), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_module_is_noticed_set_up_again_and_the_desk_is_told() {
    let dir = tempfile::tempdir().unwrap();
    let module = Gm65::start(factory(), Quirks::default());
    let gate = set_up_gate(dir.path(), &module).await;
    // A brown-out reloads RAM from EEPROM, where the setup was saved: nothing is lost.
    module.reset();
    admits(&gate, &module, 21).await;
    assert_eq!(misconfigured_alarms(&gate), 0);

    // Someone shows the factory "Reset" setting code: 9600 baud, setting barcodes open.
    module.factory_reset();
    // The next visitor's scan reaches the gate as noise at 115200 …
    module.scan(&pass(22));
    let s = misconfigured(&gate).await;
    assert!(decisions(&s).iter().all(|d| d.0 != Some(22)));
    // … which makes it look again: found at 9600, set up and saved again.
    gate.wait_for(20, "GM65 set up again", |s| {
        setup_ok(s) && s["scanner"]["baud"] == 115200
    })
    .await;
    assert_set_up(&module.state().eeprom);
    admits(&gate, &module, 22).await;
    assert_eq!(misconfigured_alarms(&gate), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scanner_that_never_answers_is_read_as_it_is_with_an_alarm() {
    let dir = tempfile::tempdir().unwrap();
    let module = Gm65::start(
        factory(),
        Quirks {
            mute: true,
            ..Quirks::default()
        },
    );
    let gate = gate_on(dir.path(), &module);
    let s = misconfigured(&gate).await;
    assert_eq!(s["scanner"]["gm65_setup_ok"], false);
    assert_eq!(s["scanner"]["baud"], 9600, "read at the configured speed");
    admits(&gate, &module, 31).await;
    let log = std::fs::read_to_string(dir.path().join("gate.log")).unwrap();
    assert!(
        log.contains("does not answer GM65 commands at any speed"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_during_setup_is_decided_and_the_setup_completes() {
    let dir = tempfile::tempdir().unwrap();
    let mut zones = set_up();
    zones[0x03] = 0x00; // setting barcodes open
    let module = Gm65::start(
        zones,
        Quirks {
            // Right before the module answers the read of 0x0003 (probe, 0x000D, 0x0000,
            // 0x0003): the scan and the reply arrive back to back.
            scan_before_reply: Some((4, pass(41))),
            ..Quirks::default()
        },
    );
    let gate = gate_on(dir.path(), &module);
    let s = gate
        .wait_for(20, "GM65 set up", |s| {
            setup_ok(s) && !decisions(s).is_empty()
        })
        .await;
    assert_eq!(decisions(&s), vec![(Some(41), true, None)]);
    assert_set_up(&module.state().eeprom);
    assert_eq!(module.state().saves(), 1);
}

//! Time on an estate LAN, with the real server, kiosk and gate: a gate whose NTP daemon has
//! not synchronised (or cannot be asked) trusts its clock when the server's time agrees; a
//! clock behind the last trusted time waits for the server; a last trusted time taken from a
//! clock that ran ahead is corrected by the server, with an alarm the desk sees.
//!
//! The gate's wall clock is moved with its simulation-only knobs (`[clock] sim_offset_file`,
//! `GATEHOUSE_SIM_CLOCK_OFFSET_SECS`); the NTP daemon is stood in for by the timesyncd flag
//! file the gate is pointed at.

use gatehouse_credential::{Zone, ZoneClass};
use gatehouse_e2e::estate::{BUILDING, VISITED_FLOOR};
use gatehouse_e2e::gate::GateStatus;
use gatehouse_e2e::system::System;
use gatehouse_e2e::{kiosk, wait_for};
use std::path::Path;
use std::time::Duration;

/// The server, a kiosk and one entrance gate, and a visitor pass for that entrance.
fn system_with_pass() -> (System, String) {
    let entrance = Zone {
        building: BUILDING,
        class: ZoneClass::Entrance,
        floor: None,
    };
    let system = System::launch(&[entrance], true).unwrap();
    let unit = format!("{BUILDING}-{VISITED_FLOOR}03");
    let pass =
        kiosk::register_visitor(system.kiosk_url().unwrap(), "Clock Visitor", &unit).unwrap();
    let credential = pass["credential"].as_str().unwrap().to_owned();
    (system, credential)
}

/// Waits until the gate's status gives `reason` for trusting its clock or not, then scans the
/// pass: admitted with a trusted clock, denied with `untrusted_clock` without.
fn scan_when_clock(system: &mut System, pass: &str, reason: &str, what: &str) {
    let url = system.gates[0].url().to_owned();
    wait_for(
        &format!("{what}: clock {reason}"),
        Duration::from_secs(20),
        || {
            let s = GateStatus::fetch(&url).ok()?;
            (s.clock_reason().as_deref() == Some(reason)).then_some(())
        },
    )
    .unwrap();
    let trusted = ["server_agrees", "ntp", "rtc", "not_contradicted"].contains(&reason);
    let d = system.gates[0].scan(pass).unwrap();
    if trusted {
        assert!(d.admitted, "{what}: {d:?}");
    } else {
        assert_eq!(
            (d.admitted, d.reason.as_deref()),
            (false, Some("untrusted_clock")),
            "{what}: {d:?}"
        );
    }
}

/// `[clock]` lines: NTP read from a timesyncd flag file at `flag`, and more.
fn flag_clock(flag: &Path, more: &str) -> String {
    format!(
        "ntp = \"timesyncd\"\nntp_flag = {:?}\n{more}",
        flag.display().to_string()
    )
}

#[test]
fn without_the_ntp_flag_the_server_vouches_for_the_clock_and_offline_the_flag_does() {
    let (mut system, pass) = system_with_pass();
    let flag = system.data_dir().join("timesync-synchronized");
    // chrony, ntpsec or an unreachable NTP server: timesyncd's flag never appears.
    system.gates[0].setup.clock_extra = flag_clock(&flag, "");
    system.restart_gate(0, None, true).unwrap();
    scan_when_clock(&mut system, &pass, "server_agrees", "flag absent");

    // Offline, nothing vouches for the clock until NTP synchronises it.
    system.restart_gate(0, None, false).unwrap();
    scan_when_clock(
        &mut system,
        &pass,
        "ntp_unsynchronised",
        "offline, flag absent",
    );
    std::fs::write(&flag, "").unwrap();
    scan_when_clock(&mut system, &pass, "ntp", "offline, flag appeared");
}

#[test]
fn a_fake_hwclock_boot_behind_the_last_trusted_time_waits_until_the_server_confirms_the_clock() {
    let (mut system, pass) = system_with_pass();
    let flag = system.data_dir().join("timesync-synchronized");
    std::fs::write(&flag, "").unwrap();
    let offset = system.data_dir().join("clock-offset");
    // The Pi was off for two hours; fake-hwclock set the time it saved at shutdown.
    std::fs::write(&offset, "-7200").unwrap();
    let more = format!("sim_offset_file = {:?}\n", offset.display().to_string());
    system.gates[0].setup.clock_extra = flag_clock(&flag, &more);

    // No network yet: the clock reads behind the last trusted time, even with NTP's flag up.
    system.restart_gate(0, None, false).unwrap();
    scan_when_clock(
        &mut system,
        &pass,
        "behind_last_trusted",
        "booted behind, offline",
    );
    // The server answers, two hours ahead of this clock: still not trusted.
    system.restart_gate(0, None, true).unwrap();
    scan_when_clock(
        &mut system,
        &pass,
        "server_disagrees",
        "booted behind, online",
    );
    // NTP steps the clock right; the server's time now agrees.
    std::fs::write(&offset, "0").unwrap();
    scan_when_clock(&mut system, &pass, "server_agrees", "clock set right");
}

#[test]
fn a_last_trusted_time_from_a_clock_that_ran_ahead_is_corrected_by_the_server_with_an_alarm() {
    let (mut system, pass) = system_with_pass();
    // Offline with a clock ten minutes ahead (beyond the 2-minute tolerance) and no NTP source
    // to contradict it, the gate trusts it and persists that time as its last trusted time
    // (at the latest when it stops).
    system.gates[0].setup.clock_extra = "ntp = \"none\"\n".into();
    system.restart_gate(0, Some(600), false).unwrap();
    let url = system.gates[0].url().to_owned();
    wait_for(
        "the clock running ahead to be trusted",
        Duration::from_secs(20),
        || (GateStatus::fetch(&url).ok()?.clock_trusted() == Some(true)).then_some(()),
    )
    .unwrap();

    // The clock is right again, but behind the poisoned last trusted time.
    system.restart_gate(0, None, false).unwrap();
    scan_when_clock(
        &mut system,
        &pass,
        "behind_last_trusted",
        "poisoned, offline",
    );

    // The server confirms the clock: the last trusted time is lowered, with an alarm.
    system.restart_gate(0, None, true).unwrap();
    scan_when_clock(
        &mut system,
        &pass,
        "server_agrees",
        "the server confirmed the clock",
    );
    let url = system.gates[0].url().to_owned();
    wait_for(
        "the gate's clock_corrected alarm",
        Duration::from_secs(10),
        || {
            let a = GateStatus::fetch(&url).ok()?.alarms();
            a.iter().any(|k| k == "clock_corrected").then_some(())
        },
    )
    .unwrap();
    wait_for(
        "the desk to see clock_corrected",
        Duration::from_secs(20),
        || {
            let list = system.api.get("/api/v1/alarms").ok()?;
            list.as_array()?
                .iter()
                .any(|a| a["kind"] == "clock_corrected")
                .then_some(())
        },
    )
    .unwrap();

    // The correction was persisted: restarted offline, the clock is trusted at once.
    system.restart_gate(0, None, false).unwrap();
    scan_when_clock(
        &mut system,
        &pass,
        "not_contradicted",
        "offline after the correction",
    );
}

//! `cargo run --release --bin gatehouse-demo`: the whole system on this machine with simulated
//! hardware — server, kiosk (file printer), an entrance gate and a floor gate (pty scanners,
//! simulated relays), enrolled, with the example estate. Data in `./demo-data`, reused on the
//! next run. Prints where everything is, then every relay transition and decision. Ctrl-C stops.

use anyhow::Context;
use gatehouse_credential::api::device::DeviceKind;
use gatehouse_e2e::estate::{Estate, VISITED_FLOOR};
use gatehouse_e2e::gate::{self, GateSetup, GateStatus, ScannerSource};
use gatehouse_e2e::kiosk::{self, KioskFiles};
use gatehouse_e2e::process::Running;
use gatehouse_e2e::programs;
use gatehouse_e2e::server::{self, Api};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The demo's manager password (the server keeps the first one it was given).
const DEMO_PASSWORD: &str = "gatehouse-demo";

/// `preferred` when it is free, else a port the OS picks (always, with `GATEHOUSE_DEMO_ANY_PORT`).
fn listen_addr(preferred: u16) -> String {
    if std::env::var_os("GATEHOUSE_DEMO_ANY_PORT").is_some() {
        return "127.0.0.1:0".into();
    }
    match TcpListener::bind(("127.0.0.1", preferred)) {
        Ok(_) => format!("127.0.0.1:{preferred}"),
        Err(_) => "127.0.0.1:0".into(),
    }
}

/// Builds the three programs when the demo was started by cargo, so it never runs stale ones.
fn build_programs() -> anyhow::Result<()> {
    if std::env::var_os("CARGO").is_none() {
        return Ok(());
    }
    let release = programs::bin_dir()?.ends_with("release");
    println!(
        "building the programs{} …",
        if release { " (release)" } else { "" }
    );
    programs::build_programs(None, release)
        .map_err(|e| anyhow::anyhow!("cargo build of the programs failed:\n{e}"))
}

struct DemoGate {
    label: &'static str,
    setup: GateSetup,
    process: Running,
}

fn main() -> anyhow::Result<()> {
    let data = PathBuf::from("demo-data");
    std::fs::create_dir_all(&data).context("creating ./demo-data")?;
    let data = data.canonicalize()?;
    build_programs()?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("installing the signal handlers")?;
    }

    let server_dir = data.join("server");
    std::fs::create_dir_all(&server_dir)?;
    let server = Running::start(server::launch(
        &server_dir,
        &listen_addr(8080),
        DEMO_PASSWORD,
    ))?;
    let base = server.url().to_owned();
    let api = Api::login(&base, "admin", DEMO_PASSWORD).context(
        "logging in as admin with the demo password (was ./demo-data made with another one?)",
    )?;

    let estate = Estate::example();
    let mut missing = Vec::new();
    if let Err(e) = api.create_estate(&estate) {
        missing.push(format!("the example estate could not be recorded: {e}"));
    }

    let entrance = &estate.doors[0];
    let floor_door = estate
        .doors
        .iter()
        .find(|d| d.zone.floor == Some(VISITED_FLOOR))
        .context("the example estate has no door on the visited floor")?;
    let mut gates = Vec::new();
    for (label, door, port) in [("entrance", entrance, 9181), ("floor-12", floor_door, 9182)] {
        let dir = data.join(format!("gate-{label}"));
        let mut setup = GateSetup::new(
            &dir,
            door.zone.clone(),
            ScannerSource::SimLink(dir.join("scanner")),
        );
        setup.pulse_ms = 3000;
        setup.debounce_ms = 3000;
        setup.server = Some(base.clone());
        if !setup.is_enrolled() {
            match api.create_device(DeviceKind::Gate, door.name, Some(&door.zone)) {
                Ok(device) => setup.enrolment_token = Some(device.enrolment_token),
                Err(e) => {
                    missing.push(format!(
                        "gate {label} not enrolled (it denies every pass): {e}"
                    ));
                    setup.server = None;
                }
            }
        }
        let process = Running::start(gate::launch(&setup, &listen_addr(port))?)?;
        gates.push(DemoGate {
            label,
            setup,
            process,
        });
    }

    let kiosk_files = KioskFiles::new(&data.join("kiosk"));
    let token = if kiosk_files.is_enrolled() {
        None
    } else {
        match api.create_device(DeviceKind::Kiosk, "大堂自助机 Lobby kiosk", None) {
            Ok(device) => Some(device.enrolment_token),
            Err(e) => {
                missing.push(format!("kiosk not started: it cannot enrol: {e}"));
                None
            }
        }
    };
    let kiosk = if kiosk_files.is_enrolled() || token.is_some() {
        match kiosk::launch(&kiosk_files, &base, &listen_addr(8090), token.as_deref())
            .and_then(Running::start)
        {
            Ok(k) => Some(k),
            Err(e) => {
                missing.push(format!("kiosk did not start: {e}"));
                None
            }
        }
    } else {
        None
    };

    // A pass to try at once, issued through the kiosk as a visitor would get it.
    // What the gates show before anyone is told where to scan is history, not news.
    let mut seen: Seen = gates.iter().map(|_| (Vec::new(), Vec::new())).collect();
    poll(&gates, &mut seen, false);
    let sample = kiosk.as_ref().map(|k| {
        kiosk::register_visitor(k.url(), "演示访客", &format!("2-{VISITED_FLOOR}03"))
            .map(|answer| answer["credential"].as_str().unwrap_or_default().to_owned())
    });
    print_banner(
        &base,
        kiosk.as_ref().map(Running::url),
        &gates,
        &kiosk_files,
        &data,
    );
    match sample {
        Some(Ok(pass)) if !pass.is_empty() => {
            println!("A visitor pass for unit 2-{VISITED_FLOOR}03, issued just now at the kiosk:");
            println!("  PASS='{pass}'\n");
        }
        Some(Err(e)) => missing.push(format!("no sample pass from the kiosk: {e}")),
        _ => {}
    }
    for m in &missing {
        println!("  not available yet: {m}");
    }

    watch(&gates, seen, &stop);

    println!("\nstopping …");
    for g in gates {
        let _ = g.process.terminate(Duration::from_secs(10));
    }
    if let Some(k) = kiosk {
        let _ = k.terminate(Duration::from_secs(10));
    }
    let _ = server.terminate(Duration::from_secs(10));
    println!(
        "stopped; the data stays in {} for the next run",
        data.display()
    );
    Ok(())
}

fn print_banner(
    base: &str,
    kiosk_url: Option<&str>,
    gates: &[DemoGate],
    kiosk_files: &KioskFiles,
    data: &Path,
) {
    println!();
    println!("Gatehouse demo is running (data in {})", data.display());
    println!("  front desk:  {base}/   login: admin / {DEMO_PASSWORD}");
    match kiosk_url {
        Some(url) => println!(
            "  kiosk:       {url}/   (printer output: {})",
            kiosk_files.printer_output().display()
        ),
        None => println!("  kiosk:       not running"),
    }
    for g in gates {
        println!(
            "  gate {:<9} {}  status {}/status  scanner {}",
            g.label,
            g.setup.zone,
            g.process.url(),
            g.setup.scanner_path().display()
        );
    }
    if let Some(g) = gates.first() {
        println!();
        println!("Scan a pass (PASS below, or one from the kiosk's screen) at the entrance:");
        println!(
            "  printf '%s\\r' \"$PASS\" > {}",
            g.setup.scanner_path().display()
        );
    }
    println!("Relay transitions and decisions appear below. Ctrl-C stops everything.\n");
}

/// What the demo has already shown of each gate: the status page's recent windows.
type Seen = Vec<(Vec<gate::RelayTransition>, Vec<gate::Decision>)>;

/// Fetches each gate's status, prints what is new since `seen` when `print`, and moves `seen`
/// to the current windows.
fn poll(gates: &[DemoGate], seen: &mut Seen, print: bool) {
    for (g, (transitions, decisions)) in gates.iter().zip(seen.iter_mut()) {
        let Ok(status) = GateStatus::fetch(g.process.url()) else {
            continue;
        };
        let now_decisions = status.decisions();
        let now_transitions = status.relay_transitions();
        if print {
            for d in now_decisions.iter().filter(|d| !decisions.contains(d)) {
                let card = d
                    .card_id
                    .map(|c| format!("card {c}"))
                    .unwrap_or_else(|| "unreadable pass".into());
                let verdict = if d.admitted {
                    "ADMITTED".to_owned()
                } else {
                    format!("denied ({})", d.reason.as_deref().unwrap_or("?"))
                };
                println!("[{}] {} {card}: {verdict}", g.label, d.at);
            }
            for t in now_transitions.iter().filter(|t| !transitions.contains(t)) {
                println!("[{}] {} relay {}", g.label, t.at, t.state);
            }
        }
        *decisions = now_decisions;
        *transitions = now_transitions;
    }
}

/// Prints each gate's new decisions and relay transitions until Ctrl-C.
fn watch(gates: &[DemoGate], mut seen: Seen, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        poll(gates, &mut seen, true);
        std::thread::sleep(Duration::from_millis(200));
    }
}

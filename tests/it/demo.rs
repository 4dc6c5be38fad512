//! README's first command: the demo launcher starts everything, a printed pass scanned at the
//! printed scanner path opens the door, Ctrl-C stops it all, and a second run reuses the data.

use gatehouse_e2e::process::{Signal, signal};
use gatehouse_e2e::scanner::scan_at;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The running demo; stopped with Ctrl-C (SIGINT) when dropped, so a failing test does not
/// leave the demo and its programs behind.
struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            interrupt(&mut self.0);
        }
    }
}

/// Starts the demo in `dir`; its stdout lines arrive on the channel.
fn start_demo(dir: &Path) -> (Demo, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse-demo"))
        .current_dir(dir)
        // Not started by cargo: use the built programs as they are (cargo holds the build lock).
        .env_remove("CARGO")
        .env("GATEHOUSE_DEMO_ANY_PORT", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (Demo(child), rx)
}

/// Reads lines until one satisfies `want`; every line read is returned.
fn read_until(rx: &mpsc::Receiver<String>, mut want: impl FnMut(&str) -> bool) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut lines = Vec::new();
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            let done = want(&line);
            lines.push(line);
            if done {
                return lines;
            }
        }
    }
    panic!(
        "the demo never printed what was expected; it printed:\n{}",
        lines.join("\n")
    );
}

fn interrupt(child: &mut Child) -> std::process::ExitStatus {
    signal(child, Signal::SIGINT).unwrap();
    child.wait().unwrap()
}

#[test]
fn demo_starts_everything_a_printed_pass_opens_the_entrance_and_a_second_run_reuses_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let (mut demo, rx) = start_demo(dir.path());
    let banner = read_until(&rx, |l| {
        l.starts_with("  PASS='") || l.contains("not available yet")
    });
    let text = banner.join("\n");
    assert!(text.contains("login: admin / "), "{text}");
    assert!(text.contains("kiosk:       http://127.0.0.1:"), "{text}");
    let pass_line = banner.last().unwrap();
    let pass = pass_line
        .strip_prefix("  PASS='")
        .and_then(|p| p.strip_suffix('\''))
        .unwrap_or_else(|| panic!("no sample pass:\n{text}"));
    let scanner = banner
        .iter()
        .find_map(|l| l.strip_prefix("  printf '%s\\r' \"$PASS\" > "))
        .unwrap_or_else(|| panic!("no scan line:\n{text}"));
    assert!(scanner.ends_with("gate-entrance/scanner"), "{scanner}");

    scan_at(Path::new(scanner), pass).unwrap();
    // The decision and the relay transition, in whichever order the demo saw them.
    let mut seen = (false, false);
    read_until(&rx, |l| {
        seen.0 |= l.starts_with("[entrance]") && l.ends_with("ADMITTED");
        seen.1 |= l.starts_with("[entrance]") && l.ends_with("relay unlocked");
        seen == (true, true)
    });
    assert!(interrupt(&mut demo.0).success());
    assert!(dir.path().join("demo-data/server/gatehouse.db").is_file());

    // Second run on the same data: the gates keep the device keys they enrolled with.
    let key_path = dir.path().join("demo-data/gate-entrance/data/device.json");
    let key_before = std::fs::read_to_string(&key_path).unwrap();
    let (mut again, rx) = start_demo(dir.path());
    let banner = read_until(&rx, |l| {
        l.starts_with("  PASS='") || l.contains("not available yet")
    });
    assert!(
        banner.iter().any(|l| l.starts_with("  PASS='")),
        "{}",
        banner.join("\n")
    );
    assert_eq!(std::fs::read_to_string(&key_path).unwrap(), key_before);
    assert!(interrupt(&mut again.0).success());
}

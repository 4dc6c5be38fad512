//! Each program on its own, as its process contract says: ready line on stdout with the real
//! port, graceful SIGTERM, data kept across restarts.

use gatehouse_credential::api::device::DeviceKind;
use gatehouse_credential::api::gate::{GateEvent, JournalEntry};
use gatehouse_credential::{Zone, ZoneClass};
use gatehouse_e2e::gate::{self, GateSetup, GateStatus, ScannerSource};
use gatehouse_e2e::kiosk::{self, KioskFiles};
use gatehouse_e2e::passes::{TestSigner, forged};
use gatehouse_e2e::process::Running;
use gatehouse_e2e::scanner::{ScannerPty, scan_at};
use gatehouse_e2e::server::{self, ADMIN_PASSWORD, Api, expect_ok, http_client};
use gatehouse_e2e::wait_for;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

#[test]
fn server_starts_on_a_free_port_serves_health_and_login_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let server = server::start(dir.path()).unwrap();
    assert!(
        server.url().starts_with("http://127.0.0.1:"),
        "{}",
        server.url()
    );
    assert_ne!(server.url(), "http://127.0.0.1:0");
    let health = expect_ok(
        "GET /healthz",
        http_client().get(format!("{}/healthz", server.url())),
    )
    .unwrap();
    assert_eq!(health["status"], "ok", "{health}");
    let api = Api::admin(server.url()).unwrap();
    let me = api.get("/api/v1/auth/me").unwrap();
    assert_eq!(me["username"], "admin", "{me}");
    // A wrong password is refused with the error body of the contract.
    let err = Api::login(server.url(), "admin", "not-the-password")
        .unwrap_err()
        .to_string();
    assert!(err.contains("401") && err.contains("\"error\""), "{err}");

    let status = server.terminate(Duration::from_secs(10)).unwrap();
    assert!(status.success(), "SIGTERM exit: {status}");

    // Same data dir, another port: the admin account is still there.
    let again = server::start(dir.path()).unwrap();
    Api::admin(again.url()).unwrap();
}

#[test]
fn server_without_an_admin_password_prints_a_generated_one_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let first = Running::start(server::launch(dir.path(), "127.0.0.1:0", "")).unwrap();
    let password = gatehouse_e2e::wait_for(
        "the generated password line",
        Duration::from_secs(5),
        || {
            first.stdout_lines().iter().find_map(|l| {
                l.strip_prefix("initial admin password: ")
                    .map(str::to_owned)
            })
        },
    )
    .unwrap();
    assert!(password.len() >= 10, "{password:?}");
    assert_ne!(password, ADMIN_PASSWORD);
    Api::login(first.url(), "admin", &password).unwrap();
    assert!(first.terminate(Duration::from_secs(10)).unwrap().success());

    let second = Running::start(server::launch(dir.path(), "127.0.0.1:0", "")).unwrap();
    Api::login(second.url(), "admin", &password).unwrap();
    let lines = second.stdout_lines();
    assert!(!lines.iter().any(|l| l.contains("password")), "{lines:?}");
}

fn entrance() -> Zone {
    Zone {
        building: 2,
        class: ZoneClass::Entrance,
        floor: None,
    }
}

/// A temporary folder, a scanner pty, a test signer with key `key` and an entrance gate set up
/// in the folder to read the pty and trust the signer.
struct PtyGate {
    dir: tempfile::TempDir,
    pty: ScannerPty,
    signer: TestSigner,
    setup: GateSetup,
}

fn pty_gate(key: u8) -> PtyGate {
    let dir = tempfile::tempdir().unwrap();
    let pty = ScannerPty::open().unwrap();
    let signer = TestSigner::new(key).unwrap();
    let mut setup = GateSetup::new(
        dir.path(),
        entrance(),
        ScannerSource::Port(pty.slave_path().into()),
    );
    setup.keys = vec![signer.public()];
    PtyGate {
        dir,
        pty,
        signer,
        setup,
    }
}

#[test]
fn offline_gate_admits_a_signed_pass_pulses_the_relay_and_denies_forgeries() {
    let PtyGate {
        dir: _dir,
        mut pty,
        signer,
        setup,
    } = pty_gate(3);
    let gate = Running::start(gate::launch(&setup, "127.0.0.1:0").unwrap()).unwrap();
    let url = gate.url().to_owned();
    let status = GateStatus::fetch(&url).unwrap();
    assert_eq!(status.relay().as_deref(), Some("locked"), "{:?}", status.0);

    // A valid pass: admitted, the relay unlocks and locks again after the 500 ms pulse.
    let before = status.relay_transitions();
    let pass = signer.visitor_pass(41, 2, 12).unwrap();
    let scanned = Instant::now();
    pty.scan(&pass).unwrap();
    let d = gate::next_decision(&url, None, Duration::from_secs(5)).unwrap();
    assert!(d.admitted, "{d:?}");
    assert_eq!(d.card_id, Some(41));
    let t = gate::wait_relay_transitions(&url, &before, 2, Duration::from_secs(5)).unwrap();
    assert_eq!(t[0].state, "unlocked");
    assert_eq!(t[1].state, "locked");
    assert!(scanned.elapsed() < Duration::from_secs(5));

    // A forged pass and line noise: denied, the relay does not move.
    let before = GateStatus::fetch(&url).unwrap().relay_transitions();
    pty.scan(&forged(&pass)).unwrap();
    let f = gate::next_decision(&url, Some(&d), Duration::from_secs(5)).unwrap();
    assert!(!f.admitted);
    assert_eq!(f.reason.as_deref(), Some("bad_signature"), "{f:?}");
    pty.scan("HELLO WORLD").unwrap();
    let g = gate::next_decision(&url, Some(&f), Duration::from_secs(5)).unwrap();
    assert_eq!(g.reason.as_deref(), Some("unreadable"), "{g:?}");
    // A pass for another building opens nothing here.
    pty.scan(&signer.visitor_pass(42, 3, 12).unwrap()).unwrap();
    let w = gate::next_decision(&url, Some(&g), Duration::from_secs(5)).unwrap();
    assert_eq!(
        (w.admitted, w.reason.as_deref()),
        (false, Some("wrong_zone")),
        "{w:?}"
    );
    // The gate drains a decision's actions before it reads the next line: once a later line is
    // decided, any relay move the denials caused would be visible.
    pty.scan("END OF DENIALS").unwrap();
    gate::next_decision(&url, Some(&w), Duration::from_secs(5)).unwrap();
    let after = GateStatus::fetch(&url).unwrap();
    assert_eq!(
        after.relay_transitions(),
        before,
        "denials must not move the relay"
    );
    assert_eq!(after.relay().as_deref(), Some("locked"));
}

#[test]
fn sim_link_scanner_takes_printf_scans_and_sigterm_leaves_the_relay_locked() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scanner");
    let signer = TestSigner::new(1).unwrap();
    let mut setup = GateSetup::new(dir.path(), entrance(), ScannerSource::SimLink(link.clone()));
    setup.keys = vec![signer.public()];
    setup.pulse_ms = 3000;
    let gate = Running::start(gate::launch(&setup, "127.0.0.1:0").unwrap()).unwrap();
    let url = gate.url().to_owned();
    assert!(
        link.exists(),
        "the gate links its pty at {}",
        link.display()
    );

    let before = GateStatus::fetch(&url).unwrap().relay_transitions();
    scan_at(&link, &signer.visitor_pass(7, 2, 1).unwrap()).unwrap();
    let d = gate::next_decision(&url, None, Duration::from_secs(5)).unwrap();
    assert!(d.admitted, "{d:?}");
    let t = gate::wait_relay_transitions(&url, &before, 1, Duration::from_secs(5)).unwrap();
    assert_eq!(t[0].state, "unlocked");

    // Stopped while the door is open (3 s pulse): it exits cleanly and its log says it locked.
    let log = setup.log();
    let status = gate.terminate(Duration::from_secs(10)).unwrap();
    assert!(status.success(), "{status}");
    let text = std::fs::read_to_string(log).unwrap();
    assert!(text.contains("relay locked"), "{text}");
}

/// Every entry in a gate's journal file.
fn gate_journal_entries(data_dir: &std::path::Path) -> Vec<JournalEntry> {
    let db = rusqlite::Connection::open_with_flags(
        data_dir.join("journal.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut stmt = db.prepare("SELECT body FROM entry ORDER BY seq").unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|body| serde_json::from_str(&body.unwrap()).unwrap())
        .collect()
}

#[test]
fn gate_killed_mid_burst_of_1000_scans_loses_no_admit_and_duplicates_none() {
    let PtyGate {
        dir,
        mut pty,
        signer,
        mut setup,
    } = pty_gate(2);
    setup.pulse_ms = 5;
    let gate = Running::start(gate::launch(&setup, "127.0.0.1:0").unwrap()).unwrap();
    let url = gate.url().to_owned();

    let passes: Vec<String> = (1..=1000)
        .map(|card| signer.visitor_pass(card, 2, 3).unwrap())
        .collect();
    let writer = std::thread::spawn(move || {
        for pass in &passes {
            pty.scan(pass).unwrap();
        }
        pty
    });
    // Watch the status page and remember every admit the gate reported before it died.
    let mut seen_admitted = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = GateStatus::fetch(&url).unwrap();
        seen_admitted.extend(
            status
                .decisions()
                .iter()
                .filter(|d| d.admitted)
                .filter_map(|d| d.card_id),
        );
        if status.scanned_lines() >= 300 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the gate read only {} lines in 60 s",
            status.scanned_lines()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let gate = gate.kill9_and_restart().unwrap();
    assert!(!seen_admitted.is_empty());
    // The rest of the burst reaches the restarted gate; the last pass is card 1000.
    let _pty = writer.join().unwrap();
    wait_for(
        "the restarted gate to decide the last pass",
        Duration::from_secs(120),
        || {
            let last = GateStatus::fetch(gate.url()).ok()?.decisions().pop()?;
            (last.card_id == Some(1000)).then_some(())
        },
    )
    .unwrap();
    assert!(gate.terminate(Duration::from_secs(10)).unwrap().success());

    let entries = gate_journal_entries(&dir.path().join("data"));
    let mut admitted = BTreeSet::new();
    for e in &entries {
        if let GateEvent::Admitted { .. } = e.event {
            let card = e.card_id.unwrap().0 as u64;
            assert!(
                admitted.insert(card),
                "card {card} journalled as admitted twice"
            );
        }
    }
    let lost: Vec<_> = seen_admitted.difference(&admitted).collect();
    assert!(
        lost.is_empty(),
        "admits reported before the kill but missing from the journal: {lost:?}"
    );
    let ids: BTreeSet<_> = entries.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), entries.len(), "journal ids are unique");
    // Lines the killed gate had read but not yet decided are gone with it (the visitor scans
    // again): they are a handful of consecutive passes at the moment of the kill, and no other
    // pass is missing.
    let undecided: Vec<u64> = (1..=1000).filter(|c| !admitted.contains(c)).collect();
    eprintln!("passes read by the killed gate but not decided: {undecided:?}");
    assert!(
        undecided.len() <= 32,
        "{} passes undecided: {undecided:?}",
        undecided.len()
    );
    if let (Some(first), Some(last)) = (undecided.first(), undecided.last()) {
        assert!(
            last - first < 32,
            "undecided passes are not one run at the kill: {undecided:?}"
        );
    }
}

#[test]
fn gate_shrugs_off_garbage_torn_and_forged_lines_and_still_admits_a_valid_pass() {
    let PtyGate {
        dir: _dir,
        mut pty,
        signer,
        setup,
    } = pty_gate(4);
    let other = TestSigner::new(4).unwrap();
    let mut gate = Running::start(gate::launch(&setup, "127.0.0.1:0").unwrap()).unwrap();
    let url = gate.url().to_owned();
    let pass = signer.visitor_pass(9, 2, 5).unwrap();

    // A fixed pseudo-random stream, so a failure can be replayed.
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut noise = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..200 {
        let len = (noise() % 200) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| noise() as u8).collect();
        pty.send_bytes(&bytes).unwrap();
        pty.send_bytes(b"\r").unwrap();
    }
    pty.send_bytes(&[b'A'; 5000]).unwrap();
    pty.send_bytes(b"\r\n\r\n").unwrap();
    for cut in [1, 10, 60, pass.len() - 1] {
        pty.scan(&pass[..cut]).unwrap();
    }
    pty.scan(&forged(&pass)).unwrap();
    pty.scan(&other.visitor_pass(9, 2, 5).unwrap()).unwrap();
    pty.scan(&format!("{pass}{pass}")).unwrap();
    pty.scan(&format!("' OR 1=1; --{pass}")).unwrap();

    // A valid pass for another building last: once it is decided, every line before it is.
    pty.scan(&signer.visitor_pass(77, 3, 5).unwrap()).unwrap();
    wait_for(
        "the gate to decide the last line",
        Duration::from_secs(30),
        || {
            let status = GateStatus::fetch(&url).ok()?;
            let last = status.decisions().last()?.clone();
            (last.card_id == Some(77)).then_some(())
        },
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", gate.log_tail(30)));
    assert!(gate.is_running(), "the gate died:\n{}", gate.log_tail(30));
    let status = GateStatus::fetch(&url).unwrap();
    assert!(
        status.decisions().iter().all(|d| !d.admitted),
        "{:?}",
        status.decisions()
    );
    assert!(
        status
            .relay_transitions()
            .iter()
            .all(|t| t.state == "locked"),
        "{:?}",
        status.0
    );
    // The same-key-id, different-key pass is a forgery too.
    let reasons: BTreeSet<_> = status
        .decisions()
        .iter()
        .filter_map(|d| d.reason.clone())
        .collect();
    assert!(reasons.contains("bad_signature"), "{reasons:?}");

    let before = status.relay_transitions();
    let d = gate::next_decision(&url, status.decisions().last(), Duration::from_millis(500));
    assert!(d.is_err(), "no decision is pending: {d:?}");
    pty.scan(&pass).unwrap();
    let d = gate::next_decision(&url, status.decisions().last(), Duration::from_secs(5)).unwrap();
    assert!(d.admitted && d.card_id == Some(9), "{d:?}");
    let t = gate::wait_relay_transitions(&url, &before, 1, Duration::from_secs(5)).unwrap();
    assert_eq!(t[0].state, "unlocked");
}

/// systemd's end of the notification protocol: a datagram socket named in `NOTIFY_SOCKET`.
struct NotifySocket {
    path: std::path::PathBuf,
    socket: std::os::unix::net::UnixDatagram,
}

impl NotifySocket {
    fn bind(dir: &std::path::Path) -> NotifySocket {
        let path = dir.join("notify");
        let socket = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        NotifySocket { path, socket }
    }

    /// The messages received until `STOPPING=1` (or a 10 s silence).
    fn until_stopping(&self) -> Vec<String> {
        let mut seen = Vec::new();
        let mut buf = [0u8; 512];
        while let Ok(n) = self.socket.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).trim_end().to_owned();
            let stopping = text == "STOPPING=1";
            seen.push(text);
            if stopping {
                break;
            }
        }
        seen
    }
}

/// Each program as systemd runs it (`Type=notify`): READY after the ready line, and a SIGTERM
/// sent the moment the ready line is read is a clean stop (exit 0, STOPPING sent), not death by
/// the signal — the handlers are in place before the line is printed.
#[test]
fn every_program_stops_cleanly_on_a_sigterm_sent_right_after_its_ready_line() {
    let dir = tempfile::tempdir().unwrap();
    let server_dir = dir.path().join("server");
    std::fs::create_dir_all(&server_dir).unwrap();
    let server = server::start(&server_dir).unwrap();
    let api = Api::admin(server.url()).unwrap();
    let kiosk_device = api
        .create_device(DeviceKind::Kiosk, "lobby kiosk", None)
        .unwrap();
    let kiosk_files = KioskFiles::new(&dir.path().join("kiosk"));
    let gate_dir = dir.path().join("gate");
    let mut gate_setup = GateSetup::new(
        &gate_dir,
        entrance(),
        ScannerSource::SimLink(gate_dir.join("scanner")),
    );
    gate_setup.keys = vec![TestSigner::new(1).unwrap().public()];
    // The running server holds its data dir's lock: the one under test gets its own.
    let second_server_dir = dir.path().join("server-2");
    std::fs::create_dir_all(&second_server_dir).unwrap();
    let launches = [
        server::launch(&second_server_dir, "127.0.0.1:0", ADMIN_PASSWORD),
        kiosk::launch(
            &kiosk_files,
            server.url(),
            "127.0.0.1:0",
            Some(&kiosk_device.enrolment_token),
        )
        .unwrap(),
        gate::launch(&gate_setup, "127.0.0.1:0").unwrap(),
    ];
    for (i, launch) in launches.into_iter().enumerate() {
        let name = launch.program.binary();
        let notify_dir = dir.path().join(format!("notify-{i}"));
        std::fs::create_dir_all(&notify_dir).unwrap();
        let notify = NotifySocket::bind(&notify_dir);
        let running = Running::start(launch.env("NOTIFY_SOCKET", &notify.path)).unwrap();
        let log = running.launch().log_path.clone();
        let status = running.terminate(Duration::from_secs(20)).unwrap();
        let log = std::fs::read_to_string(log).unwrap_or_default();
        assert_eq!(status.code(), Some(0), "{name}: {status}\n{log}");
        assert_eq!(
            notify.until_stopping(),
            ["READY=1", "STOPPING=1"],
            "{name}\n{log}"
        );
    }
}

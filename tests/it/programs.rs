//! Each program on its own, as its process contract says: ready line on stdout with the real
//! port, graceful SIGTERM, data kept across restarts.

use gatehouse_credential::{Zone, ZoneClass};
use gatehouse_e2e::gate::{self, GateSetup, GateStatus, ScannerSource};
use gatehouse_e2e::passes::{TestSigner, forged};
use gatehouse_e2e::process::Running;
use gatehouse_e2e::scanner::{ScannerPty, scan_at};
use gatehouse_e2e::server::{self, ADMIN_PASSWORD, Api, expect_ok, http_client};
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

#[test]
fn offline_gate_admits_a_signed_pass_pulses_the_relay_and_denies_forgeries() {
    let dir = tempfile::tempdir().unwrap();
    let mut pty = ScannerPty::open().unwrap();
    let signer = TestSigner::new(3).unwrap();
    let mut setup = GateSetup::new(
        dir.path(),
        entrance(),
        ScannerSource::Port(pty.slave_path().into()),
    );
    setup.keys = vec![signer.public()];
    let gate = gate::start(&setup, "127.0.0.1:0").unwrap();
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
    std::thread::sleep(Duration::from_millis(700));
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
    let gate = gate::start(&setup, "127.0.0.1:0").unwrap();
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

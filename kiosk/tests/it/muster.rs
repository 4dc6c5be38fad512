//! The muster list printed at the kiosk from its copy: by a staff member with the PIN after
//! the server has gone, and by itself when the server reports a fire alarm.

use crate::escpos_reader::read;
use crate::kiosk::{Options, TestKiosk, spawn};
use gatehouse_credential::api::device::DeviceKind;
use gatehouse_test_support::stub;
use serde_json::{Value, json};
use std::time::Duration;

const MUSTER: &str = "[muster]\nstaff_pin = \"2468\"\nrefresh_secs = 1\n";

async fn kiosk_at(addr: std::net::SocketAddr) -> TestKiosk {
    spawn(
        &format!("http://{addr}"),
        Options {
            extra_toml: MUSTER,
            ..Options::default()
        },
    )
    .await
}

/// A kiosk with the staff PIN 2468, trusting `stub`'s staff cards, and the far end of its
/// scanner's pseudo-terminal.
pub(crate) async fn kiosk_with_scanner_and_staff_cards(
    addr: std::net::SocketAddr,
    stub: &stub::Stub,
) -> (TestKiosk, serialport::TTYPort) {
    let (scanner, slave) = serialport::TTYPort::pair().unwrap();
    let port = serialport::SerialPort::name(&slave).unwrap();
    drop(slave); // the kiosk opens it exclusively
    // Leaked: the options take static text, and a test process is short-lived.
    let muster: &'static str =
        Box::leak(format!("{MUSTER}{}", stub.staff_card_keys_toml()).into_boxed_str());
    let kiosk = spawn(
        &format!("http://{addr}"),
        Options {
            extra_toml: muster,
            scanner_port: Some(port),
            ..Options::default()
        },
    )
    .await;
    (kiosk, scanner)
}

/// Waits until `f` holds of the kiosk's muster status.
async fn until_status(kiosk: &TestKiosk, what: &str, f: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..250 {
        let (_, status) = kiosk.get("/api/muster").await;
        if f(&status) {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The printed text, once a slip with `needle` has come out.
async fn printed_text_with(kiosk: &TestKiosk, needle: &str) -> String {
    for _ in 0..250 {
        if let Ok(p) = read(&kiosk.printed())
            && p.text().contains(needle)
        {
            return p.text();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "no slip with {needle:?}; printed: {:?}",
        read(&kiosk.printed())
    );
}

#[tokio::test]
async fn staff_print_the_muster_list_with_the_pin_after_the_server_has_stopped() {
    let (addr, _stub, server) = stub::spawn_stoppable(DeviceKind::Kiosk);
    let kiosk = kiosk_at(addr).await;
    let (status, pass) = kiosk
        .post(
            "/api/visitors",
            json!({"name": "张小明", "unit_id": 1, "purpose": "探亲访友", "party_size": 1}),
        )
        .await;
    assert_eq!(status, 200, "{pass}");
    // A copy fetched after the visitor came in.
    let status = until_status(&kiosk, "a copy with the visitor", |s| s["people"] == 2).await;
    let as_of = status["list_as_of"].as_str().unwrap().to_owned();
    server.stop();
    let before = kiosk.printed().len();

    kiosk
        .post_refused(
            "/api/muster/print",
            json!({"pin": "1357"}),
            403,
            "wrong_pin",
        )
        .await;
    assert_eq!(
        kiosk.printed().len(),
        before,
        "nothing printed on a wrong PIN"
    );

    let (code, body) = kiosk
        .post("/api/muster/print", json!({"pin": "2468"}))
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["outcome"], json!({"result": "printed", "paper": "ok"}));
    let text = printed_text_with(&kiosk, "MUSTER LIST").await;
    let local = chrono::DateTime::parse_from_rfc3339(&as_of)
        .unwrap()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    for needle in [
        format!("List as of: {local}"),
        format!("[ ] 张*明 访客 Visitor No.{}", pass["card_id"]),
        "[ ] 李*国 施工 Worker No.77".into(),
        "2-1504 / 安居装饰".into(),
        "共 2 人 People: 2".into(),
    ] {
        assert!(text.contains(&needle), "{needle:?} missing from:\n{text}");
    }
}

#[tokio::test]
async fn a_fire_alarm_reported_by_the_server_prints_the_list_once() {
    let (addr, stub) = stub::spawn(DeviceKind::Kiosk).await;
    let kiosk = kiosk_at(addr).await;
    until_status(&kiosk, "a first copy", |s| s["people"] == 1).await;
    assert!(read(&kiosk.printed()).unwrap_or_default().text().is_empty());
    stub.kiosk().emergency = Some("fire_alarm");
    let text = printed_text_with(&kiosk, "Printed on fire alarm").await;
    assert!(text.contains("李*国"), "{text}");
    // Further refreshes while the alarm lasts print nothing more.
    let first = until_status(&kiosk, "a copy", |s| !s["fetched_at"].is_null()).await;
    until_status(&kiosk, "another refresh", |s| {
        s["fetched_at"] != first["fetched_at"]
    })
    .await;
    let slips = read(&kiosk.printed())
        .unwrap()
        .text()
        .matches("MUSTER LIST")
        .count();
    assert_eq!(slips, 1);
}

/// A staff member scans their staff card at the kiosk while the server is down: the list
/// prints from the kiosk's copy; a visitor's pass scanned there prints nothing.
#[tokio::test]
async fn a_staff_card_scanned_at_the_kiosk_prints_the_list_with_the_server_stopped() {
    use std::io::Write;
    let (addr, stub, server) = stub::spawn_stoppable(DeviceKind::Kiosk);
    let (kiosk, mut scanner) = kiosk_with_scanner_and_staff_cards(addr, &stub).await;
    let pass = kiosk.register_visitor().await;
    until_status(&kiosk, "a copy with the visitor", |s| s["people"] == 2).await;
    server.stop();

    let card = stub.staff_card(9001);
    let mut text = String::new();
    for _ in 0..20 {
        // The scanner thread may still be opening its end: scan until the slip is out.
        let _ = scanner.write_all(format!("{card}\r").as_bytes());
        tokio::time::sleep(Duration::from_millis(250)).await;
        text = read(&kiosk.printed()).unwrap().text();
        if text.contains("MUSTER LIST") {
            break;
        }
    }
    assert!(text.contains("MUSTER LIST"), "no list printed: {text}");
    assert!(text.contains("张*明"), "{text}");
    // Held under the scanner, the card prints one list, not one per read; a visitor's pass
    // under the scanner is no staff card and prints nothing.
    let visitor = pass["credential"].as_str().unwrap();
    let _ = scanner.write_all(format!("{visitor}\r").as_bytes());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = scanner.write_all(format!("{card}\r").as_bytes());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let lists = || {
        read(&kiosk.printed())
            .unwrap()
            .text()
            .matches("MUSTER LIST")
            .count()
    };
    assert_eq!(lists(), 1);
    // The kiosk still reads its scanner: another staff member's card prints a list of its own.
    let other = stub.staff_card(9002);
    scanner.write_all(format!("{other}\r").as_bytes()).unwrap();
    let started = std::time::Instant::now();
    while lists() < 2 && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(lists(), 2, "a list for the second staff card");
}

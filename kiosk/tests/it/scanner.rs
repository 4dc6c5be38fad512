//! A serial scanner on a pseudo-terminal: a scanned line reaches the page as a `scan` event.

use crate::kiosk::{Options, spawn};
use gatehouse_credential::api::device::DeviceKind;
use gatehouse_test_support::stub;
use serialport::SerialPort;
use std::io::Write;
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_scanned_pass_reaches_the_page_as_a_scan_event() {
    let (mut master, slave) = serialport::TTYPort::pair().unwrap();
    let port = slave.name().unwrap();
    drop(slave); // the kiosk opens it exclusively
    let (addr, _stub) = stub::spawn(DeviceKind::Kiosk).await;
    let kiosk = spawn(
        &format!("http://{addr}"),
        Options {
            scanner_port: Some(port),
            ..Options::default()
        },
    )
    .await;
    let mut events = kiosk
        .http
        .get(kiosk.url("/api/scans"))
        .send()
        .await
        .unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let pass = "NCFK0:8A$9K6Q3-B.LFGO+12 %*/ABCDEFGHIJ";
    let started = Instant::now();
    let mut seen = String::new();
    while !seen.contains(&format!("data: {pass}\n")) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no scan event; got {seen:?}"
        );
        // The scanner thread may not have opened its end yet: scan again until it has.
        let _ = master.write_all(format!("{pass}\r").as_bytes());
        if let Ok(Ok(Some(chunk))) =
            tokio::time::timeout(Duration::from_millis(300), events.chunk()).await
        {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    assert!(seen.contains("event: scan\n"), "{seen}");
}

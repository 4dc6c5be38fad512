//! The kiosk driving a USB printer-class receipt printer (usblp), emulated on a Unix socket
//! with a printer on the other end; what reaches the paper is decoded by zbar or rqrr.

use crate::decode;
use crate::escpos_reader::{Printout, read};
use crate::fake_printer::{self, FakePrinter};
use crate::kiosk::{Options, TestKiosk, spawn};
use gatehouse_credential::Qr;
use gatehouse_credential::api::device::DeviceAlarmKind;
use gatehouse_credential::api::device::DeviceKind;
use gatehouse_test_support::stub;
use serde_json::{Value, json};

async fn kiosk_with_usb_printer(
    answers: bool,
    printer_toml: &'static str,
) -> (TestKiosk, stub::Stub, FakePrinter) {
    let (addr, stub) = stub::spawn(DeviceKind::Kiosk).await;
    let (fake, port) = FakePrinter::start(answers);
    let kiosk = spawn(
        &format!("http://{addr}"),
        Options {
            printer_port: Some(port),
            printer_toml,
            ..Options::default()
        },
    )
    .await;
    (kiosk, stub, fake)
}

fn visitor() -> Value {
    json!({"name": "张小明", "unit_id": 1, "purpose": "探亲访友", "party_size": 1})
}

/// Registers a visitor and waits for the print; returns the pass and the print's outcome.
async fn visit(kiosk: &TestKiosk) -> (Value, Value) {
    let (status, pass) = kiosk.post("/api/visitors", visitor()).await;
    assert_eq!(status, 200, "{pass}");
    let outcome = kiosk.print_outcome(pass["card_id"].as_u64().unwrap()).await;
    (pass, outcome)
}

/// The decoded code is the pass on screen, and it verifies with the server's key.
fn same_pass(stub: &stub::Stub, pass: &Value, decoded: &str) {
    assert_eq!(decoded, pass["credential"].as_str().unwrap());
    stub.ring()
        .verify(decoded)
        .expect("the printed pass verifies");
}

fn expect_outcome(outcome: &Value, result: &str, paper: &str) {
    assert_eq!(
        outcome["outcome"],
        json!({"result": result, "paper": paper}),
        "{outcome}"
    );
}

/// What the printer has put on paper, once a whole slip (up to its cut) has come out.
async fn printout(fake: &FakePrinter) -> Printout {
    for _ in 0..250 {
        if let Ok(p) = read(&fake.printed())
            && p.ends_with_cut()
        {
            return p;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no whole slip printed: {:?}", read(&fake.printed()));
}

#[test]
fn the_emulated_device_refuses_tty_ioctls_and_fsync_exactly_as_usblp_does() {
    // usblp has no tcgetattr (ENOTTY) and no fsync (EINVAL); a socket answers the same, so a
    // backend that relied on either would fail here as it fails on a real printer.
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    assert_eq!(
        nix::sys::termios::tcgetattr(&a).unwrap_err(),
        nix::Error::ENOTTY
    );
    assert_eq!(nix::unistd::fsync(&a).unwrap_err(), nix::Error::EINVAL);
}

#[tokio::test]
async fn a_usb_printer_prints_the_pass_with_the_native_qr_and_rqrr_reads_it() {
    let (kiosk, stub, fake) = kiosk_with_usb_printer(true, "").await;
    let (pass, outcome) = visit(&kiosk).await;
    expect_outcome(&outcome, "printed", "ok");
    let p = printout(&fake).await;
    let qrs = p.printed_qr();
    assert_eq!(qrs.len(), 1);
    // Regenerate the symbol the printer draws from the stored data, and read it back.
    let stored = std::str::from_utf8(&qrs[0].payload).unwrap();
    let decoded = decode::rqrr(Qr::new(stored).unwrap().to_image(6));
    same_pass(&stub, &pass, &decoded);
    assert!(p.text().contains("张*明"));
    assert!(p.ends_with_cut());
}

#[tokio::test]
#[ignore = "needs zbarimg (Debian package zbar-tools)"]
async fn zbar_reads_the_native_qr_a_usb_printer_was_sent() {
    let (kiosk, stub, fake) = kiosk_with_usb_printer(true, "").await;
    let (pass, _) = visit(&kiosk).await;
    let p = printout(&fake).await;
    let stored = std::str::from_utf8(&p.printed_qr()[0].payload).unwrap();
    let png = Qr::new(stored).unwrap().to_png(6).unwrap();
    let decoded = decode::zbar(&png);
    same_pass(&stub, &pass, &decoded);
}

#[tokio::test]
async fn a_raster_qr_printer_gets_an_image_that_rqrr_reads() {
    let (kiosk, stub, fake) = kiosk_with_usb_printer(true, "qr = \"raster\"").await;
    let (pass, outcome) = visit(&kiosk).await;
    assert_eq!(outcome["outcome"]["result"], "printed");
    let p = printout(&fake).await;
    assert!(p.printed_qr().is_empty(), "no GS ( k for a raster printer");
    let rasters = p.rasters();
    assert_eq!(rasters.len(), 1);
    assert!(rasters[0].width <= 384, "fits 58 mm paper");
    let decoded = decode::rqrr(decode::raster_gray(rasters[0]));
    same_pass(&stub, &pass, &decoded);
}

#[tokio::test]
#[ignore = "needs zbarimg (Debian package zbar-tools)"]
async fn zbar_reads_the_raster_qr_from_the_printer_bytes() {
    let (kiosk, stub, fake) = kiosk_with_usb_printer(true, "qr = \"raster\"").await;
    let (pass, _) = visit(&kiosk).await;
    let p = printout(&fake).await;
    let decoded = decode::zbar(&decode::raster_png(p.rasters()[0]));
    same_pass(&stub, &pass, &decoded);
}

#[tokio::test]
async fn a_pass_refused_for_want_of_paper_never_prints_after_the_refill() {
    let (kiosk, stub, fake) = kiosk_with_usb_printer(true, "").await;
    fake.set(|p| {
        p.sensor = fake_printer::PAPER_END;
        p.offline_cause = fake_printer::STOPPED_PAPER_END;
    });
    let (first, outcome) = visit(&kiosk).await;
    expect_outcome(&outcome, "not_printed", "out");
    assert_eq!(outcome["desk_needed"], true);
    // The roll is refilled; whatever the printer held would come out now.
    fake.refill();
    let (second, outcome) = visit(&kiosk).await;
    assert_eq!(outcome["outcome"]["result"], "printed");
    let qrs: Vec<Vec<u8>> = printout(&fake)
        .await
        .printed_qr()
        .iter()
        .map(|q| q.payload.clone())
        .collect();
    assert_eq!(
        qrs,
        vec![second["credential"].as_str().unwrap().as_bytes().to_vec()],
        "only the second visitor's pass is on paper, never the first ({})",
        first["short_id"]
    );
    assert!(fake.held().is_empty());
    assert!(
        stub.alarms()
            .iter()
            .any(|a| a.kind == DeviceAlarmKind::PaperOut && a.active)
    );
}

#[tokio::test]
async fn an_open_cover_is_reported_to_the_desk_and_nothing_is_sent() {
    let (kiosk, stub, fake) = kiosk_with_usb_printer(true, "").await;
    fake.set(|p| p.offline_cause = fake_printer::COVER_OPEN);
    let (status, body) = kiosk.get("/api/status").await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"paper": "cover_open", "can_print": false}));
    let (_, outcome) = visit(&kiosk).await;
    expect_outcome(&outcome, "not_printed", "cover_open");
    fake.refill();
    assert!(fake.printed().is_empty(), "nothing reached the paper");
    let raised = || {
        stub.alarms()
            .iter()
            .any(|a| a.kind == DeviceAlarmKind::PrinterCoverOpen && a.active)
    };
    for _ in 0..100 {
        if raised() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        raised(),
        "the desk hears of the open cover: {:?}",
        stub.alarms()
    );
}

#[tokio::test]
async fn a_unidirectional_printer_prints_when_status_queries_are_off() {
    let (kiosk, _stub, fake) = kiosk_with_usb_printer(false, "status_query = false").await;
    let (status, body) = kiosk.get("/api/status").await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"paper": "unchecked", "can_print": true}));
    let (pass, outcome) = visit(&kiosk).await;
    expect_outcome(&outcome, "printed", "unchecked");
    assert_eq!(outcome["desk_needed"], false);
    let p = printout(&fake).await;
    assert_eq!(
        p.printed_qr()[0].payload,
        pass["credential"].as_str().unwrap().as_bytes()
    );
}

#[tokio::test]
async fn a_unidirectional_printer_asked_for_status_is_offline_not_a_hang() {
    let (kiosk, _stub, fake) = kiosk_with_usb_printer(false, "").await;
    let (_, outcome) = visit(&kiosk).await;
    expect_outcome(&outcome, "not_printed", "offline");
    assert!(fake.printed().is_empty());
}

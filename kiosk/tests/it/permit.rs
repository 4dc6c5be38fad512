//! A goods-release permit the desk sends to the kiosk's printer: taken from the server once,
//! printed with its Chinese lines in GBK and its QR code as a raster image (read back by the
//! independent ESC/POS reader, the QR decoded by zbar), and its result reported.

use crate::decode;
use crate::escpos_reader::read;
use crate::kiosk::{Options, spawn};
use chrono::NaiveDate;
use gatehouse_credential::api::device::DeviceKind;
use gatehouse_credential::api::print::{PermitLine, PermitSlip};
use gatehouse_kiosk::printer::escpos::render;
use gatehouse_kiosk::printer::{PrintSettings, QrMode};
use gatehouse_test_support::stub;
use std::time::Duration;

fn permit(credential: String) -> PermitSlip {
    PermitSlip {
        job_id: 5,
        permit_id: 77,
        credential,
        unit_label: "2-1203".into(),
        applicant: "tenant".into(),
        applicant_masked: "李*华".into(),
        items: vec![
            PermitLine {
                description: "冰箱 fridge".into(),
                count: 1,
            },
            PermitLine {
                description: "纸箱 boxes".into(),
                count: 12,
            },
        ],
        plate: Some("沪B66666".into()),
        valid_from: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
        valid_to: NaiveDate::from_ymd_opt(2026, 12, 4).unwrap(),
        notes: "周六搬出".into(),
    }
}

#[tokio::test]
async fn a_permit_sent_by_the_desk_comes_out_of_the_kiosk_printer_once() {
    let (addr, stub) = stub::spawn(DeviceKind::Kiosk).await;
    let kiosk = spawn(
        &format!("http://{addr}"),
        Options {
            printer_toml: "qr = \"raster\"\n",
            ..Options::default()
        },
    )
    .await;
    let credential = stub.staff_card(77);
    stub.kiosk().permit_slips.push(permit(credential.clone()));

    let mut reported = None;
    for _ in 0..500 {
        reported = stub.kiosk().print_results.first().cloned();
        if reported.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (job, result) = reported.expect("the kiosk reported the slip");
    assert_eq!(job, 5);
    assert!(result.printed, "{result:?}");

    let printout = read(&kiosk.printed()).unwrap();
    let text = printout.text();
    for line in [
        "物品放行单 GOODS RELEASE PERMIT",
        "编号 No.: 77",
        "房号 Unit: 2-1203",
        "租户 Tenant: 李*华",
        "冰箱 fridge × 1",
        "纸箱 boxes × 12",
        "车牌 Plate: 沪B66666",
        "有效期 Valid: 2026-12-03 — 2026-12-04",
        "备注 Notes: 周六搬出",
    ] {
        assert!(text.contains(line), "{line:?} on the slip: {text}");
    }
    assert!(printout.printed_qr().is_empty(), "raster mode draws the QR");
    let rasters = printout.rasters();
    assert_eq!(rasters.len(), 1, "one QR image");
    assert_eq!(decode::rqrr(decode::raster_gray(rasters[0])), credential);
    assert!(printout.ends_with_cut());
    // Taken once: nothing more comes out. Once the kiosk has begun a second poll after the
    // one that handed the slip over, the poll between has answered and the slip is done with.
    let taken_by = stub.kiosk().print_job_polls;
    for _ in 0..500 {
        if stub.kiosk().print_job_polls >= taken_by + 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        stub.kiosk().print_job_polls >= taken_by + 2,
        "the kiosk asked for print jobs again"
    );
    assert_eq!(stub.kiosk().print_results.len(), 1);
    assert_eq!(
        read(&kiosk.printed())
            .unwrap()
            .text()
            .matches("物品放行单 GOODS RELEASE PERMIT")
            .count(),
        1,
        "one slip on the paper"
    );
}

#[test]
#[ignore = "needs zbarimg (Debian package zbar-tools)"]
fn a_permit_slip_qr_drawn_by_the_kiosk_reads_in_zbar() {
    let claims = gatehouse_test_support::claims(77, gatehouse_credential::Kind::GoodsRelease, None);
    let credential = gatehouse_test_support::signer().issue(&claims).unwrap();
    let ticket = gatehouse_kiosk::permit::permit_ticket(&permit(credential.clone()), "翠湖花园");
    let settings = PrintSettings {
        qr: QrMode::Raster,
        cutter: true,
    };
    let printout = read(&render(&ticket, &settings)).unwrap();
    let rasters = printout.rasters();
    assert_eq!(rasters.len(), 1);
    assert_eq!(decode::zbar(&decode::raster_png(rasters[0])), credential);
}

//! Goods-release permits (物品放行单) on the kiosk's receipt printer. The desk picks "print on
//! the kiosk's receipt printer" on an approved permit's page; the kiosk long-polls the server
//! for such slips, prints each once with the same encoder, Chinese text handling and QR
//! fallback as its passes, and reports what became of it (the desk sees "printed" or why
//! not). A printer that needs a person raises the same desk alarm as a failed pass.

use crate::printer::{PaperStatus, PrintOutcome, Ticket};
use crate::web::KioskState;
use gatehouse_credential::api::print::{PermitSlip, PrintResult};
use std::time::Duration;

/// How long one long poll for slips waits on the server.
pub const POLL_WAIT: Duration = Duration::from_secs(20);

/// The slip for `permit`: what the guard checks the goods against, and its QR code.
pub fn permit_ticket(permit: &PermitSlip, estate: &str) -> Ticket {
    let applicant = if permit.applicant == "tenant" {
        "租户 Tenant"
    } else {
        "业主 Owner"
    };
    let mut lines = vec![
        format!("编号 No.: {}", permit.permit_id),
        format!("房号 Unit: {}", permit.unit_label),
        format!("{applicant}: {}", permit.applicant_masked),
        "物品 Items:".to_owned(),
    ];
    lines.extend(
        permit
            .items
            .iter()
            .map(|i| format!("  {} × {}", i.description, i.count)),
    );
    if let Some(plate) = &permit.plate {
        lines.push(format!("车牌 Plate: {plate}"));
    }
    lines.push(if permit.valid_from == permit.valid_to {
        format!("有效期 Valid on: {}", permit.valid_from)
    } else {
        format!("有效期 Valid: {} — {}", permit.valid_from, permit.valid_to)
    });
    if !permit.notes.is_empty() {
        lines.push(format!("备注 Notes: {}", permit.notes));
    }
    lines.push("限用一次，出门时请交门岗核对物品".to_owned());
    lines.push("Valid once: show it to the guard with the goods".to_owned());
    Ticket {
        heading: estate.to_owned(),
        title: "物品放行单 GOODS RELEASE PERMIT".to_owned(),
        credential: Some(permit.credential.clone()),
        lines,
    }
}

/// What the server is told about a slip.
pub fn result_of(outcome: PrintOutcome) -> PrintResult {
    let (printed, paper) = match outcome {
        PrintOutcome::Printed(p) => (true, p),
        PrintOutcome::NotPrinted(p) => (false, p),
    };
    let paper = match paper {
        PaperStatus::Ok => "ok",
        PaperStatus::NearEnd => "near_end",
        PaperStatus::Out => "out",
        PaperStatus::CoverOpen => "cover_open",
        PaperStatus::Offline => "offline",
        PaperStatus::Unchecked => "unchecked",
    };
    PrintResult {
        printed,
        paper: paper.to_owned(),
    }
}

/// Waits for slips from the desk and prints them, for as long as the kiosk runs.
pub fn spawn_permit_jobs(state: KioskState) {
    tokio::spawn(async move {
        loop {
            let slips = match state.server.print_jobs(POLL_WAIT).await {
                Ok(slips) => slips,
                Err(e) => {
                    tracing::warn!(error = %e, "no goods permits to print fetched; trying again");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    continue;
                }
            };
            for slip in slips {
                let outcome = state
                    .printer
                    .print(&permit_ticket(&slip, &state.estate_name))
                    .await;
                tracing::info!(permit = slip.permit_id, ?outcome, "goods permit slip");
                if outcome.needs_desk() {
                    crate::web::api::raise_printer_alarm(&state, outcome, None);
                }
                if let Err(e) = state
                    .server
                    .print_result(slip.job_id, &result_of(outcome))
                    .await
                {
                    tracing::warn!(error = %e, job = slip.job_id, "print result not reported");
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::escpos::{self, PrintSettings};
    use crate::printer::escpos_reader;
    use chrono::NaiveDate;
    use gatehouse_credential::api::print::PermitLine;

    fn slip() -> PermitSlip {
        PermitSlip {
            job_id: 1,
            permit_id: 42,
            credential: "NCFOXN*TSWUGN6YY5".into(),
            unit_label: "2-1203".into(),
            applicant: "owner".into(),
            applicant_masked: "张*明".into(),
            items: vec![
                PermitLine {
                    description: "沙发 sofa".into(),
                    count: 1,
                },
                PermitLine {
                    description: "纸箱 boxes".into(),
                    count: 6,
                },
            ],
            plate: Some("沪A12345".into()),
            valid_from: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
            valid_to: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
            notes: String::new(),
        }
    }

    #[test]
    fn a_permit_slip_prints_the_unit_the_goods_and_the_qr_in_gbk() {
        let bytes = escpos::render(
            &permit_ticket(&slip(), "翠湖花园"),
            &PrintSettings::default(),
        );
        let printout = escpos_reader::read(&bytes).unwrap();
        let text = printout.text();
        for line in [
            "物品放行单 GOODS RELEASE PERMIT",
            "编号 No.: 42",
            "房号 Unit: 2-1203",
            "业主 Owner: 张*明",
            "沙发 sofa × 1",
            "纸箱 boxes × 6",
            "车牌 Plate: 沪A12345",
            "有效期 Valid on: 2026-12-03",
        ] {
            assert!(text.contains(line), "{line:?} in {text}");
        }
        let qr = printout.printed_qr();
        assert_eq!(qr.len(), 1, "one QR code");
        assert_eq!(qr[0].payload, b"NCFOXN*TSWUGN6YY5");
        assert!(printout.ends_with_cut());
    }
}

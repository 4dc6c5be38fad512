//! Tells the front desk, through the server, when the printer needs a person and when it no
//! longer does. The server keeps one alarm per kind; this side remembers what it has told so
//! it only speaks on a change, and retries what failed at the next paper check.

use crate::printer::escpos::PaperStatus;
use crate::server::ServerClient;
use gatehouse_credential::api::device::{AlarmReport, DeviceAlarmKind};
use std::collections::BTreeSet;
use std::sync::Arc;
use tokio::sync::Mutex;

/// Every alarm kind the kiosk's printer can raise.
pub const PRINTER_ALARMS: [DeviceAlarmKind; 4] = [
    DeviceAlarmKind::PaperOut,
    DeviceAlarmKind::PaperNearEnd,
    DeviceAlarmKind::PrinterOffline,
    DeviceAlarmKind::PrinterCoverOpen,
];

/// The alarm a paper status stands for, if any.
pub fn alarm_for(paper: PaperStatus) -> Option<DeviceAlarmKind> {
    match paper {
        PaperStatus::Ok | PaperStatus::Unchecked => None,
        PaperStatus::CoverOpen => Some(DeviceAlarmKind::PrinterCoverOpen),
        PaperStatus::NearEnd => Some(DeviceAlarmKind::PaperNearEnd),
        PaperStatus::Out => Some(DeviceAlarmKind::PaperOut),
        PaperStatus::Offline => Some(DeviceAlarmKind::PrinterOffline),
    }
}

/// The reports that move the desk from what it was told (`None`: unknown, as after a
/// restart) to what `paper` means: clears first, then the raise.
pub fn reports(told: Option<&BTreeSet<DeviceAlarmKind>>, paper: PaperStatus) -> Vec<AlarmReport> {
    let wanted = alarm_for(paper);
    let clear: Vec<DeviceAlarmKind> = match told {
        Some(told) => told.iter().copied().collect(),
        None => PRINTER_ALARMS.to_vec(),
    };
    let mut out: Vec<AlarmReport> = clear
        .into_iter()
        .filter(|k| Some(*k) != wanted)
        .map(|kind| AlarmReport {
            kind,
            active: false,
            detail: None,
        })
        .collect();
    if let Some(kind) = wanted.filter(|k| !told.is_some_and(|t| t.contains(k))) {
        out.push(AlarmReport {
            kind,
            active: true,
            detail: None,
        });
    }
    out
}

/// What the desk has been told, shared by every flow. At start it is unknown (an earlier run
/// may have left alarms raised), so the first check says everything once.
#[derive(Clone, Default)]
pub struct DeskAlarms {
    told: Arc<Mutex<Option<BTreeSet<DeviceAlarmKind>>>>,
}

impl DeskAlarms {
    /// Brings the desk up to date with `paper`. Failures are logged and retried next time.
    pub async fn tell(&self, server: &ServerClient, paper: PaperStatus) {
        let mut guard = self.told.lock().await;
        let todo = reports(guard.as_ref(), paper);
        let told = guard.get_or_insert_with(|| PRINTER_ALARMS.into_iter().collect());
        for report in todo {
            match server.report_alarm(&report).await {
                Ok(()) => {
                    if report.active {
                        told.insert(report.kind);
                    } else {
                        told.remove(&report.kind);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, kind = ?report.kind, active = report.active,
                        "could not tell the desk about the printer; will retry");
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(kinds: &[DeviceAlarmKind]) -> BTreeSet<DeviceAlarmKind> {
        kinds.iter().copied().collect()
    }

    #[test]
    fn a_change_of_paper_status_clears_the_old_alarm_and_raises_the_new() {
        let r = reports(
            Some(&set(&[DeviceAlarmKind::PaperNearEnd])),
            PaperStatus::Out,
        );
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0].kind, r[0].active),
            (DeviceAlarmKind::PaperNearEnd, false)
        );
        assert_eq!((r[1].kind, r[1].active), (DeviceAlarmKind::PaperOut, true));
    }

    #[test]
    fn an_open_cover_is_reported_like_paper_out_and_cleared_when_closed() {
        let r = reports(Some(&set(&[])), PaperStatus::CoverOpen);
        assert_eq!(r.len(), 1);
        assert_eq!(
            (r[0].kind, r[0].active),
            (DeviceAlarmKind::PrinterCoverOpen, true)
        );
        let r = reports(
            Some(&set(&[DeviceAlarmKind::PrinterCoverOpen])),
            PaperStatus::Ok,
        );
        assert_eq!(
            (r[0].kind, r[0].active),
            (DeviceAlarmKind::PrinterCoverOpen, false)
        );
    }

    #[test]
    fn nothing_is_sent_when_nothing_changed() {
        assert!(reports(Some(&set(&[DeviceAlarmKind::PaperOut])), PaperStatus::Out).is_empty());
        assert!(reports(Some(&set(&[])), PaperStatus::Ok).is_empty());
    }

    #[test]
    fn after_a_restart_everything_is_said_once() {
        let r = reports(None, PaperStatus::Ok);
        assert_eq!(r.len(), 4);
        assert!(r.iter().all(|r| !r.active));
        let r = reports(None, PaperStatus::Out);
        assert_eq!(r.len(), 4);
        assert_eq!((r[3].kind, r[3].active), (DeviceAlarmKind::PaperOut, true));
    }
}

//! The thermal printer: pure ESC/POS encoding, the backends, and an async handle.

pub mod escpos;
#[cfg(test)]
pub mod escpos_reader;
pub mod port;
pub mod ticket;

pub use escpos::{PaperStatus, Ticket};

use std::sync::Arc;
use tokio::sync::Mutex;

/// What became of one slip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "result", content = "paper")]
pub enum PrintOutcome {
    /// Sent; the paper status afterwards.
    Printed(PaperStatus),
    /// Not sent, because the printer reported this first.
    NotPrinted(PaperStatus),
}

impl PrintOutcome {
    /// Whether the desk must be told (no slip, or the roll is about to run out).
    pub fn needs_desk(self) -> bool {
        !matches!(self, PrintOutcome::Printed(PaperStatus::Ok))
    }
}

/// A shared handle to the printer; blocking port I/O runs off the async threads.
#[derive(Clone)]
pub struct Printer {
    port: Arc<Mutex<Box<dyn port::PrinterPort>>>,
}

impl Printer {
    /// Wraps a backend.
    pub fn new(port: Box<dyn port::PrinterPort>) -> Self {
        Printer {
            port: Arc::new(Mutex::new(port)),
        }
    }

    /// Asks the paper sensor (`DLE EOT 4`).
    pub async fn status(&self) -> PaperStatus {
        let mut port = self.port.clone().lock_owned().await;
        tokio::task::spawn_blocking(move || port.paper_status())
            .await
            .unwrap_or(PaperStatus::Offline)
    }

    /// Checks the paper, prints the slip if it can, and checks again.
    pub async fn print(&self, ticket: &Ticket) -> PrintOutcome {
        let bytes = escpos::render(ticket);
        let mut port = self.port.clone().lock_owned().await;
        tokio::task::spawn_blocking(move || {
            let before = port.paper_status();
            if !before.can_print() {
                return PrintOutcome::NotPrinted(before);
            }
            if let Err(e) = port.send(&bytes) {
                tracing::warn!(error = %e, "printing failed");
                return PrintOutcome::NotPrinted(PaperStatus::Offline);
            }
            PrintOutcome::Printed(port.paper_status())
        })
        .await
        .unwrap_or(PrintOutcome::NotPrinted(PaperStatus::Offline))
    }
}

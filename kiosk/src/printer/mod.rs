//! The thermal printer: pure ESC/POS encoding, the backends, and an async handle.

pub mod escpos;
#[cfg(test)]
pub mod escpos_reader;
pub mod glyphs;
pub mod port;
pub mod ticket;

pub use escpos::{PaperStatus, PrintSettings, QrMode, Ticket};

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
        !matches!(
            self,
            PrintOutcome::Printed(PaperStatus::Ok | PaperStatus::Unchecked)
        )
    }
}

/// A shared handle to the printer; blocking port I/O runs off the async threads.
#[derive(Clone)]
pub struct Printer {
    port: Arc<Mutex<Box<dyn port::PrinterPort>>>,
    status_query: bool,
    settings: PrintSettings,
    font: Option<Arc<glyphs::RasterFont>>,
}

impl Printer {
    /// Wraps a backend; `status_query` false for a printer that never answers `DLE EOT`.
    pub fn new(
        port: Box<dyn port::PrinterPort>,
        status_query: bool,
        settings: PrintSettings,
    ) -> Self {
        Printer {
            port: Arc::new(Mutex::new(port)),
            status_query,
            settings,
            font: None,
        }
    }

    /// Draws lines with characters outside GBK in `font` (see [`escpos::render_with`]).
    pub fn with_raster_font(mut self, font: Option<glyphs::RasterFont>) -> Self {
        self.font = font.map(Arc::new);
        self
    }

    /// Asks the printer's status (`DLE EOT 2` and `4`), or [`PaperStatus::Unchecked`] for a
    /// printer that is never asked.
    pub async fn status(&self) -> PaperStatus {
        if !self.status_query {
            return PaperStatus::Unchecked;
        }
        let mut port = self.port.clone().lock_owned().await;
        tokio::task::spawn_blocking(move || port.paper_status())
            .await
            .unwrap_or(PaperStatus::Offline)
    }

    /// Prints the slip now or not at all (see [`print_now`]).
    pub async fn print(&self, ticket: &Ticket) -> PrintOutcome {
        let bytes = escpos::render_with(ticket, &self.settings, self.font.as_deref());
        let status_query = self.status_query;
        let mut port = self.port.clone().lock_owned().await;
        tokio::task::spawn_blocking(move || print_now(port.as_mut(), &bytes, status_query))
            .await
            .unwrap_or(PrintOutcome::NotPrinted(PaperStatus::Offline))
    }
}

/// One slip, now or never: a pass that comes out later (after the roll is refilled) would be
/// in the wrong hands. So nothing is sent unless the printer says it can print; a send that
/// fails or stalls is withdrawn; and when the printer reports paper out or cover open right
/// after the slip, whatever it still holds is withdrawn too and the slip counts as not
/// printed (the visitor is told to use the screen). A printer that is never asked
/// (`status_query = false`) gets the slip without a check: it cannot say it is empty.
pub fn print_now(
    port: &mut dyn port::PrinterPort,
    bytes: &[u8],
    status_query: bool,
) -> PrintOutcome {
    if status_query {
        let before = port.paper_status();
        if !before.can_print() {
            return PrintOutcome::NotPrinted(before);
        }
    }
    if let Err(e) = port.send(bytes) {
        tracing::warn!(error = %e, "printing failed; the slip is withdrawn");
        port.discard_pending();
        return PrintOutcome::NotPrinted(PaperStatus::Offline);
    }
    if !status_query {
        return PrintOutcome::Printed(PaperStatus::Unchecked);
    }
    let after = port.paper_status();
    if matches!(after, PaperStatus::Out | PaperStatus::CoverOpen) {
        port.discard_pending();
        return PrintOutcome::NotPrinted(after);
    }
    PrintOutcome::Printed(after)
}

//! Printer backends: a real serial port, or a file that receives the exact byte stream.

use super::escpos::{PAPER_STATUS_QUERY, PaperStatus};
use crate::config::PrinterBackend;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;

/// Why bytes did not reach the printer.
#[derive(Debug, Error)]
pub enum PortError {
    /// The serial port could not be opened.
    #[error("cannot open printer port {port}: {message}")]
    Open {
        /// The port.
        port: String,
        /// The cause.
        message: String,
    },
    /// Writing failed.
    #[error("printer write failed: {0}")]
    Write(#[from] std::io::Error),
}

/// A place ESC/POS bytes go to, which can answer a paper-status query. Blocking.
pub trait PrinterPort: Send {
    /// Sends the bytes of one slip.
    fn send(&mut self, bytes: &[u8]) -> Result<(), PortError>;
    /// Asks `DLE EOT 4`; no answer means offline.
    fn paper_status(&mut self) -> PaperStatus;
}

/// Builds the backend the configuration names.
pub fn open(backend: &PrinterBackend) -> Box<dyn PrinterPort> {
    match backend {
        PrinterBackend::Serial { port, baud } => Box::new(SerialPrinter {
            port: port.clone(),
            baud: *baud,
            open: None,
        }),
        PrinterBackend::File { path, status_path } => Box::new(FilePrinter {
            path: path.clone(),
            status_path: status_path.clone(),
        }),
    }
}

/// A printer on a serial port, opened on first use and reopened after an error (so a
/// printer switched off and on again comes back without a restart).
pub struct SerialPrinter {
    port: String,
    baud: u32,
    open: Option<Box<dyn serialport::SerialPort>>,
}

impl SerialPrinter {
    fn port(&mut self) -> Result<&mut Box<dyn serialport::SerialPort>, PortError> {
        if self.open.is_none() {
            let port = serialport::new(&self.port, self.baud)
                .timeout(Duration::from_millis(500))
                .open()
                .map_err(|e| PortError::Open {
                    port: self.port.clone(),
                    message: e.to_string(),
                })?;
            self.open = Some(port);
        }
        self.open.as_mut().ok_or_else(|| PortError::Open {
            port: self.port.clone(),
            message: "not open".into(),
        })
    }
}

impl PrinterPort for SerialPrinter {
    fn send(&mut self, bytes: &[u8]) -> Result<(), PortError> {
        let result = self.port().and_then(|p| {
            p.write_all(bytes)
                .and_then(|()| p.flush())
                .map_err(PortError::from)
        });
        if result.is_err() {
            self.open = None;
        }
        result
    }

    fn paper_status(&mut self) -> PaperStatus {
        let answer = self.port().and_then(|p| {
            // Drop stale bytes so the answer read is the one to this query.
            let _ = p.clear(serialport::ClearBuffer::Input);
            p.write_all(&PAPER_STATUS_QUERY)?;
            p.flush()?;
            let mut byte = [0u8; 1];
            p.read_exact(&mut byte)?;
            Ok(byte[0])
        });
        match answer {
            Ok(b) => PaperStatus::from_byte(b).unwrap_or_else(|| {
                tracing::warn!(
                    byte = b,
                    "printer answered DLE EOT 4 with a non-status byte"
                );
                PaperStatus::Offline
            }),
            Err(e) => {
                tracing::warn!(error = %e, "printer did not answer the paper-status query");
                self.open = None;
                PaperStatus::Offline
            }
        }
    }
}

/// Appends each slip's bytes to a file; its paper status comes from an optional status file.
pub struct FilePrinter {
    path: PathBuf,
    status_path: Option<PathBuf>,
}

impl PrinterPort for FilePrinter {
    fn send(&mut self, bytes: &[u8]) -> Result<(), PortError> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        Ok(())
    }

    fn paper_status(&mut self) -> PaperStatus {
        let Some(path) = &self.status_path else {
            return PaperStatus::Ok;
        };
        match std::fs::read_to_string(path) {
            Ok(text) => parse_status_word(text.trim()).unwrap_or_else(|| {
                tracing::warn!(path = %path.display(), "printer status file holds an unknown word");
                PaperStatus::Offline
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => PaperStatus::Ok,
            Err(_) => PaperStatus::Offline,
        }
    }
}

fn parse_status_word(word: &str) -> Option<PaperStatus> {
    Some(match word {
        "ok" => PaperStatus::Ok,
        "near_end" => PaperStatus::NearEnd,
        "out" => PaperStatus::Out,
        "offline" => PaperStatus::Offline,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serialport::SerialPort;

    #[test]
    fn the_file_backend_appends_bytes_and_reads_its_status_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("paper.bin");
        let status = dir.path().join("status");
        let mut p = open(&PrinterBackend::File {
            path: out.clone(),
            status_path: Some(status.clone()),
        });
        assert_eq!(p.paper_status(), PaperStatus::Ok);
        p.send(b"one").unwrap();
        p.send(b"two").unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"onetwo");
        std::fs::write(&status, "out\n").unwrap();
        assert_eq!(p.paper_status(), PaperStatus::Out);
        std::fs::write(&status, "jammed").unwrap();
        assert_eq!(p.paper_status(), PaperStatus::Offline);
    }

    #[test]
    fn a_serial_printer_that_is_absent_is_offline_not_a_panic() {
        let mut p = open(&PrinterBackend::Serial {
            port: "/dev/does-not-exist-gatehouse".into(),
            baud: 9600,
        });
        assert_eq!(p.paper_status(), PaperStatus::Offline);
        assert!(p.send(b"x").is_err());
    }

    /// A fake printer on the master side of a pseudo-terminal: answers each `DLE EOT 4` with
    /// `status` and keeps every other byte.
    fn fake_printer(status: u8) -> (String, std::thread::JoinHandle<Vec<u8>>) {
        let (mut master, slave) = serialport::TTYPort::pair().unwrap();
        let name = slave.name().unwrap();
        // The backend opens the port exclusively, so the test's own end must close first.
        drop(slave);
        master.set_timeout(Duration::from_millis(200)).unwrap();
        let handle = std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut buf = [0u8; 256];
            // Until the backend has been quiet for a second (reads fail with EIO while no
            // one holds the other end, so time is measured, not failed reads).
            let mut last = std::time::Instant::now();
            while last.elapsed() < Duration::from_secs(1) {
                match master.read(&mut buf) {
                    Ok(n) if n > 0 => {
                        last = std::time::Instant::now();
                        got.extend_from_slice(&buf[..n]);
                        if got.ends_with(&PAPER_STATUS_QUERY) {
                            got.truncate(got.len() - 3);
                            master.write_all(&[status]).unwrap();
                        }
                    }
                    _ => std::thread::sleep(Duration::from_millis(10)),
                }
            }
            got
        });
        (name, handle)
    }

    #[test]
    fn the_serial_backend_asks_the_paper_sensor_and_sends_the_exact_bytes() {
        let (name, printer) = fake_printer(0x12);
        let mut p = open(&PrinterBackend::Serial {
            port: name,
            baud: 9600,
        });
        assert_eq!(p.paper_status(), PaperStatus::Ok);
        p.send(b"\x1b@slip").unwrap();
        assert_eq!(p.paper_status(), PaperStatus::Ok);
        drop(p);
        assert_eq!(printer.join().unwrap(), b"\x1b@slip");
    }

    #[test]
    fn a_serial_printer_without_paper_says_so() {
        let (name, printer) = fake_printer(0x72);
        let mut p = open(&PrinterBackend::Serial {
            port: name,
            baud: 9600,
        });
        assert_eq!(p.paper_status(), PaperStatus::Out);
        drop(p);
        printer.join().unwrap();
    }
}

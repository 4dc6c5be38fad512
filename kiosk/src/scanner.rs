//! The optional serial QR scanner: bytes in, whole lines out, to whichever screen listens.

use crate::config::ScannerConfig;
use std::io::Read;
use std::time::Duration;
use tokio::sync::broadcast;

/// Longest line kept; anything longer is noise (a credential is 122 characters).
pub const MAX_LINE: usize = 256;

/// Turns a byte stream into lines ended by CR or LF (GM65 scanners send CR by default).
/// A line with a control byte or non-UTF-8 is dropped, and so is an over-long one.
#[derive(Debug, Default)]
pub struct LineAssembler {
    buf: Vec<u8>,
    overflow: bool,
}

impl LineAssembler {
    /// Feeds bytes; returns the complete, well-formed lines.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        for &b in bytes {
            if b == b'\r' || b == b'\n' {
                let line = std::mem::take(&mut self.buf);
                let overflow = std::mem::take(&mut self.overflow);
                if overflow || line.is_empty() {
                    continue;
                }
                match String::from_utf8(line) {
                    Ok(s) if !s.chars().any(char::is_control) => lines.push(s),
                    _ => tracing::warn!("scanner sent a garbled line; ignored"),
                }
            } else if self.buf.len() >= MAX_LINE {
                self.overflow = true;
            } else {
                self.buf.push(b);
            }
        }
        lines
    }

    /// Ends a line that has no terminator after an idle gap (some USB scanners send none).
    pub fn flush_idle(&mut self) -> Vec<String> {
        if self.buf.is_empty() {
            self.overflow = false;
            return Vec::new();
        }
        self.push(b"\r")
    }
}

/// Reads the scanner on its own thread, reopening the port after errors, for as long as the
/// kiosk lives: once every strong sender of `lines` is dropped the thread closes the port and
/// ends, so a kiosk that is gone holds no port (another may get the same device name).
pub fn spawn(config: ScannerConfig, lines: broadcast::WeakSender<String>) {
    std::thread::spawn(move || {
        while lines.upgrade().is_some() {
            match serialport::new(&config.port, config.baud)
                .timeout(Duration::from_millis(150))
                .open()
            {
                Ok(mut port) => {
                    tracing::info!(port = %config.port, "scanner open");
                    if !read_lines(port.as_mut(), &lines) {
                        return;
                    }
                }
                Err(e) => tracing::warn!(port = %config.port, error = %e, "cannot open scanner"),
            }
            std::thread::sleep(Duration::from_secs(2));
        }
    });
}

/// Reads `port` until it fails (true: open it again) or the kiosk is gone (false).
fn read_lines<R: Read + ?Sized>(port: &mut R, lines: &broadcast::WeakSender<String>) -> bool {
    let mut assembler = LineAssembler::default();
    let mut buf = [0u8; 256];
    loop {
        let got = match port.read(&mut buf) {
            Ok(n) => assembler.push(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => assembler.flush_idle(),
            Err(e) => {
                tracing::warn!(error = %e, "scanner read failed; reopening");
                return true;
            }
        };
        let Some(lines) = lines.upgrade() else {
            return false;
        };
        for line in got {
            // Nobody listening is fine: no screen wants a scan right now.
            let _ = lines.send(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_is_read_while_the_kiosk_lives_and_closed_when_it_is_gone() {
        use serialport::SerialPort;
        use std::io::Write;
        let (mut master, slave) = serialport::TTYPort::pair().unwrap();
        let port = slave.name().unwrap();
        drop(slave);
        let (tx, mut rx) = broadcast::channel(16);
        spawn(ScannerConfig { port, baud: 9600 }, tx.downgrade());
        let started = std::time::Instant::now();
        let line = loop {
            assert!(started.elapsed() < Duration::from_secs(10), "no line read");
            // The thread may not have opened its end yet: scan again until it has.
            let _ = master.write_all(b"PASS\r");
            std::thread::sleep(Duration::from_millis(50));
            if let Ok(line) = rx.try_recv() {
                break line;
            }
        };
        assert_eq!(line, "PASS");
        // The kiosk goes: the port is closed, which the master end reads as an error.
        drop((tx, rx));
        master.set_timeout(Duration::from_millis(100)).unwrap();
        let started = std::time::Instant::now();
        let mut buf = [0u8; 64];
        loop {
            match master.read(&mut buf) {
                Err(e) if e.kind() != std::io::ErrorKind::TimedOut => break,
                _ => assert!(
                    started.elapsed() < Duration::from_secs(5),
                    "the port is still open"
                ),
            }
        }
    }

    #[test]
    fn lines_end_at_cr_or_lf_and_garbage_is_dropped() {
        let mut a = LineAssembler::default();
        assert!(a.push(b"AB").is_empty());
        assert_eq!(a.push(b"C\r\nDEF\r"), vec!["ABC", "DEF"]);
        assert!(a.push(b"\x01bad\r").is_empty());
        assert!(a.push(&[0xFF, 0xFE, b'\r']).is_empty());
        assert!(a.push(&vec![b'x'; MAX_LINE + 10]).is_empty());
        assert!(a.push(b"\r").is_empty());
        assert_eq!(a.push(b"OK\r"), vec!["OK"]);
        assert_eq!(a.push(b"NOEND"), Vec::<String>::new());
        assert_eq!(a.flush_idle(), vec!["NOEND"]);
    }
}

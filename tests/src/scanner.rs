//! Simulated QR scanners: a pseudo-terminal whose slave side a gate opens as its serial port,
//! or the slave path a gate's own `sim_link` pty exposes.

use crate::{HarnessError, Result};
use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// A pty pair: the harness writes scans to the master; the gate opens `slave_path()`.
#[derive(Debug)]
pub struct ScannerPty {
    master: File,
    // Held open so the slave side survives the gate closing and reopening it.
    _slave: OwnedFd,
    slave_path: PathBuf,
}

impl ScannerPty {
    /// Opens a new pseudo-terminal.
    pub fn open() -> Result<ScannerPty> {
        let os = |what: &str| {
            let what = what.to_owned();
            move |e: nix::Error| HarnessError::Io {
                what,
                source: e.into(),
            }
        };
        let pty = nix::pty::openpty(None, None).map_err(os("openpty"))?;
        let slave_path = nix::unistd::ttyname(&pty.slave).map_err(os("ttyname"))?;
        Ok(ScannerPty {
            master: File::from(pty.master),
            _slave: pty.slave,
            slave_path,
        })
    }

    /// The device path the gate opens as its scanner port.
    pub fn slave_path(&self) -> &Path {
        &self.slave_path
    }

    /// Sends one scan: the text and a CR, as a GM65 does by default.
    pub fn scan(&mut self, text: &str) -> Result<()> {
        send_raw(&mut self.master, format!("{text}\r").as_bytes())
    }

    /// Sends raw bytes (garbage, torn lines).
    pub fn send_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        send_raw(&mut self.master, bytes)
    }
}

/// Sends one scan to a gate's simulated scanner path (`sim_link`), like
/// `printf '%s\r' "$PASS" > path`.
pub fn scan_at(path: &Path, text: &str) -> Result<()> {
    let mut f = File::options()
        .write(true)
        .open(path)
        .map_err(HarnessError::io(format!(
            "opening scanner {}",
            path.display()
        )))?;
    send_raw(&mut f, format!("{text}\r").as_bytes())
}

fn send_raw(f: &mut File, bytes: &[u8]) -> Result<()> {
    f.write_all(bytes)
        .and_then(|()| f.flush())
        .map_err(HarnessError::io("writing to the scanner pty"))
}

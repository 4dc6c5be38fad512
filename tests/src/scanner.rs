//! Simulated QR scanners: a pseudo-terminal whose slave side a gate opens as its serial port,
//! or the slave path a gate's own `sim_link` pty exposes.

use crate::{HarnessError, Result};
use std::fs::File;
use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};
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
        let mut master: libc::c_int = -1;
        let mut slave: libc::c_int = -1;
        let mut name = [0 as libc::c_char; 128];
        // SAFETY: openpty writes two fds and a NUL-terminated name into our buffers; the
        // name buffer is larger than any pty path.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                name.as_mut_ptr(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        if rc != 0 {
            return Err(HarnessError::Io {
                what: "openpty".into(),
                source: std::io::Error::last_os_error(),
            });
        }
        // SAFETY: both fds were just returned by openpty and are owned by nobody else.
        let (master, slave) = unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        // SAFETY: openpty NUL-terminated the name.
        let slave_path = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        Ok(ScannerPty {
            master,
            _slave: slave,
            slave_path: PathBuf::from(slave_path),
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

//! Printer backends: a serial port, a USB printer-class device (`/dev/usb/lp0`, usblp), or a
//! file that receives the exact byte stream.

use super::escpos::{OFFLINE_CAUSE_QUERY, PAPER_STATUS_QUERY, PaperStatus};
use crate::config::PrinterBackend;
use std::io::{IsTerminal, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use thiserror::Error;

/// How long a printer has to answer a `DLE EOT` query.
pub const ANSWER_TIMEOUT: Duration = Duration::from_millis(500);

/// How long a printer may take no data in the middle of a slip. One that stalls this long
/// (paper out mid-slip, a hang) gets the slip withdrawn, not queued for later.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why bytes did not reach the printer.
#[derive(Debug, Error)]
pub enum PortError {
    /// The device could not be opened.
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

/// A place ESC/POS bytes go to, which can answer a status query. Blocking.
pub trait PrinterPort: Send {
    /// Sends the bytes of one slip.
    fn send(&mut self, bytes: &[u8]) -> Result<(), PortError>;
    /// Asks `DLE EOT 2` and `DLE EOT 4` (a file backend reads its status file); no answer
    /// means offline.
    fn paper_status(&mut self) -> PaperStatus;
    /// Withdraws whatever of an unfinished slip the link still holds, so it cannot print
    /// later (after a refill); as far as the link allows.
    fn discard_pending(&mut self) {}
}

/// Builds the backend the configuration names.
pub fn open(backend: &PrinterBackend) -> Box<dyn PrinterPort> {
    match backend {
        PrinterBackend::Serial { port, baud } => Box::new(SerialPrinter::new(port, *baud)),
        PrinterBackend::Usb { port } => Box::new(UsbPrinter::device(port)),
        PrinterBackend::Auto { port, baud } => Box::new(AutoPrinter {
            port: port.clone(),
            baud: *baud,
            found: None,
        }),
        PrinterBackend::File { path, status_path } => Box::new(FilePrinter {
            path: path.clone(),
            status_path: status_path.clone(),
        }),
    }
}

/// The link in `slot`, opened first if it is not open (after a start or an error).
fn opened<'a, T>(
    slot: &'a mut Option<T>,
    name: &str,
    open: impl FnOnce() -> Result<T, String>,
) -> Result<&'a mut T, PortError> {
    let link = match slot.take() {
        Some(link) => link,
        None => open().map_err(|message| PortError::Open {
            port: name.to_owned(),
            message,
        })?,
    };
    Ok(slot.insert(link))
}

/// A link that answers one real-time status query with one byte.
trait StatusLink {
    fn ask(&mut self, query: [u8; 3]) -> std::io::Result<u8>;
}

/// `DLE EOT 2` then `DLE EOT 4`, decoded; any failure is logged and means offline.
fn query_status(link: &mut dyn StatusLink) -> Result<PaperStatus, std::io::Error> {
    let cause = link.ask(OFFLINE_CAUSE_QUERY)?;
    let paper = link.ask(PAPER_STATUS_QUERY)?;
    Ok(PaperStatus::from_bytes(cause, paper).unwrap_or_else(|| {
        tracing::warn!(
            cause,
            paper,
            "printer answered DLE EOT with non-status bytes"
        );
        PaperStatus::Offline
    }))
}

/// A printer on a serial port, opened on first use and reopened after an error (so a
/// printer switched off and on again comes back without a restart).
pub struct SerialPrinter {
    port: String,
    baud: u32,
    open: Option<Box<dyn serialport::SerialPort>>,
}

impl SerialPrinter {
    fn new(port: &str, baud: u32) -> Self {
        SerialPrinter {
            port: port.to_owned(),
            baud,
            open: None,
        }
    }

    fn port(&mut self) -> Result<&mut Box<dyn serialport::SerialPort>, PortError> {
        let (name, baud) = (&self.port, self.baud);
        opened(&mut self.open, name, || {
            serialport::new(name, baud)
                .timeout(ANSWER_TIMEOUT)
                .open()
                .map_err(|e| e.to_string())
        })
    }
}

impl StatusLink for Box<dyn serialport::SerialPort> {
    fn ask(&mut self, query: [u8; 3]) -> std::io::Result<u8> {
        // Drop stale bytes so the answer read is the one to this query.
        let _ = self.clear(serialport::ClearBuffer::Input);
        self.write_all(&query)?;
        self.flush()?;
        let mut byte = [0u8; 1];
        self.read_exact(&mut byte)?;
        Ok(byte[0])
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
        let answer = self
            .port()
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|p| query_status(p));
        answer.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "printer did not answer the status query");
            self.open = None;
            PaperStatus::Offline
        })
    }

    fn discard_pending(&mut self) {
        if let Some(p) = &mut self.open {
            // What is still in the UART's queue never reaches the printer.
            let _ = p.clear(serialport::ClearBuffer::Output);
        }
    }
}

/// The usblp ioctl `LPIOC_SOFT_RESET` (`_IOC(_IOC_NONE, 'P', 7, 0)`): the USB printer class
/// SOFT_RESET request, which per the class specification flushes the printer's buffers.
const USBLP_SOFT_RESET: libc::c_ulong = 0x5007;

/// A USB printer-class device as the kernel's usblp driver presents it: a character device
/// with no tty ioctls (ENOTTY) and no fsync (EINVAL). Plain non-blocking reads and writes with
/// `poll` deadlines; opened on first use and reopened after an error.
pub struct UsbPrinter<D> {
    name: String,
    opener: Box<dyn FnMut() -> std::io::Result<D> + Send>,
    open: Option<D>,
    answer_timeout: Duration,
    write_timeout: Duration,
}

impl UsbPrinter<std::fs::File> {
    /// The device node `path`, e.g. `/dev/usb/lp0` or `/dev/gatehouse-printer`.
    pub fn device(path: &str) -> Self {
        let owned = path.to_owned();
        Self::with_opener(path, move || open_device(&owned))
    }
}

fn open_device(path: &str) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

impl<D: Read + Write + AsRawFd + Send> UsbPrinter<D> {
    /// A printer behind any non-blocking file descriptor `opener` gives (tests use a socket,
    /// which refuses tty ioctls and fsync exactly as usblp does).
    pub fn with_opener(
        name: &str,
        opener: impl FnMut() -> std::io::Result<D> + Send + 'static,
    ) -> Self {
        UsbPrinter {
            name: name.to_owned(),
            opener: Box::new(opener),
            open: None,
            answer_timeout: ANSWER_TIMEOUT,
            write_timeout: WRITE_TIMEOUT,
        }
    }

    /// Overrides how long a printer may take no data in the middle of a slip.
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    fn dev(&mut self) -> Result<&mut D, PortError> {
        let opener = &mut self.opener;
        opened(&mut self.open, &self.name, || {
            opener().map_err(|e| e.to_string())
        })
    }
}

/// Waits until `fd` is ready for `events` or `deadline` passes; false on timeout.
fn wait_ready(fd: RawFd, events: libc::c_short, deadline: Instant) -> std::io::Result<bool> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut pfd = libc::pollfd {
            fd,
            events,
            revents: 0,
        };
        let ms = libc::c_int::try_from(left.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: one valid pollfd, its count, and a timeout; poll touches nothing else.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Ok(false);
        }
        if pfd.revents & (libc::POLLERR | libc::POLLNVAL) != 0 {
            return Err(std::io::Error::other("printer device reports an error"));
        }
        // POLLHUP alone still lets a read see the end of the stream.
        return Ok(true);
    }
}

/// Writes all of `bytes` to a non-blocking `dev`, failing when it takes nothing for `stall`
/// (a long slip may take a while to print through a small buffer; a stopped printer takes
/// nothing at all).
fn write_all_unless_stalled<D: Write + AsRawFd>(
    dev: &mut D,
    mut bytes: &[u8],
    stall: Duration,
) -> std::io::Result<()> {
    let mut deadline = Instant::now() + stall;
    while !bytes.is_empty() {
        match dev.write(bytes) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                bytes = &bytes[n..];
                deadline = Instant::now() + stall;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if !wait_ready(dev.as_raw_fd(), libc::POLLOUT, deadline)? {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the printer stopped taking data",
                    ));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

struct Timed<'a, D> {
    dev: &'a mut D,
    timeout: Duration,
}

impl<D: Read + Write + AsRawFd> StatusLink for Timed<'_, D> {
    fn ask(&mut self, query: [u8; 3]) -> std::io::Result<u8> {
        let mut byte = [0u8; 1];
        // Drop stale bytes (a late answer to an earlier query) so the answer read is this one.
        for _ in 0..64 {
            match self.dev.read(&mut byte) {
                Ok(n) if n > 0 => continue,
                _ => break,
            }
        }
        let deadline = Instant::now() + self.timeout;
        write_all_unless_stalled(self.dev, &query, self.timeout)?;
        loop {
            if !wait_ready(self.dev.as_raw_fd(), libc::POLLIN, deadline)? {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "no answer to DLE EOT",
                ));
            }
            match self.dev.read(&mut byte) {
                Ok(1) => return Ok(byte[0]),
                Ok(_) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                    // usblp answers reads on a unidirectional interface with EINVAL.
                    return Err(std::io::Error::other(
                        "the printer is unidirectional (read gives EINVAL): set printer.status_query = false",
                    ));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl<D: Read + Write + AsRawFd + Send> PrinterPort for UsbPrinter<D> {
    fn send(&mut self, bytes: &[u8]) -> Result<(), PortError> {
        let stall = self.write_timeout;
        let result = self
            .dev()
            .and_then(|d| write_all_unless_stalled(d, bytes, stall).map_err(PortError::from));
        if result.is_err() {
            self.discard_pending();
        }
        result
    }

    fn paper_status(&mut self) -> PaperStatus {
        let timeout = self.answer_timeout;
        let answer = self
            .dev()
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|dev| query_status(&mut Timed { dev, timeout }));
        answer.unwrap_or_else(|e| {
            tracing::warn!(error = %e, printer = %self.name, "printer did not answer the status query");
            self.open = None;
            PaperStatus::Offline
        })
    }

    fn discard_pending(&mut self) {
        if let Some(dev) = self.open.take() {
            // SAFETY: an ioctl without an argument on a descriptor we own; a device that is
            // not usblp answers ENOTTY, which is fine.
            let reset = unsafe { libc::ioctl(dev.as_raw_fd(), USBLP_SOFT_RESET as _) };
            if reset != 0 {
                tracing::debug!(error = %std::io::Error::last_os_error(), "printer soft reset not available");
            }
            // Closing the device makes usblp kill its transfer in flight.
            drop(dev);
        }
    }
}

/// `/dev/gatehouse-printer` whatever it turns out to be: a tty is driven as a serial printer,
/// any other character device as a USB printer-class device. Decided when the device is
/// first found, so a printer plugged in after the start is handled too.
pub struct AutoPrinter {
    port: String,
    baud: u32,
    found: Option<Box<dyn PrinterPort>>,
}

impl AutoPrinter {
    fn found(&mut self) -> Option<&mut Box<dyn PrinterPort>> {
        if self.found.is_none() {
            let dev = open_device(&self.port)
                .map_err(|e| tracing::warn!(error = %e, port = %self.port, "cannot open printer"))
                .ok()?;
            let found: Box<dyn PrinterPort> = if dev.is_terminal() {
                tracing::info!(port = %self.port, "printer is a serial port");
                drop(dev);
                Box::new(SerialPrinter::new(&self.port, self.baud))
            } else {
                tracing::info!(port = %self.port, "printer is a USB printer-class device");
                let mut first = Some(dev);
                let path = self.port.clone();
                Box::new(UsbPrinter::with_opener(&self.port, move || {
                    match first.take() {
                        Some(dev) => Ok(dev),
                        None => open_device(&path),
                    }
                }))
            };
            self.found = Some(found);
        }
        self.found.as_mut()
    }
}

impl PrinterPort for AutoPrinter {
    fn send(&mut self, bytes: &[u8]) -> Result<(), PortError> {
        let port = self.port.clone();
        match self.found() {
            Some(p) => p.send(bytes),
            None => Err(PortError::Open {
                port,
                message: "no such device".into(),
            }),
        }
    }

    fn paper_status(&mut self) -> PaperStatus {
        self.found()
            .map_or(PaperStatus::Offline, |p| p.paper_status())
    }

    fn discard_pending(&mut self) {
        if let Some(p) = &mut self.found {
            p.discard_pending();
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
        "cover_open" => PaperStatus::CoverOpen,
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
        for backend in [
            PrinterBackend::Serial {
                port: "/dev/does-not-exist-gatehouse".into(),
                baud: 9600,
            },
            PrinterBackend::Usb {
                port: "/dev/does-not-exist-gatehouse".into(),
            },
            PrinterBackend::Auto {
                port: "/dev/does-not-exist-gatehouse".into(),
                baud: 9600,
            },
        ] {
            let mut p = open(&backend);
            assert_eq!(p.paper_status(), PaperStatus::Offline, "{backend:?}");
            assert!(p.send(b"x").is_err(), "{backend:?}");
        }
    }

    /// A fake printer on the master side of a pseudo-terminal: answers each `DLE EOT 4` with
    /// `status`, `DLE EOT 2` with "no cause", and keeps every other byte.
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
                        } else if got.ends_with(&OFFLINE_CAUSE_QUERY) {
                            // No offline cause: the paper sensor tells the rest.
                            got.truncate(got.len() - 3);
                            master.write_all(&[0x12]).unwrap();
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

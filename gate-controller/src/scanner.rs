//! The serial QR scanner: frames lines (CR, LF or CRLF, or an idle gap for scanners that send
//! no terminator), bounds them, drops garbage with one warning per line, debounces the same
//! text, survives the device vanishing, and can configure a GM65-class scanner at start.
//!
//! [`LineFramer`] and [`Debounce`] are pure; [`spawn`] runs them on a reader thread over a real
//! serial port or over a pseudo-terminal the gate opens itself (the simulated scanner).

use crate::config::ScannerConfig;
use crate::core::{EarlyCheck, PublishedRing};
use gatehouse_credential::MAX_TEXT_LEN;
use serialport::{SerialPort, TTYPort};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use thiserror::Error;

/// Why the scanner cannot be used.
#[derive(Debug, Error)]
pub enum ScannerError {
    /// Opening or configuring the serial port failed.
    #[error("serial port {path}: {source}")]
    Port {
        /// The device.
        path: String,
        /// The cause.
        source: serialport::Error,
    },
    /// Reading or writing failed.
    #[error("scanner i/o: {0}")]
    Io(#[from] io::Error),
    /// The simulated scanner's link could not be made.
    #[error("simulated scanner link {path}: {message}")]
    Link {
        /// The link path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A GM65 command was not acknowledged.
    #[error("GM65 setup: {what} was not acknowledged (got {got:02X?})")]
    NoAck {
        /// Which command.
        what: &'static str,
        /// What came back instead.
        got: Vec<u8>,
    },
}

/// Why a line was dropped before reaching the verifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dropped {
    /// Longer than the bound.
    TooLong {
        /// Bytes seen before the terminator.
        len: usize,
    },
    /// Contained bytes that are not printable ASCII.
    NotText,
}

/// What the framer produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A complete line of printable text.
    Line(String),
    /// A line that was dropped.
    Dropped(Dropped),
}

/// Splits a byte stream into lines. Pure: time is passed in.
#[derive(Debug)]
pub struct LineFramer {
    buf: Vec<u8>,
    max: usize,
    overflow: usize,
    not_text: bool,
    idle_gap: Option<Duration>,
    last_byte: Option<Instant>,
}

impl LineFramer {
    /// A framer for lines of at most `max` bytes; `idle_gap` ends a line after silence.
    pub fn new(max: usize, idle_gap: Option<Duration>) -> Self {
        LineFramer {
            buf: Vec::with_capacity(max),
            max,
            overflow: 0,
            not_text: false,
            idle_gap,
            last_byte: None,
        }
    }

    /// Feeds one byte received at `now`.
    pub fn push(&mut self, byte: u8, now: Instant) -> Option<Frame> {
        self.last_byte = Some(now);
        match byte {
            b'\r' | b'\n' => self.finish(),
            _ if self.overflow > 0 => {
                self.overflow += 1;
                None
            }
            _ if self.buf.len() == self.max => {
                self.overflow = self.buf.len() + 1;
                self.buf.clear();
                None
            }
            _ => {
                self.not_text |= !(0x20..=0x7E).contains(&byte);
                self.buf.push(byte);
                None
            }
        }
    }

    /// Ends a pending line if the line has been silent for the idle gap.
    pub fn idle(&mut self, now: Instant) -> Option<Frame> {
        let gap = self.idle_gap?;
        let last = self.last_byte?;
        if now.saturating_duration_since(last) >= gap {
            self.last_byte = None;
            self.finish()
        } else {
            None
        }
    }

    /// How many bytes of the current line have been kept so far.
    pub fn pending_len(&self) -> usize {
        self.buf.len()
    }

    /// The line received so far, if it is still printable text within the bound.
    pub fn pending(&self) -> Option<&str> {
        if self.overflow > 0 || self.not_text {
            return None;
        }
        std::str::from_utf8(&self.buf).ok()
    }

    fn finish(&mut self) -> Option<Frame> {
        let frame = if self.overflow > 0 {
            Some(Frame::Dropped(Dropped::TooLong { len: self.overflow }))
        } else if self.buf.is_empty() {
            // The LF of a CRLF, or a blank line.
            None
        } else if self.not_text {
            Some(Frame::Dropped(Dropped::NotText))
        } else {
            // Printable ASCII is always UTF-8.
            Some(Frame::Line(String::from_utf8_lossy(&self.buf).into_owned()))
        };
        self.buf.clear();
        self.overflow = 0;
        self.not_text = false;
        frame
    }
}

/// Ignores the same text seen again within the window (counted from the last accepted scan).
#[derive(Debug)]
pub struct Debounce {
    window: Duration,
    last: Option<(String, Instant)>,
}

impl Debounce {
    /// A debouncer with the given window (zero disables it).
    pub fn new(window: Duration) -> Self {
        Debounce { window, last: None }
    }

    /// Whether `text` at `now` should be passed on.
    pub fn accept(&mut self, text: &str, now: Instant) -> bool {
        if let Some((last, at)) = &self.last {
            if last == text && now.saturating_duration_since(*at) < self.window {
                return false;
            }
        }
        self.last = Some((text.to_owned(), now));
        true
    }
}

/// The GM65 acknowledgement of a command.
pub const GM65_ACK: [u8; 7] = [0x02, 0x00, 0x00, 0x01, 0x00, 0x33, 0x31];

/// A GM65 "write register" frame for one data byte; `AB CD` skips the CRC check.
pub fn gm65_write_register(addr: u16, value: u8) -> [u8; 9] {
    let [hi, lo] = addr.to_be_bytes();
    [0x7E, 0x00, 0x08, 0x01, hi, lo, value, 0xAB, 0xCD]
}

/// The frames sent at start: disable setting barcodes (register 0x0003, value 0x03 as in
/// public GM65 drivers) and set the same-code delay (register 0x0013). Settings are not saved
/// to flash: they are sent again at every open, which spares the flash.
pub fn gm65_setup_frames(same_code_delay: u8) -> [(&'static str, [u8; 9]); 2] {
    [
        (
            "disable setting barcodes",
            gm65_write_register(0x0003, 0x03),
        ),
        (
            "same-code delay",
            gm65_write_register(0x0013, same_code_delay),
        ),
    ]
}

/// Sends the setup frames and checks every acknowledgement (1 s each).
pub fn gm65_setup<P: Read + Write>(port: &mut P, same_code_delay: u8) -> Result<(), ScannerError> {
    for (what, frame) in gm65_setup_frames(same_code_delay) {
        port.write_all(&frame)?;
        let mut got = Vec::with_capacity(GM65_ACK.len());
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut byte = [0u8; 16];
        while got.len() < GM65_ACK.len() && Instant::now() < deadline {
            match port.read(&mut byte[..GM65_ACK.len() - got.len()]) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&byte[..n]),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {}
                Err(e) => return Err(e.into()),
            }
        }
        if got != GM65_ACK {
            return Err(ScannerError::NoAck { what, got });
        }
    }
    Ok(())
}

/// What the reader thread reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScannerEvent {
    /// A framed, debounced line; `at` is when its terminator (or idle gap) was seen.
    Line {
        /// The text.
        text: String,
        /// When it was complete.
        at: Instant,
        /// The signature check made while the terminator was still on its way, if any.
        early: Option<EarlyCheck>,
    },
    /// The device vanished or could not be opened.
    Lost {
        /// Why.
        reason: String,
    },
    /// The device is back.
    Restored,
}

/// Counters for the status page.
#[derive(Debug, Default)]
pub struct ScannerStats {
    /// Lines passed on.
    pub lines: AtomicU64,
    /// Lines dropped as too long.
    pub dropped_too_long: AtomicU64,
    /// Lines dropped as not text.
    pub dropped_not_text: AtomicU64,
    /// Lines ignored by the debounce.
    pub debounced: AtomicU64,
    /// Whether the device is open.
    pub connected: AtomicBool,
    /// Whether the GM65 setup succeeded (false when disabled or failed).
    pub setup_ok: AtomicBool,
}

/// The running reader; dropping it stops the thread and removes the simulated link.
#[derive(Debug)]
pub struct ScannerHandle {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    link: Option<PathBuf>,
    /// Counters.
    pub stats: Arc<ScannerStats>,
}

impl Drop for ScannerHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(link) = &self.link {
            let _ = std::fs::remove_file(link);
        }
    }
}

/// Where bytes come from.
enum Source {
    Port(String),
    /// The master side of the gate's own pty; the slave is kept open so that writers may come
    /// and go without the master seeing a hang-up.
    Sim {
        master: TTYPort,
        _slave: TTYPort,
    },
}

/// Where a reader delivers what it reads, on its own thread.
pub type Sink = Box<dyn Fn(ScannerEvent) + Send>;

/// The gate's current keys, shared with its readers for early checks.
pub type SharedKeys = Arc<RwLock<PublishedRing>>;

/// Starts the reader thread. A simulated scanner's link exists when this returns; a real port
/// that cannot be opened yet is retried in the background (reported as `Lost`). With `keys`,
/// a line of a credential's length is verified as soon as it is there, before its terminator.
pub fn spawn(
    config: &ScannerConfig,
    sink: Sink,
    keys: Option<SharedKeys>,
) -> Result<ScannerHandle, ScannerError> {
    let (source, link) = match (&config.port, &config.sim_link) {
        (Some(port), _) => (Source::Port(port.clone()), None),
        (None, Some(link)) => {
            let (master, slave) = open_sim(link)?;
            (
                Source::Sim {
                    master,
                    _slave: slave,
                },
                Some(link.clone()),
            )
        }
        (None, None) => {
            return Err(ScannerError::Link {
                path: PathBuf::new(),
                message: "no scanner configured".into(),
            });
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(ScannerStats::default());
    let reader = Reader {
        config: config.clone(),
        sink,
        keys,
        stop: stop.clone(),
        stats: stats.clone(),
    };
    let thread = std::thread::Builder::new()
        .name("scanner".into())
        .spawn(move || reader.run(source))?;
    Ok(ScannerHandle {
        stop,
        thread: Some(thread),
        link,
        stats,
    })
}

fn open_sim(link: &Path) -> Result<(TTYPort, TTYPort), ScannerError> {
    let bad = |message: String| ScannerError::Link {
        path: link.to_owned(),
        message,
    };
    let (master, mut slave) = TTYPort::pair().map_err(|e| bad(format!("openpty: {e}")))?;
    // Others must be able to open the slave path to write scans into it.
    slave
        .set_exclusive(false)
        .map_err(|e| bad(format!("cannot share the pty: {e}")))?;
    let target = slave
        .name()
        .ok_or_else(|| bad("the pty has no path".into()))?;
    match std::fs::symlink_metadata(link) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::remove_file(link).map_err(|e| bad(format!("cannot replace: {e}")))?
        }
        Ok(_) => {
            return Err(bad(
                "exists and is not a symlink; refusing to replace it".into()
            ));
        }
        Err(_) => {}
    }
    std::os::unix::fs::symlink(&target, link).map_err(|e| bad(format!("cannot create: {e}")))?;
    Ok((master, slave))
}

struct Reader {
    config: ScannerConfig,
    sink: Sink,
    keys: Option<SharedKeys>,
    stop: Arc<AtomicBool>,
    stats: Arc<ScannerStats>,
}

impl Reader {
    fn poll_interval(&self) -> Duration {
        match self.config.idle_gap_ms {
            0 => Duration::from_millis(200),
            gap => Duration::from_millis(gap.clamp(5, 200)),
        }
    }

    fn run(self, source: Source) {
        match source {
            Source::Sim { mut master, _slave } => {
                let _ = master.set_timeout(self.poll_interval());
                self.stats.connected.store(true, Ordering::SeqCst);
                let _ = self.read_until_lost(&mut master);
            }
            Source::Port(path) => self.run_port(&path),
        }
    }

    fn run_port(&self, path: &str) {
        let mut lost_reported = false;
        while !self.stop.load(Ordering::SeqCst) {
            match self.open_port(path) {
                Ok(mut port) => {
                    if lost_reported {
                        (self.sink)(ScannerEvent::Restored);
                    }
                    tracing::info!(port = path, "scanner open");
                    self.stats.connected.store(true, Ordering::SeqCst);
                    let reason = match self.read_until_lost(&mut port) {
                        Ok(()) => return,
                        Err(e) => e.to_string(),
                    };
                    self.stats.connected.store(false, Ordering::SeqCst);
                    tracing::warn!(port = path, %reason, "scanner lost; reopening");
                    (self.sink)(ScannerEvent::Lost { reason });
                    lost_reported = true;
                }
                Err(e) => {
                    if !lost_reported {
                        tracing::warn!(error = %e, "scanner cannot be opened; retrying");
                        (self.sink)(ScannerEvent::Lost {
                            reason: e.to_string(),
                        });
                        lost_reported = true;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(self.config.reopen_ms.max(10)));
        }
    }

    fn open_port(&self, path: &str) -> Result<TTYPort, ScannerError> {
        let err = |source| ScannerError::Port {
            path: path.to_owned(),
            source,
        };
        let mut port = serialport::new(path, self.config.baud)
            .data_bits(serialport::DataBits::Eight)
            .parity(serialport::Parity::None)
            .stop_bits(serialport::StopBits::One)
            .flow_control(serialport::FlowControl::None)
            .timeout(Duration::from_millis(100))
            .open_native()
            .map_err(err)?;
        if self.config.gm65_setup {
            match gm65_setup(&mut port, self.config.gm65_same_code_delay) {
                Ok(()) => {
                    self.stats.setup_ok.store(true, Ordering::SeqCst);
                    tracing::info!("GM65 scanner configured: setting barcodes disabled");
                }
                Err(e) => {
                    // Keep reading scans: a door that stops working is worse; the status page
                    // and the log say the scanner is not locked down.
                    self.stats.setup_ok.store(false, Ordering::SeqCst);
                    tracing::error!(error = %e, "GM65 setup failed; setting barcodes may be enabled");
                }
            }
        }
        port.set_timeout(self.poll_interval()).map_err(err)?;
        Ok(port)
    }

    /// Reads until the device fails (`Err`) or the reader is stopped (`Ok`).
    fn read_until_lost<P: Read>(&self, port: &mut P) -> io::Result<()> {
        let idle_gap =
            (self.config.idle_gap_ms > 0).then(|| Duration::from_millis(self.config.idle_gap_ms));
        let mut framer = LineFramer::new(self.config.max_line, idle_gap);
        let mut debounce = Debounce::new(Duration::from_millis(self.config.debounce_ms));
        let mut buf = [0u8; 256];
        let mut early: Option<EarlyCheck> = None;
        while !self.stop.load(Ordering::SeqCst) {
            match port.read(&mut buf) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "device closed",
                    ));
                }
                Ok(n) => {
                    let now = Instant::now();
                    for &b in &buf[..n] {
                        if let Some(frame) = framer.push(b, now) {
                            self.deliver(frame, now, &mut debounce, early.take());
                        }
                    }
                    self.check_early(&framer, &mut early);
                }
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    let now = Instant::now();
                    if let Some(frame) = framer.idle(now) {
                        self.deliver(frame, now, &mut debounce, early.take());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Verifies a pending line of exactly a credential's length once, while its terminator
    /// is still on the wire (one character time: ≈ 1 ms at 9600 baud).
    fn check_early(&self, framer: &LineFramer, early: &mut Option<EarlyCheck>) {
        // The length first: this runs after every read, byte by byte at 9600 baud.
        let Some(keys) = self
            .keys
            .as_ref()
            .filter(|_| framer.pending_len() == MAX_TEXT_LEN)
        else {
            return;
        };
        let Some(text) = framer.pending() else {
            return;
        };
        if early.as_ref().is_some_and(|e| e.text == text) {
            return;
        }
        let keys = keys.read().unwrap_or_else(|p| p.into_inner());
        *early = Some(EarlyCheck::of(text, &keys));
    }

    fn deliver(
        &self,
        frame: Frame,
        at: Instant,
        debounce: &mut Debounce,
        early: Option<EarlyCheck>,
    ) {
        match frame {
            Frame::Line(text) => {
                if !debounce.accept(&text, at) {
                    self.stats.debounced.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!("same text again within the debounce time; ignored");
                    return;
                }
                self.stats.lines.fetch_add(1, Ordering::Relaxed);
                let early = early.filter(|e| e.text == text);
                (self.sink)(ScannerEvent::Line { text, at, early });
            }
            Frame::Dropped(Dropped::TooLong { len }) => {
                self.stats.dropped_too_long.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    len,
                    max = self.config.max_line,
                    "scanner line too long; dropped"
                );
            }
            Frame::Dropped(Dropped::NotText) => {
                self.stats.dropped_not_text.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("scanner line is not text (wrong baud rate?); dropped");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(framer: &mut LineFramer, bytes: &[u8], t: Instant) -> Vec<Frame> {
        bytes.iter().filter_map(|b| framer.push(*b, t)).collect()
    }

    #[test]
    fn cr_lf_and_crlf_end_lines_and_blank_lines_vanish() {
        let t = Instant::now();
        let mut f = LineFramer::new(512, None);
        assert_eq!(
            frames(&mut f, b"AB\rCD\nEF\r\n\r\nGH", t),
            vec![
                Frame::Line("AB".into()),
                Frame::Line("CD".into()),
                Frame::Line("EF".into())
            ]
        );
        assert_eq!(f.idle(t + Duration::from_secs(9)), None, "no idle gap set");
        assert_eq!(frames(&mut f, b"\r", t), vec![Frame::Line("GH".into())]);
    }

    #[test]
    fn over_long_and_binary_lines_are_dropped_whole() {
        let t = Instant::now();
        let mut f = LineFramer::new(16, None);
        let mut input = vec![b'A'; 40];
        input.push(b'\r');
        input.extend_from_slice(b"OK\r\x00\xFFjunk\rNEXT\n");
        assert_eq!(
            frames(&mut f, &input, t),
            vec![
                Frame::Dropped(Dropped::TooLong { len: 40 }),
                Frame::Line("OK".into()),
                Frame::Dropped(Dropped::NotText),
                Frame::Line("NEXT".into()),
            ]
        );
        // Exactly at the bound is fine.
        let mut exact = vec![b'B'; 16];
        exact.push(b'\n');
        assert_eq!(frames(&mut f, &exact, t), vec![Frame::Line("B".repeat(16))]);
    }

    #[test]
    fn idle_gap_ends_a_line_without_terminator() {
        let t = Instant::now();
        let mut f = LineFramer::new(512, Some(Duration::from_millis(100)));
        assert!(frames(&mut f, b"NOTERM", t).is_empty());
        assert_eq!(f.idle(t + Duration::from_millis(50)), None);
        assert_eq!(
            f.idle(t + Duration::from_millis(100)),
            Some(Frame::Line("NOTERM".into()))
        );
        assert_eq!(f.idle(t + Duration::from_millis(300)), None);
    }

    #[test]
    fn debounce_ignores_same_text_within_window_only() {
        let t = Instant::now();
        let s = |n| t + Duration::from_millis(n);
        let mut d = Debounce::new(Duration::from_secs(3));
        assert!(d.accept("A", s(0)));
        assert!(!d.accept("A", s(1000)));
        assert!(!d.accept("A", s(2999)));
        assert!(d.accept("A", s(3000)));
        assert!(d.accept("B", s(3100)));
        assert!(d.accept("A", s(3200)), "a different text in between resets");
    }

    /// A GM65 played on the master side of a pty: reads frames, answers `reply`. The master is
    /// handed back rather than closed, so the last answer is not cut off by a hang-up.
    fn fake_gm65(mut master: TTYPort, reply: Vec<u8>) -> JoinHandle<(Vec<[u8; 9]>, TTYPort)> {
        std::thread::spawn(move || {
            master.set_timeout(Duration::from_secs(2)).unwrap();
            let mut seen = Vec::new();
            for _ in 0..2 {
                let mut frame = [0u8; 9];
                if master.read_exact(&mut frame).is_err() {
                    break;
                }
                seen.push(frame);
                master.write_all(&reply).unwrap();
            }
            (seen, master)
        })
    }

    #[test]
    fn gm65_setup_checks_every_ack_over_a_pty() {
        let (master, mut slave) = TTYPort::pair().unwrap();
        let scanner = fake_gm65(master, GM65_ACK.to_vec());
        slave.set_timeout(Duration::from_millis(100)).unwrap();
        gm65_setup(&mut slave, 0x85).unwrap();
        let (frames, _master) = scanner.join().unwrap();
        assert_eq!(
            frames,
            vec![
                [0x7E, 0x00, 0x08, 0x01, 0x00, 0x03, 0x03, 0xAB, 0xCD],
                [0x7E, 0x00, 0x08, 0x01, 0x00, 0x13, 0x85, 0xAB, 0xCD],
            ]
        );

        let (master, mut slave) = TTYPort::pair().unwrap();
        let scanner = fake_gm65(master, vec![0x02, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00]);
        slave.set_timeout(Duration::from_millis(100)).unwrap();
        let err = gm65_setup(&mut slave, 0x85).unwrap_err();
        assert!(
            err.to_string().contains("disable setting barcodes"),
            "{err}"
        );
        drop(slave);
        let _ = scanner.join();
    }

    fn channel(tx: std::sync::mpsc::Sender<ScannerEvent>) -> Sink {
        Box::new(move |event| {
            let _ = tx.send(event);
        })
    }

    fn sim_config(link: &Path) -> crate::config::ScannerConfig {
        crate::config::ScannerConfig {
            port: None,
            sim_link: Some(link.to_owned()),
            baud: 9600,
            debounce_ms: 3000,
            idle_gap_ms: 100,
            max_line: 512,
            gm65_setup: false,
            gm65_same_code_delay: 0x85,
            reopen_ms: 100,
        }
    }

    #[test]
    fn a_credential_whose_terminator_is_late_is_verified_before_it_arrives() {
        use crate::core::tests::{claims, signer};
        use gatehouse_credential::{CardId, KeyRing, Kind};
        // Only the signature is checked early, so any pass the core's tests sign will do.
        let pass = |card| signer().issue(&claims(card, Kind::Visitor, None)).unwrap();
        let mut ring = KeyRing::new();
        ring.insert_signer(&signer());
        let keys: SharedKeys = Arc::new(RwLock::new(PublishedRing {
            generation: 3,
            ring,
        }));
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("scanner");
        let (tx, rx) = std::sync::mpsc::channel();
        let _handle = spawn(&sim_config(&link), channel(tx), Some(keys)).unwrap();
        let mut w = std::fs::OpenOptions::new().write(true).open(&link).unwrap();
        let next_line = || match rx.recv().unwrap() {
            ScannerEvent::Line { text, early, .. } => (text, early),
            other => panic!("{other:?}"),
        };

        // The body, then the terminator a character time later, as a 9600-baud line sends it.
        let late = pass(1);
        w.write_all(late.as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        w.write_all(b"\r").unwrap();
        let (text, early) = next_line();
        assert_eq!(text, late);
        let early = early.expect("checked before the terminator");
        assert_eq!(early.generation, 3);
        assert_eq!(early.verified.unwrap().claims.card_id, CardId(1));

        // Body and terminator in one read: nothing to win, the core verifies.
        w.write_all(format!("{}\r", pass(2)).as_bytes()).unwrap();
        assert_eq!(next_line().1, None);

        // A longer line that merely passed through a credential's length is not taken for it.
        let longer = format!("{}X", pass(3));
        w.write_all(&longer.as_bytes()[..MAX_TEXT_LEN]).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        w.write_all(b"X\r").unwrap();
        assert_eq!(next_line(), (longer, None));
    }

    #[test]
    fn simulated_scanner_reads_what_is_written_to_its_link() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("scanner");
        let config = sim_config(&link);
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = spawn(&config, channel(tx), None).unwrap();
        // Like `printf '%s\r' PASS > link`, twice: the second is debounced.
        for _ in 0..2 {
            let mut w = std::fs::OpenOptions::new().write(true).open(&link).unwrap();
            w.write_all(b"PASS-1\r").unwrap();
        }
        let mut w = std::fs::OpenOptions::new().write(true).open(&link).unwrap();
        w.write_all(b"PASS-2\r").unwrap();
        let mut got = Vec::new();
        while got.len() < 2 {
            match rx.recv().unwrap() {
                ScannerEvent::Line { text, .. } => got.push(text),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(got, vec!["PASS-1", "PASS-2"]);
        assert_eq!(handle.stats.debounced.load(Ordering::SeqCst), 1);
        drop(handle);
        assert!(!link.exists(), "link removed at stop");
    }
}

//! The serial QR scanner: frames lines (CR, LF or CRLF, or an idle gap for scanners that send
//! no terminator), bounds them, drops garbage with one warning per line, debounces the same
//! text, survives the device vanishing, and can configure a GM65-class scanner at start.
//!
//! [`LineFramer`] and [`Debounce`] are pure; [`spawn`] runs them on a reader thread over a real
//! serial port or over a pseudo-terminal the gate opens itself (the simulated scanner).

use crate::config::ScannerConfig;
use crate::core::{EarlyCheck, PublishedRing};
use crate::gm65::{Event, Options, Output, Setup};
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

    /// Forgets the line received so far (it came at a speed the port has left).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.overflow = 0;
        self.not_text = false;
        self.last_byte = None;
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
    /// A GM65-class module could not be set up, did not answer, or lost its settings; the
    /// gate keeps reading lines.
    Misconfigured {
        /// What is wrong, for the log and the desk.
        reason: String,
    },
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
    /// The baud rate the port is read at.
    pub baud: AtomicU64,
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

/// The line state of one open port.
struct Lines {
    framer: LineFramer,
    debounce: Debounce,
    early: Option<EarlyCheck>,
}

/// The GM65 setup the config asks for: probe the target speed, the configured one, then the
/// factory default; read at the configured speed when nothing answers.
pub fn gm65_options(config: &ScannerConfig) -> Options {
    let mut probe = vec![GM65_BAUD];
    for baud in [config.baud, 9600] {
        if !probe.contains(&baud) {
            probe.push(baud);
        }
    }
    Options {
        same_code_delay: config.gm65_same_code_delay,
        baud: GM65_BAUD,
        probe,
        fallback_baud: config.baud,
        crc: true,
    }
}

/// The speed a GM65 is switched to: a 122-character credential takes 11 ms on the wire
/// instead of 128 ms at 9600.
pub const GM65_BAUD: u32 = 115200;

fn alarm_reason(event: &Event) -> String {
    match event {
        Event::NoAnswer { .. } => "scanner does not answer GM65 setup commands".into(),
        Event::Reset => "scanner lost its settings; set up again".into(),
        Event::Failed { what } => format!("scanner setup failed: {what}"),
        other => format!("{other:?}"),
    }
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
                self.stats.connected.store(true, Ordering::SeqCst);
                let _ = self.read_until_lost(&mut master, None);
            }
            Source::Port(path) => self.run_port(&path),
        }
    }

    fn run_port(&self, path: &str) {
        let mut lost_reported = false;
        while !self.stop.load(Ordering::SeqCst) {
            match self.open_port(path) {
                Ok((mut port, setup)) => {
                    if lost_reported {
                        (self.sink)(ScannerEvent::Restored);
                    }
                    tracing::info!(port = path, "scanner open");
                    self.stats.connected.store(true, Ordering::SeqCst);
                    let reason = match self.read_until_lost(&mut port, setup) {
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

    /// Opens the port, with the GM65 setup when it is on (it starts probing at once).
    fn open_port(&self, path: &str) -> Result<(TTYPort, Option<Setup>), ScannerError> {
        let setup = self
            .config
            .gm65_setup
            .then(|| Setup::new(gm65_options(&self.config), Instant::now()));
        let baud = setup.as_ref().map_or(self.config.baud, Setup::baud);
        let port = serialport::new(path, baud)
            .data_bits(serialport::DataBits::Eight)
            .parity(serialport::Parity::None)
            .stop_bits(serialport::StopBits::One)
            .flow_control(serialport::FlowControl::None)
            .timeout(self.poll_interval())
            .open_native()
            .map_err(|source| ScannerError::Port {
                path: path.to_owned(),
                source,
            })?;
        self.stats.baud.store(u64::from(baud), Ordering::Relaxed);
        self.stats.setup_ok.store(false, Ordering::SeqCst);
        Ok((port, setup))
    }

    /// Reads until the device fails (`Err`) or the reader is stopped (`Ok`), driving the GM65
    /// setup, if any, between reads.
    fn read_until_lost(&self, port: &mut TTYPort, mut setup: Option<Setup>) -> io::Result<()> {
        let idle_gap =
            (self.config.idle_gap_ms > 0).then(|| Duration::from_millis(self.config.idle_gap_ms));
        let mut lines = Lines {
            framer: LineFramer::new(self.config.max_line, idle_gap),
            debounce: Debounce::new(Duration::from_millis(self.config.debounce_ms)),
            early: None,
        };
        let mut buf = [0u8; 256];
        while !self.stop.load(Ordering::SeqCst) {
            if let Some(setup) = setup.as_mut() {
                self.drive_setup(port, setup, &mut lines)?;
            }
            // Wake for the setup's next timer as well as for the idle gap.
            let wait =
                setup
                    .as_ref()
                    .and_then(Setup::poll_timeout)
                    .map_or(self.poll_interval(), |t| {
                        t.saturating_duration_since(Instant::now())
                            .clamp(Duration::from_millis(1), self.poll_interval())
                    });
            port.set_timeout(wait)?;
            match port.read(&mut buf) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "device closed",
                    ));
                }
                Ok(n) => self.consume(&buf[..n], setup.as_mut(), &mut lines),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    let now = Instant::now();
                    if let Some(frame) = lines.framer.idle(now) {
                        self.deliver(frame, now, &mut lines.debounce, lines.early.take());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
            if let Some(setup) = setup.as_mut() {
                setup.handle_timeout(Instant::now());
            }
        }
        Ok(())
    }

    /// Hands received bytes to the setup (which keeps the module's replies) and the rest to
    /// the framer.
    fn consume(&self, bytes: &[u8], mut setup: Option<&mut Setup>, lines: &mut Lines) {
        let now = Instant::now();
        for &b in bytes {
            let b = match setup.as_deref_mut() {
                Some(setup) => setup.input(b, now),
                None => Some(b),
            };
            if let Some(frame) = b.and_then(|b| lines.framer.push(b, now)) {
                self.deliver(frame, now, &mut lines.debounce, lines.early.take());
            }
        }
        self.check_early(&lines.framer, &mut lines.early);
    }

    /// Performs what the setup asks for: speed changes, commands (after draining what was
    /// already received, so a late reply is not taken for the new command's), reports.
    fn drive_setup(
        &self,
        port: &mut TTYPort,
        setup: &mut Setup,
        lines: &mut Lines,
    ) -> io::Result<()> {
        while let Some(output) = setup.poll_output() {
            match output {
                Output::Baud(baud) => {
                    port.set_baud_rate(baud).map_err(io::Error::from)?;
                    // What is pending came at the old speed: noise that would spoil the next
                    // scan's line.
                    lines.framer.clear();
                    lines.early = None;
                    self.stats.baud.store(u64::from(baud), Ordering::Relaxed);
                    tracing::debug!(baud, "scanner port speed");
                }
                Output::Send(frame) => {
                    let mut buf = [0u8; 256];
                    port.set_timeout(Duration::ZERO)?;
                    while port.bytes_to_read().map_err(io::Error::from)? > 0 {
                        match port.read(&mut buf) {
                            Ok(0) => break,
                            Ok(n) => self.consume(&buf[..n], Some(&mut *setup), lines),
                            Err(e) if e.kind() == io::ErrorKind::TimedOut => break,
                            Err(e) => return Err(e),
                        }
                    }
                    port.write_all(&frame)?;
                }
                Output::Event(event) => self.report(event),
            }
        }
        Ok(())
    }

    fn report(&self, event: Event) {
        match &event {
            Event::Found { baud } => tracing::info!(baud, "GM65 scanner answered"),
            Event::Configured { baud, written } if written.is_empty() => {
                self.stats.setup_ok.store(true, Ordering::SeqCst);
                tracing::info!(baud, "GM65 scanner holds every setting the gate needs");
            }
            Event::Configured { baud, written } => {
                self.stats.setup_ok.store(true, Ordering::SeqCst);
                tracing::info!(
                    baud,
                    written = written.join(", "),
                    "GM65 scanner set up and saved to its EEPROM"
                );
            }
            Event::NoAnswer { baud } => tracing::error!(
                baud,
                "the scanner does not answer GM65 commands at any speed: it is not a GM65-class \
                 module, or its RX line is not wired; reading lines without setup (setting \
                 barcodes may be enabled; set gm65_setup = false for a scanner of another kind)"
            ),
            Event::Reset => tracing::error!(
                "the GM65 scanner lost its settings (a reset, or a module swapped): setting \
                 barcodes were open; setting it up again"
            ),
            Event::Failed { what } => tracing::error!(
                what,
                "GM65 setup: not acknowledged after every attempt; setting barcodes may be \
                 enabled; trying again at the next check"
            ),
        }
        if event.is_alarm() {
            self.stats.setup_ok.store(false, Ordering::SeqCst);
            (self.sink)(ScannerEvent::Misconfigured {
                reason: alarm_reason(&event),
            });
        }
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
